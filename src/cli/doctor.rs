//! `shadcache doctor`: checks each link a user depends on, in the order they depend on each
//! other (config, socket, daemon, L2, GitHub), and says what to do about each that fails.
//! Exit 0 when all hold (warnings allowed), 1 otherwise. GitHub is asked directly, from this
//! process, at `/rate_limit` (which costs no quota), so it is checked with no daemon too.

use std::fmt::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client::{Client, ClientError};
use crate::config::{ConfigError, Loaded};
use crate::github::http::{Fetched, Http, HttpConfig, Origin};
use crate::protocol::{PROTOCOL_VERSION, Request, Response, Stats, TierName};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// The findings so far, printed as they come.
struct Report {
    failures: usize,
}

impl Report {
    fn say(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        let label = match verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        if verdict == Verdict::Fail {
            self.failures += 1;
        }
        let mut line = format!("{label:<5} {what:<7} {detail}");
        if let Some(fix) = fix {
            let _ = write!(line, "\n{:14}-> {fix}", "");
        }
        println!("{line}");
    }
}

pub async fn run(loaded: Result<Loaded, ConfigError>) -> ExitCode {
    println!("shadcache doctor {}", env!("CARGO_PKG_VERSION"));
    let mut report = Report { failures: 0 };
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            report.say(
                Verdict::Fail,
                "config",
                &e.to_string(),
                Some(
                    "fix the file (or the SHADCACHE_* variable) it names; the other checks need it",
                ),
            );
            return ExitCode::from(1);
        }
    };
    let config = &loaded.config;
    let found = if loaded.file_found {
        "parsed"
    } else {
        "not found, defaults apply"
    };
    report.say(
        Verdict::Ok,
        "config",
        &format!("{} ({found})", loaded.file.display()),
        None,
    );
    check_socket(&mut report, &config.socket);
    let stats = check_daemon(&mut report, config).await;
    check_l2(&mut report, config, stats.as_ref());
    check_github(&mut report, config).await;
    check_registry(&mut report, config, stats.is_some()).await;
    print_mcp_snippet(config);
    if report.failures == 0 {
        println!("\nall checks hold");
        ExitCode::SUCCESS
    } else {
        println!(
            "\n{} check{} failed",
            report.failures,
            if report.failures == 1 { "" } else { "s" }
        );
        ExitCode::from(1)
    }
}

const START: &str = "start it: `systemctl --user start shadcache.socket` (installed with systemd/install.sh) or `shadcache start`";

fn check_socket(report: &mut Report, socket: &Path) {
    let shown = socket.display();
    let meta = match std::fs::symlink_metadata(socket) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.say(
                Verdict::Fail,
                "socket",
                &format!("nothing at {shown}"),
                Some(START),
            );
            return;
        }
        Err(e) => {
            report.say(
                Verdict::Fail,
                "socket",
                &format!("cannot look at {shown}: {e}"),
                Some("check the permissions of its directory"),
            );
            return;
        }
    };
    if !meta.file_type().is_socket() {
        report.say(
            Verdict::Fail,
            "socket",
            &format!("{shown} is not a socket"),
            Some("remove it (or set `socket` elsewhere), then start the daemon"),
        );
        return;
    }
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        report.say(
            Verdict::Fail,
            "socket",
            &format!("{shown} belongs to uid {}, not you (uid {me})", meta.uid()),
            Some("each user runs their own daemon: set `socket` to a path of your own"),
        );
        return;
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        report.say(
            Verdict::Warn,
            "socket",
            &format!(
                "{shown}, mode {mode:04o}: others may try to connect (the daemon refuses them)"
            ),
            Some(&format!("chmod 600 {shown}")),
        );
    } else {
        report.say(
            Verdict::Ok,
            "socket",
            &format!("{shown} (mode {mode:04o}, yours)"),
            None,
        );
    }
}

async fn check_daemon(report: &mut Report, config: &crate::config::Config) -> Option<Stats> {
    let deadline = crate::client::deadline(config);
    let mut client = match Client::connect(&config.socket, deadline).await {
        Ok(client) => client,
        Err(ClientError::NoDaemon(path)) => {
            let detail = format!("no daemon answers at {}", path.display());
            report.say(Verdict::Fail, "daemon", &detail, Some(START));
            return None;
        }
        Err(e) => {
            report.say(
                Verdict::Fail,
                "daemon",
                &e.to_string(),
                Some("see its log: `journalctl --user -u shadcache.service`, or shadcache-daemon.log beside the socket"),
            );
            return None;
        }
    };
    let ours = env!("CARGO_PKG_VERSION");
    let daemon = client.daemon.clone();
    if daemon.daemon_version != ours || daemon.protocol != PROTOCOL_VERSION {
        report.say(
            Verdict::Fail,
            "daemon",
            &format!(
                "pid {} runs version {} (protocol {}), this CLI is {ours} (protocol {PROTOCOL_VERSION})",
                daemon.pid, daemon.daemon_version, daemon.protocol
            ),
            Some("restart it on the installed binary: `systemctl --user restart shadcache.service`, or `shadcache stop && shadcache start`"),
        );
    } else {
        report.say(
            Verdict::Ok,
            "daemon",
            &format!("answers (pid {}, version {ours})", daemon.pid),
            None,
        );
    }
    match client.request(&Request::Stats).await {
        Ok(Response::Stats(stats)) => Some(*stats),
        Ok(other) => {
            report.say(
                Verdict::Fail,
                "daemon",
                &format!("answered stats with {other:?}"),
                None,
            );
            None
        }
        Err(e) => {
            report.say(Verdict::Fail, "daemon", &format!("stats: {e}"), None);
            None
        }
    }
}

fn check_l2(report: &mut Report, config: &crate::config::Config, stats: Option<&Stats>) {
    use super::stats::bytes;
    if !config.l2.enabled {
        report.say(
            Verdict::Ok,
            "L2",
            "disabled (l2.enabled = false): the cache lives in memory only",
            None,
        );
        return;
    }
    let shared = config.l2.backend == crate::config::L2Backend::Postgres;
    // The disk the embedded database lives on (or would, once the dir exists).
    let disk = (!shared).then(|| {
        let dir = config
            .data_dir
            .ancestors()
            .find(|d| d.exists())
            .unwrap_or(Path::new("/"));
        (dir, crate::database::free_bytes(dir))
    });
    let reserve = crate::database::WRITE_RESERVE;
    let tier = stats.and_then(|s| s.tiers.iter().find(|t| t.tier == TierName::Database));
    let mut detail = match tier {
        Some(t) => format!(
            "{}; {} stored of {}",
            t.state,
            bytes(t.bytes),
            bytes(t.capacity_bytes)
        ),
        None if stats.is_some() => "not running in the daemon".to_owned(),
        None => "state unknown (no daemon to ask)".to_owned(),
    };
    if let Some((dir, Some(free))) = disk {
        let _ = write!(
            detail,
            "; {} free on {} (writes need {})",
            bytes(free),
            dir.display(),
            bytes(reserve)
        );
    }
    if shared {
        let _ = write!(detail, "; shared PostgreSQL server");
    }
    let up = tier.is_some_and(|t| t.state == "up");
    let low = matches!(disk, Some((_, Some(free))) if free < reserve);
    let (verdict, fix) = if low {
        (
            Verdict::Fail,
            Some(
                "free space on that disk (or move data_dir): below the reserve, writes are held in memory only",
            ),
        )
    } else if tier.is_some() && !up && tier.is_some_and(|t| t.state != "opening") {
        let fix = if shared {
            "check l2.url, the server and its TLS settings (the reason above); the daemon retries on its own"
        } else {
            "the reason above names the data dir's problem; the daemon retries on its own"
        };
        (Verdict::Fail, Some(fix))
    } else {
        (Verdict::Ok, None)
    };
    report.say(verdict, "L2", &detail, fix);
}

async fn check_github(report: &mut Report, config: &crate::config::Config) {
    let github = &config.github;
    if !github.enabled {
        report.say(
            Verdict::Ok,
            "GitHub",
            "disabled (github.enabled = false): misses stay misses",
            None,
        );
        return;
    }
    let http = match Http::new(HttpConfig::from_config(github)) {
        Ok(http) => http,
        Err(e) => {
            report.say(Verdict::Fail, "GitHub", &e, None);
            return;
        }
    };
    let token = if github.token().is_some() {
        "token set"
    } else {
        "no token (60 API calls an hour)"
    };
    let body = match http.get(Origin::Api, "/rate_limit", None).await.0 {
        Ok(Fetched::Body { bytes, .. }) => bytes,
        Ok(Fetched::RateLimited) => {
            report.say(
                Verdict::Fail,
                "GitHub",
                &format!("{} answers with a rate limit; {token}", github.api_url),
                Some("wait for the reset, or set a token: github.token or SHADCACHE_GITHUB_TOKEN"),
            );
            return;
        }
        Ok(other) => {
            report.say(
                Verdict::Fail,
                "GitHub",
                &format!("{}/rate_limit answered {other:?}", github.api_url),
                Some("check github.api_url (GitHub Enterprise: https://HOST/api/v3)"),
            );
            return;
        }
        Err(e) => {
            report.say(
                Verdict::Fail,
                "GitHub",
                &format!("{} ({}); {token}", e, github.api_url),
                Some(
                    "check the network or proxy; cached content is still served, stale if need be",
                ),
            );
            return;
        }
    };
    let state: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let core = &state["resources"]["core"];
    let (Some(limit), Some(remaining)) = (core["limit"].as_u64(), core["remaining"].as_u64())
    else {
        report.say(
            Verdict::Fail,
            "GitHub",
            &format!("{}/rate_limit is not GitHub's answer", github.api_url),
            Some("check github.api_url"),
        );
        return;
    };
    let resets = core["reset"].as_u64().map(reset_time).unwrap_or_default();
    let detail = format!(
        "reachable at {}; {token}; quota {remaining}/{limit}{resets}",
        github.api_url
    );
    if remaining <= github.quota_reserve {
        report.say(
            Verdict::Fail,
            "GitHub",
            &detail,
            Some(if github.token().is_some() {
                "the quota is spent (another tool may share the token): wait for the reset"
            } else {
                "the quota is spent: set a token (github.token or SHADCACHE_GITHUB_TOKEN) for 5,000 calls an hour"
            }),
        );
    } else if github.token().is_none() {
        report.say(
            Verdict::Warn,
            "GitHub",
            &detail,
            Some("set github.token or SHADCACHE_GITHUB_TOKEN in the daemon's environment for 5,000 calls an hour"),
        );
    } else {
        report.say(Verdict::Ok, "GitHub", &detail, None);
    }
}

/// `, resets at 15:42:00 UTC (in 12 min)`.
fn reset_time(reset_unix: u64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(reset_unix);
    let clock = humantime::format_rfc3339_seconds(at).to_string();
    let clock = clock.get(11..19).unwrap_or(&clock).to_owned();
    match at.duration_since(SystemTime::now()) {
        Ok(left) => format!(
            ", resets at {clock} UTC (in {} min)",
            left.as_secs().div_ceil(60)
        ),
        Err(_) => format!(", reset at {clock} UTC"),
    }
}

/// The registry listener answers behind its secret, and the shell's `REGISTRY_URL` (what the
/// `shadcn` CLI and `shadcn mcp` read) points at it.
async fn check_registry(report: &mut Report, config: &crate::config::Config, daemon_up: bool) {
    const WHAT: &str = "registry";
    if !config.registry.enabled {
        report.say(
            Verdict::Ok,
            WHAT,
            "disabled (registry.enabled = false)",
            None,
        );
        return;
    }
    if !daemon_up {
        report.say(Verdict::Warn, WHAT, "not checked: no daemon", None);
        return;
    }
    let info = match Client::connect(&config.socket, crate::client::deadline(config)).await {
        Ok(mut client) => match client.request(&Request::Registry).await {
            Ok(Response::Registry(info)) => info,
            other => {
                report.say(
                    Verdict::Fail,
                    WHAT,
                    &format!("the daemon did not say where it serves: {other:?}"),
                    Some("a daemon older than this CLI? restart it"),
                );
                return;
            }
        },
        Err(e) => {
            report.say(Verdict::Fail, WHAT, &e.to_string(), None);
            return;
        }
    };
    let Some(base) = info.base_url else {
        report.say(
            Verdict::Fail,
            WHAT,
            &format!(
                "the listener is off: {}",
                info.problem.as_deref().unwrap_or("no reason given")
            ),
            Some("set registry.listen to a free 127.0.0.1 port, then restart the daemon"),
        );
        return;
    };
    let shown = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(root, _)| root);
    let answer = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string());
    let answer = match answer {
        Ok(http) => http
            .get(format!("{base}/"))
            .send()
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match answer {
        Ok(answer) if answer.status().is_success() => {
            report.say(
                Verdict::Ok,
                WHAT,
                &format!("serving on {shown}/<secret>"),
                None,
            );
        }
        Ok(answer) => {
            report.say(
                Verdict::Fail,
                WHAT,
                &format!(
                    "{shown} answered {} (another program on that port?)",
                    answer.status()
                ),
                Some("set registry.listen to a free 127.0.0.1 port, then restart the daemon"),
            );
            return;
        }
        Err(e) => {
            report.say(Verdict::Fail, WHAT, &format!("{shown}: {e}"), None);
            return;
        }
    }
    let setup =
        "eval \"$(shadcache registry env)\" (in your shell profile, or the MCP client's env)";
    match std::env::var("REGISTRY_URL") {
        Ok(url)
            if crate::registry::file::BUILT_IN
                .iter()
                .any(|s| url.trim_end_matches('/') == format!("{base}/{s}")) =>
        {
            report.say(Verdict::Ok, WHAT, "REGISTRY_URL points here", None);
        }
        Ok(url) if url.starts_with(shown) => report.say(
            Verdict::Warn,
            WHAT,
            "REGISTRY_URL points at this port with another secret or path",
            Some(setup),
        ),
        Ok(url) => report.say(
            Verdict::Warn,
            WHAT,
            &format!("REGISTRY_URL is {url}, not shadcache: the shadcn CLI goes to it directly"),
            Some(setup),
        ),
        Err(_) => report.say(
            Verdict::Warn,
            WHAT,
            "REGISTRY_URL is not set: the shadcn CLI and `shadcn mcp` go to ui.shadcn.com directly",
            Some(setup),
        ),
    }
    let proxied = ["HTTP_PROXY", "http_proxy"]
        .iter()
        .any(|v| std::env::var(v).is_ok());
    let bypass = ["NO_PROXY", "no_proxy"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .any(|list| {
            list.split(',')
                .any(|h| matches!(h.trim(), "127.0.0.1" | "localhost"))
        });
    if proxied && !bypass {
        report.say(
            Verdict::Warn,
            WHAT,
            "HTTP_PROXY is set and NO_PROXY does not name 127.0.0.1: the CLI would send loopback requests to the proxy",
            Some(setup),
        );
    }
}

fn print_mcp_snippet(config: &crate::config::Config) {
    let me = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "shadcache".to_owned());
    let mut args = vec!["mcp".to_owned(), "--framework".to_owned()];
    match config.github.framework.split_once(':') {
        Some((framework, library)) => args.extend([
            framework.to_owned(),
            "--ui-library".to_owned(),
            library.to_owned(),
        ]),
        None => args.push(config.github.framework.clone()),
    }
    args.push("--start-daemon".to_owned());
    let snippet = serde_json::json!({
        "mcpServers": { "shadcn-ui": { "command": me, "args": args } }
    });
    println!(
        "\nMCP clients (Claude Desktop, Claude Code's .mcp.json, Cursor's mcp.json) take:\n{}",
        serde_json::to_string_pretty(&snippet).expect("JSON")
    );
}
