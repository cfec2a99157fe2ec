//! The configuration the daemon runs on: the serde mirror of the file (`FileConfig`, every
//! section optional, unknown keys refused) and the validated [`Config`] with every default
//! filled in. The sections are shared by both; only the paths differ, because their defaults
//! depend on the environment.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ahead::{PrefetchConfig, RefreshAheadConfig};
use super::by_kind::{StrategyConfig, TtlConfig};
use super::size::ByteSize;

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
    #[serde(default)]
    pub registry: RegistryConfig,
    #[serde(default)]
    pub prefetch: PrefetchConfig,
    #[serde(default)]
    pub refresh_ahead: RefreshAheadConfig,
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
    pub registry: RegistryConfig,
    pub prefetch: PrefetchConfig,
    pub refresh_ahead: RefreshAheadConfig,
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
    /// After this long with no request, clean file-backed pages and free heap go back to
    /// the kernel (`0s`: never).
    #[serde(with = "humantime_serde")]
    pub idle_release: Duration,
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
            idle_release: Duration::from_secs(300),
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

/// When the host syncs L2's data dir to disk (`l2.sync`; see `database::durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    Off,
    Interval,
    Always,
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

/// The shadcn registry protocol: the origins it reads (`ui.shadcn.com/r` and the ports, the
/// directory's namespaces, the user's own) and the loopback listener that serves them back to
/// the `shadcn` CLI and `shadcn mcp`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// Off: neither the registry origin nor the listener runs.
    pub enabled: bool,
    /// `127.0.0.1:PORT` (or `[::1]:PORT`); port 0 picks a free one. Loopback only.
    pub listen: String,
    /// The built-in `@shadcn` registry (what `REGISTRY_URL` replaces for the CLI).
    pub shadcn_url: String,
    pub svelte_url: String,
    pub vue_url: String,
    /// Serve the namespaced registries of the shadcn directory (`registries.json` of
    /// `shadcn_url`) as well as those configured below.
    pub directory: bool,
    /// Registries of your own, by namespace: `"@acme" = "https://acme.dev/r/{name}.json"`, or
    /// `{ url = "...", headers = { Authorization = "Bearer ${ACME_TOKEN}" } }`. `${VAR}` is
    /// taken from the daemon's environment; header values are never logged.
    pub namespaces: std::collections::BTreeMap<String, NamespaceConfig>,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// From sending a request to the first byte of its answer.
    #[serde(with = "humantime_serde")]
    pub first_byte_timeout: Duration,
    /// Silence allowed in the middle of an answer's body.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A key's whole fetch; at most 80 % of `daemon.request_timeout`, whatever is set here.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Larger answers are refused (the largest item, `dashboard-01`, is 77 KB; a catalog 210 KB).
    pub max_body: ByteSize,
    /// Requests in flight to the registries at once.
    pub max_concurrent: u64,
    /// Pace of requests to the registries (a burst of as many is allowed).
    pub requests_per_second: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            enabled: true,
            listen: "127.0.0.1:7733".into(),
            shadcn_url: "https://ui.shadcn.com/r".into(),
            svelte_url: "https://shadcn-svelte.com/registry".into(),
            vue_url: "https://shadcn-vue.com/r".into(),
            directory: true,
            namespaces: Default::default(),
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(15),
            max_body: ByteSize::mib(4),
            max_concurrent: 8,
            requests_per_second: 20,
        }
    }
}

/// One namespaced registry of the user's: its URL template (`{name}`, and `{style}` if it
/// has styles) and the headers sent with every request to it.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum NamespaceConfig {
    Url(String),
    Full {
        url: String,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, Secret>,
    },
}

impl NamespaceConfig {
    pub fn url(&self) -> &str {
        match self {
            NamespaceConfig::Url(url) | NamespaceConfig::Full { url, .. } => url,
        }
    }

    pub fn headers(&self) -> impl Iterator<Item = (&str, &Secret)> {
        let headers = match self {
            NamespaceConfig::Url(_) => None,
            NamespaceConfig::Full { headers, .. } => Some(headers),
        };
        headers
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.as_str(), value))
    }
}

impl std::fmt::Debug for NamespaceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.headers().map(|(name, _)| name).collect();
        f.debug_struct("Namespace")
            .field("url", &self.url())
            .field("headers", &names)
            .finish()
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
