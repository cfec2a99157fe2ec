//! The configuration the daemon runs on: the serde mirror of the file (`FileConfig`, every
//! section optional, unknown keys refused) and the validated [`Config`] with every default
//! filled in. The sections are shared by both; only the paths differ, because their defaults
//! depend on the environment.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::size::ByteSize;
use crate::database::SyncMode;

/// The largest frame the codec will ever accept, whatever `daemon.max_frame_size` says.
pub const MAX_FRAME_CEILING: ByteSize = ByteSize::mib(64);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub daemon: DaemonConfig,
    #[serde(default)]
    pub l1: L1Config,
    #[serde(default)]
    pub l2: L2Config,
    #[serde(default)]
    pub github: GithubConfig,
    #[serde(default)]
    pub ttl: TtlConfig,
    #[serde(default)]
    pub strategy: StrategyConfig,
    #[serde(default)]
    pub breaker: BreakerConfig,
    #[serde(default)]
    pub write_behind: WriteBehindConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    pub daemon: DaemonConfig,
    pub l1: L1Config,
    pub l2: L2Config,
    pub github: GithubConfig,
    pub ttl: TtlConfig,
    pub strategy: StrategyConfig,
    pub breaker: BreakerConfig,
    pub write_behind: WriteBehindConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// A tracing filter (`info`, `shadcache=debug`); `RUST_LOG`, when set, wins.
    pub log_level: String,
    pub max_connections: u64,
    pub max_frame_size: ByteSize,
    /// Requests one connection may have in flight; further frames wait unread.
    pub max_pipeline: u64,
    /// Time allowed to receive a whole frame once its first byte arrived (and the handshake).
    #[serde(with = "humantime_serde")]
    pub frame_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// On SIGTERM: how long in-flight requests may take before connections are cut.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    /// Child restarts allowed within `restart_window` before the daemon gives up and exits.
    pub restart_limit: u64,
    #[serde(with = "humantime_serde")]
    pub restart_window: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            log_level: "info".into(),
            max_connections: 1024,
            max_frame_size: ByteSize::mib(16),
            max_pipeline: 32,
            frame_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            restart_limit: 5,
            restart_window: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct L1Config {
    /// Byte budget for values plus keys and per-entry overhead.
    pub max_bytes: ByteSize,
    /// How often expired entries are swept out of memory.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
}

impl Default for L1Config {
    fn default() -> Self {
        L1Config {
            max_bytes: ByteSize::mib(64),
            sweep_interval: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct L2Config {
    /// Off: the daemon runs on L1 (and L3) only and keeps nothing across restarts.
    pub enabled: bool,
    /// Budget of stored bytes (values, keys and row overhead; not files on disk).
    pub max_bytes: ByteSize,
    /// Expired rows are kept as stale copies this long, then deleted by maintenance.
    #[serde(with = "humantime_serde")]
    pub stale_limit: Duration,
    #[serde(with = "humantime_serde")]
    pub maintenance_interval: Duration,
    /// How long a write waits for L2 while it is opening before it is answered `Memory`.
    #[serde(with = "humantime_serde")]
    pub open_wait: Duration,
    /// Postgres `shared_buffers` for the embedded database.
    pub shared_buffers: String,
    /// How often reads' access tracking (last access, count) is written, batched.
    #[serde(with = "humantime_serde")]
    pub access_flush_interval: Duration,
    /// `off`, `interval` or `always`: when the host syncs the data dir to disk (the embedded
    /// database itself never does). See README, "Durability".
    pub sync: SyncMode,
    #[serde(with = "humantime_serde")]
    pub sync_interval: Duration,
    /// `pglite` (embedded, in the data dir) or `postgres` (a real server at `url`, which
    /// several daemons may share).
    pub backend: L2Backend,
    /// For `postgres`: a libpq-style URL or key=value string
    /// (`postgres://shadcache@db.internal/shadcache`, `host=/run/postgresql dbname=shadcache`).
    pub url: String,
    /// For `postgres`, when the URL has none; better from `SHADCACHE_L2_PASSWORD`. Never logged.
    pub password: Secret,
    /// For `postgres` with `sslmode=verify-ca` or `verify-full` in `url`: the CA's PEM file
    /// the server's certificate must chain to (wins over the URL's `sslrootcert`).
    pub ca_file: PathBuf,
    /// For `postgres`: connections to the server (the embedded database uses one).
    pub pool_size: u64,
    /// How long a query waits for room in the pool before it fails.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L2Backend {
    Pglite,
    Postgres,
}

/// A string that never shows in `Debug` output (logs).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn get(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|s| !s.is_empty())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "<redacted>"
        })
    }
}

impl Default for L2Config {
    fn default() -> Self {
        L2Config {
            enabled: true,
            max_bytes: ByteSize::mib(256),
            stale_limit: Duration::from_secs(30 * 86_400),
            maintenance_interval: Duration::from_secs(600),
            open_wait: Duration::from_secs(5),
            shared_buffers: "16MB".into(),
            access_flush_interval: Duration::from_secs(1),
            sync: SyncMode::Interval,
            sync_interval: Duration::from_secs(1),
            backend: L2Backend::Pglite,
            url: String::new(),
            password: Secret::default(),
            ca_file: PathBuf::new(),
            pool_size: 4,
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

/// `Debug` is written by hand: the token must never reach a log line.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// Off: no upstream; misses stay misses (offline use).
    pub enabled: bool,
    /// The REST API origin (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: String,
    /// The raw file origin.
    pub raw_url: String,
    /// Precedence, highest first: `SHADCACHE_GITHUB_TOKEN`, `GITHUB_PERSONAL_ACCESS_TOKEN`,
    /// `GITHUB_TOKEN`, this key. Never logged; redacted by `shadcache config`.
    pub token: String,
    /// To open a connection to GitHub.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// From sending a request to the first byte of its answer (connecting included).
    #[serde(with = "humantime_serde")]
    pub first_byte_timeout: Duration,
    /// Silence allowed in the middle of an answer's body.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A key's whole fetch from GitHub, every request it needs; shorter than
    /// `daemon.request_timeout`, so a client hears why GitHub failed, not a timeout.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Larger answers are refused (GitHub's own tree listing limit is 7 MB).
    pub max_body: ByteSize,
    /// Upstream requests in flight at once.
    pub max_concurrent: u64,
    /// Pace of upstream requests (a burst of as many is allowed).
    pub requests_per_second: u64,
    /// Below this many remaining API calls, only requests a client waits for go upstream.
    pub quota_reserve: u64,
    /// The framework of domain requests (`shadcache component`, MCP tools) that name none:
    /// `react`, `react:base`, `svelte`, `vue` or `react-native`.
    pub framework: String,
    /// Registries to warm in the background at start: comma-separated frameworks, or `all`;
    /// empty for none.
    pub warm: String,
}

impl std::fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubConfig")
            .field("enabled", &self.enabled)
            .field("api_url", &self.api_url)
            .field("raw_url", &self.raw_url)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("max_concurrent", &self.max_concurrent)
            .field("requests_per_second", &self.requests_per_second)
            .field("quota_reserve", &self.quota_reserve)
            .field("framework", &self.framework)
            .field("warm", &self.warm)
            .finish()
    }
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            enabled: true,
            api_url: "https://api.github.com".into(),
            raw_url: "https://raw.githubusercontent.com".into(),
            token: String::new(),
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(20),
            max_body: ByteSize::mib(8),
            max_concurrent: 8,
            requests_per_second: 20,
            quota_reserve: 10,
            framework: "react".into(),
            warm: String::new(),
        }
    }
}

impl GithubConfig {
    pub fn token(&self) -> Option<&str> {
        Some(self.token.as_str()).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let config = GithubConfig {
            token: "ghp_canary".into(),
            ..GithubConfig::default()
        };
        let text = format!("{config:?}");
        assert!(
            !text.contains("ghp_canary") && text.contains("<redacted>"),
            "{text}"
        );
    }
}

/// Time to live by key kind (the key's first segment), for sets that name no TTL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TtlConfig {
    #[serde(with = "humantime_serde")]
    pub default: Duration,
    #[serde(with = "humantime_serde")]
    pub component: Duration,
    #[serde(with = "humantime_serde")]
    pub demo: Duration,
    #[serde(with = "humantime_serde")]
    pub metadata: Duration,
    #[serde(with = "humantime_serde")]
    pub block: Duration,
    #[serde(with = "humantime_serde")]
    pub list: Duration,
    #[serde(with = "humantime_serde")]
    pub tree: Duration,
    /// `theme:*`: tweakcn's theme presets.
    #[serde(with = "humantime_serde")]
    pub theme: Duration,
}

const HOUR: Duration = Duration::from_secs(3600);

impl Default for TtlConfig {
    fn default() -> Self {
        TtlConfig {
            default: 24 * HOUR,
            component: 24 * HOUR,
            demo: 24 * HOUR,
            metadata: 24 * HOUR,
            block: 24 * HOUR,
            list: 6 * HOUR,
            tree: 12 * HOUR,
            theme: 24 * HOUR,
        }
    }
}

/// The key kinds that `[ttl]` and `[strategy]` set one by one; any other kind takes `default`.
const KINDS: [&str; 7] = [
    "component",
    "demo",
    "metadata",
    "block",
    "list",
    "tree",
    "theme",
];

/// The value for `kind` among per-kind values given in the order of [`KINDS`].
fn for_kind<T: Copy>(kind: &str, default: T, by_kind: [T; 7]) -> T {
    KINDS
        .iter()
        .position(|k| *k == kind)
        .map_or(default, |i| by_kind[i])
}

impl TtlConfig {
    pub fn for_kind(&self, kind: &str) -> Duration {
        for_kind(kind, self.default, self.by_kind())
    }

    fn by_kind(&self) -> [Duration; 7] {
        [
            self.component,
            self.demo,
            self.metadata,
            self.block,
            self.list,
            self.tree,
            self.theme,
        ]
    }
}

/// How writes and fetched values reach the tiers (README, "Write strategies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// A miss is fetched from GitHub, answered, then stored in L1 and L2; a set is in L1 and
    /// L2 before it is acknowledged (`Stored`).
    ReadThrough,
    /// As read-through, but a fetched value is in L2 before it is answered.
    WriteThrough,
    /// Sets and fetched values go to L1 at once and to L2 through a bounded queue, flushed in
    /// batches; a set is acknowledged `Queued`.
    WriteBehind,
    /// The cache never fetches: a miss is a miss, and the client stores what it fetched.
    CacheAside,
}

/// The strategy by key kind, as `[ttl]` gives the TTL by kind; `default` covers plain keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StrategyConfig {
    pub default: Strategy,
    pub component: Strategy,
    pub demo: Strategy,
    pub metadata: Strategy,
    pub block: Strategy,
    pub list: Strategy,
    pub tree: Strategy,
    pub theme: Strategy,
    /// Answer an expired copy at once and refresh it in the background; off, a read waits
    /// for GitHub and gets the expired copy only if GitHub fails (stale-if-error).
    pub stale_while_revalidate: bool,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            default: Strategy::ReadThrough,
            component: Strategy::ReadThrough,
            demo: Strategy::ReadThrough,
            metadata: Strategy::ReadThrough,
            block: Strategy::ReadThrough,
            list: Strategy::ReadThrough,
            tree: Strategy::ReadThrough,
            theme: Strategy::ReadThrough,
            stale_while_revalidate: true,
        }
    }
}

impl StrategyConfig {
    pub fn for_kind(&self, kind: &str) -> Strategy {
        for_kind(kind, self.default, self.by_kind())
    }

    /// Whether any kind (or the default) uses `strategy`.
    pub fn any(&self, strategy: Strategy) -> bool {
        self.default == strategy || self.by_kind().contains(&strategy)
    }

    fn by_kind(&self) -> [Strategy; 7] {
        [
            self.component,
            self.demo,
            self.metadata,
            self.block,
            self.list,
            self.tree,
            self.theme,
        ]
    }
}

/// The circuit breaker in front of GitHub. Only 5xx answers, timeouts and connection errors
/// count as failures; not-found and rate-limit answers never do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Opens when at least this share of the window's answers failed...
    pub failure_rate: f64,
    /// ...and at least this many failed.
    pub min_failures: u64,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// How long it stays open before letting probes through.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// Fetches let through while half-open.
    pub probes: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_rate: 0.5,
            min_failures: 5,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
            probes: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WriteBehindConfig {
    /// Entries the queue holds; a write that finds it full waits for room.
    pub capacity: u64,
    /// Entries per flush (one L2 transaction).
    pub batch: u64,
    /// A queued write is flushed within this long (the loss window on a crash).
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// How long a write waits for room before it is refused.
    #[serde(with = "humantime_serde")]
    pub full_wait: Duration,
}

impl Default for WriteBehindConfig {
    fn default() -> Self {
        WriteBehindConfig {
            capacity: 10_000,
            batch: 500,
            max_age: Duration::from_millis(100),
            full_wait: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// Range checks serde cannot express. Returns the first problem, naming the key.
    pub(super) fn validate(&self) -> Result<(), String> {
        let d = &self.daemon;
        if d.max_frame_size.bytes() < 4096 || d.max_frame_size > MAX_FRAME_CEILING {
            return Err(format!(
                "daemon.max_frame_size = {}: must be between 4KiB and {MAX_FRAME_CEILING}",
                d.max_frame_size
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&d.log_level) {
            return Err(format!("daemon.log_level = {:?}: {e}", d.log_level));
        }
        if d.max_connections == 0 {
            return Err("daemon.max_connections must be at least 1".into());
        }
        if d.max_pipeline == 0 {
            return Err("daemon.max_pipeline must be at least 1".into());
        }
        if self.l1.max_bytes.bytes() < 64 * 1024 {
            return Err(format!(
                "l1.max_bytes = {}: must be at least 64KiB",
                self.l1.max_bytes
            ));
        }
        let durations = [
            ("daemon.frame_timeout", d.frame_timeout),
            ("daemon.request_timeout", d.request_timeout),
            ("daemon.restart_window", d.restart_window),
            ("l1.sweep_interval", self.l1.sweep_interval),
            ("l2.maintenance_interval", self.l2.maintenance_interval),
            ("l2.access_flush_interval", self.l2.access_flush_interval),
            ("l2.sync_interval", self.l2.sync_interval),
            ("ttl.default", self.ttl.default),
            ("breaker.window", self.breaker.window),
            ("breaker.cooldown", self.breaker.cooldown),
            ("write_behind.max_age", self.write_behind.max_age),
            ("github.connect_timeout", self.github.connect_timeout),
            ("github.first_byte_timeout", self.github.first_byte_timeout),
            ("github.idle_timeout", self.github.idle_timeout),
            ("github.timeout", self.github.timeout),
        ];
        for (key, value) in durations {
            if value.is_zero() {
                return Err(format!("{key} must be longer than zero"));
            }
        }
        // A client must hear the daemon's reason, so the daemon gives up on GitHub first.
        if self.github.enabled && d.request_timeout <= self.github.timeout {
            return Err(format!(
                "daemon.request_timeout = {} must be longer than github.timeout = {}, so that \
                 a client hears why GitHub failed rather than a timeout",
                humantime::format_duration(d.request_timeout),
                humantime::format_duration(self.github.timeout)
            ));
        }
        for (key, url) in [
            ("github.api_url", &self.github.api_url),
            ("github.raw_url", &self.github.raw_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/') {
                return Err(format!(
                    "{key} = {url:?}: must be an http(s) URL without a trailing `/`"
                ));
            }
        }
        if self.github.max_concurrent == 0 || self.github.requests_per_second == 0 {
            return Err(
                "github.max_concurrent and github.requests_per_second must be at least 1".into(),
            );
        }
        if let Err(e) = crate::domain::framework(&self.github.framework) {
            return Err(format!("github.framework: {e}"));
        }
        if let Err(e) = crate::warm::frameworks(&self.github.warm) {
            return Err(format!("github.warm: {e}"));
        }
        if self.l2.pool_size == 0 || self.l2.pool_size > 64 {
            return Err(format!(
                "l2.pool_size = {}: must be between 1 and 64",
                self.l2.pool_size
            ));
        }
        if self.l2.backend == L2Backend::Postgres {
            if self.l2.url.is_empty() {
                return Err("l2.backend = \"postgres\" needs l2.url".into());
            }
            if let Err(e) = crate::database::tls::target(&self.l2.url, &self.l2.ca_file) {
                return Err(format!("l2.url: {e}"));
            }
        }
        let b = &self.breaker;
        if !(b.failure_rate > 0.0 && b.failure_rate <= 1.0) {
            return Err(format!(
                "breaker.failure_rate = {}: must be above 0 and at most 1",
                b.failure_rate
            ));
        }
        if b.min_failures == 0 || b.probes == 0 {
            return Err("breaker.min_failures and breaker.probes must be at least 1".into());
        }
        let w = &self.write_behind;
        if w.capacity == 0 || w.batch == 0 {
            return Err("write_behind.capacity and write_behind.batch must be at least 1".into());
        }
        if self.socket.as_os_str().is_empty() || self.data_dir.as_os_str().is_empty() {
            return Err("socket and data_dir must not be empty".into());
        }
        Ok(())
    }
}
