//! The upstream links `doctor` checks from this process: GitHub (at `/rate_limit`, which costs
//! no quota) and the shadcn registries, with what the daemon's listener says of them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Report, Verdict};
use crate::client::Client;
use crate::github::http::{Fetched, Http, HttpConfig, Origin};
use crate::protocol::{Request, Response};

pub(super) async fn check_github(report: &mut Report, config: &crate::config::Config) {
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
pub(super) async fn check_registry(
    report: &mut Report,
    config: &crate::config::Config,
    daemon_up: bool,
) {
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
