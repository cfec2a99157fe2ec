//! `shadcache doctor`: checks each link a user depends on, in the order they depend on each
//! other (config, socket, daemon, L2, GitHub), and says what to do about each that fails.
//! Exit 0 when all hold (warnings allowed), 1 otherwise. GitHub is asked directly, from this
//! process, at `/rate_limit` (which costs no quota), so it is checked with no daemon too.

mod upstream;

use std::fmt::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;

use crate::client::{Client, ClientError};
use crate::config::{ConfigError, Loaded};
use crate::protocol::{PROTOCOL_VERSION, Request, Response, Stats, TierName};
use upstream::{check_github, check_registry};

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
