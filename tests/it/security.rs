//! What a daemon shared by every MCP client of a user must keep to itself: its files are the
//! user's alone, its GitHub token never leaves it except toward GitHub, and no key or name a
//! client sends can steer a request to another upstream path. (A peer of another uid is
//! refused: `lifecycle::a_peer_with_another_uid_is_refused`.)

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use shadcache::protocol::{Ack, Query, Request, Response};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::{BIN, TestDaemon, base_command};
use crate::runner::tests;

tests![
    the_data_dir_and_the_socket_are_the_users_alone,
    another_user_reaches_nothing_in_the_data_dir: Root,
    a_canary_token_never_appears_in_logs_stats_config_or_errors,
    hostile_keys_and_names_never_reach_an_upstream_url,
];

const LISTING: &str = "/api/repos/shadcn-ui/ui/contents/apps/v4/registry?ref=main";
const RAW: &str = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4";
const CANARY: &str = "ghp_CANARY7d1e0f4c9b2a8e6d5c3b1a0f9e8d7c6b5a";

fn daemon_for(origin: &FakeOrigin, extra: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n{extra}\n\n\
         [ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"trace\"\n",
        origin.github_section()
    ))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A daemon whose L2 has opened (a write was stored durably), and every file in its data dir.
async fn daemon_with_its_files() -> (TestDaemon, Vec<PathBuf>) {
    let d = TestDaemon::start();
    let set = Request::Set {
        key: "note:probe".into(),
        value: "v".into(),
        ttl: None,
    };
    for _ in 0..300 {
        if d.request(set.clone()).await == Response::Stored(Ack::Stored) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut files = Vec::new();
    let mut stack = vec![d.data_dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    (d, files)
}

async fn the_data_dir_and_the_socket_are_the_users_alone() {
    let (d, _) = daemon_with_its_files().await;
    assert_eq!(mode(&d.data_dir), 0o700);
    assert_eq!(mode(&d.socket), 0o600);
    assert_eq!(mode(&d.data_dir.join("daemon.lock")) & 0o077, 0);
}

async fn another_user_reaches_nothing_in_the_data_dir() {
    let (d, files) = daemon_with_its_files().await;
    // PGlite's runtime files keep the modes of the archive they come from; what makes them
    // private is the 0700 data dir above them. Check that as another user would.
    let script = r#"ls "$1" >/dev/null 2>&1 && echo "listed $1"; shift
        for f in "$@"; do cat "$f" >/dev/null 2>&1 && echo "read $f"; done; true"#;
    let out = base_command("runuser")
        .args(["-u", "nobody", "--", "sh", "-c", script, "sh"])
        .arg(&d.data_dir)
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let reached = String::from_utf8_lossy(&out.stdout);
    assert!(reached.is_empty(), "another user reached:\n{reached}");
}

async fn a_canary_token_never_appears_in_logs_stats_config_or_errors() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin, &format!("token = \"{CANARY}\""));
    let mut seen = String::new();
    let get = |key: &str| Request::Get { key: key.into() };

    // Success, then every kind of failure, with an origin that reflects the request's own
    // head (the token included) in its bodies.
    for key in ["component:react:button", "demo:react:button"] {
        seen += &format!("{:?}\n", d.request(get(key)).await);
    }
    origin.fault(LISTING, Fault::Reflect(200));
    origin.fault(&format!("{RAW}/ui/dialog.tsx"), Fault::Reflect(500));
    origin.fault(&format!("{RAW}/ui/card.tsx"), Fault::Reflect(401));
    d.advance_clock(std::time::Duration::from_millis(1_100))
        .await;
    for key in [
        "component:react:button",
        "component:react:dialog",
        "component:react:card",
        "component:react:no-such-thing",
        "bad key",
    ] {
        seen += &format!("{:?}\n", d.request(get(key)).await);
    }
    seen += &format!("{:?}\n", d.request(Request::Stats).await);
    // The token was in use: the origin saw it on API requests.
    assert!(
        origin.authorizations().iter().any(|a| a.contains(CANARY)),
        "the daemon never sent its token: {:?}",
        origin.authorizations()
    );

    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["config"],
        &["get", "component:react:dialog", "-v"],
        &["component", "dialog"],
    ] {
        let out = d.cli(args, None);
        seen += &String::from_utf8_lossy(&out.stdout);
        seen += &String::from_utf8_lossy(&out.stderr);
    }
    // `config` with the token from the environment instead of the file.
    let out = base_command(BIN)
        .env("SHADCACHE_GITHUB_TOKEN", CANARY)
        .args(["--config", "/nonexistent.toml", "config"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    seen += &String::from_utf8_lossy(&out.stdout);
    seen += &String::from_utf8_lossy(&out.stderr);

    d.signal(libc::SIGTERM);
    let log = d.log_text();
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    for (what, text) in [("answers and CLI output", &seen), ("the log", &log)] {
        assert!(
            !text.contains(CANARY) && !text.contains(&CANARY[4..]),
            "the token leaked into {what}:\n{text}"
        );
    }
    assert!(seen.contains("redacted"), "{seen}");
}

async fn hostile_keys_and_names_never_reach_an_upstream_url() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin, "");
    let long = "a".repeat(10_000);
    let names = [
        "../../../etc/passwd",
        "..",
        "button/../../secret",
        "%2e%2e",
        "%2e%2e%2fsecret",
        "button?ref=evil",
        "button#frag",
        "butt\non",
        "butt\ron",
        "button\0",
        "button;rm -rf",
        "button tsx",
        "BUTTON",
        "button%00",
        "ｂｕｔｔｏｎ",
        "/etc/passwd",
        "\\..\\secret",
        long.as_str(),
    ];
    for name in names {
        for kind in ["component", "demo", "metadata", "block"] {
            let answer = d
                .request(Request::Get {
                    key: format!("{kind}:react:{name}"),
                })
                .await;
            assert!(
                matches!(&answer, Response::Error(_) | Response::Value(None)),
                "{kind} {name:?}: {answer:?}"
            );
        }
        for query in [
            Query::Component { name: name.into() },
            Query::Demo { name: name.into() },
            Query::Metadata { name: name.into() },
            Query::Block {
                name: name.into(),
                include_components: true,
            },
            Query::Structure {
                path: Some(name.into()),
                owner: None,
                repo: None,
                branch: None,
            },
        ] {
            let answer = d
                .request(Request::Shadcn {
                    framework: None,
                    query,
                })
                .await;
            let refused = matches!(&answer, Response::Error(_))
                // A path that names nothing in the listing is an empty structure.
                || matches!(&answer, Response::Value(Some(found)) if found.value.len() < 200);
            assert!(refused, "{name:?}: {answer:?}");
        }
    }
    // Frameworks are a closed set.
    let answer = d
        .request(Request::Shadcn {
            framework: Some("../../x".into()),
            query: Query::Component {
                name: "button".into(),
            },
        })
        .await;
    assert!(matches!(&answer, Response::Error(_)), "{answer:?}");
    assert!(matches!(d.request(Request::Ping).await, Response::Pong));

    // The origin asserts the exact paths it was asked for: the registry's listing and
    // files the listing names, nothing a client spelled.
    let paths = origin.requests();
    assert!(!paths.is_empty());
    for (path, _) in &paths {
        let allowed = path == LISTING
            || path.starts_with("/api/repos/shadcn-ui/ui/git/trees/")
            || path.starts_with(&format!("{RAW}/"));
        assert!(allowed, "unexpected upstream path {path:?}");
        for bad in [
            "..",
            "%",
            "#",
            "\n",
            "\r",
            "\0",
            "\\",
            "etc/passwd",
            "secret",
            "evil",
        ] {
            assert!(!path.contains(bad), "{path:?} contains {bad:?}");
        }
        assert!(path.len() < 300, "{path:?}");
    }
}
