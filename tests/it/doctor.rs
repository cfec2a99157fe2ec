//! `shadcache doctor` with each link it checks working, and then broken for real: a
//! malformed config, no daemon, something else at the socket path, a daemon of another
//! version, an L2 that cannot open, a disk below L2's reserve, GitHub unreachable and its
//! quota spent. Exit 0 only when all hold; each failure names itself and what to do.

use std::os::unix::net::UnixListener;
use std::process::Output;

use shadcache::protocol::codec;
use shadcache::protocol::{Hello, HelloReply, PROTOCOL_VERSION, TierName, WireError};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::FakeOrigin;

use crate::harness::{TEST_CONFIG, TestDaemon, Tmpfs, cli_at};
use crate::runner::tests;

tests![
    every_check_holds_on_a_working_install,
    a_malformed_config_is_named_with_its_line,
    no_daemon_says_how_to_start_one,
    something_else_at_the_socket_path_is_named,
    a_daemon_of_another_version_is_named,
    an_l2_that_cannot_open_gives_its_reason,
    a_disk_below_the_reserve_fails_the_l2_check: Root,
    an_unreachable_github_and_a_spent_quota_are_named,
];

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A line of the report: `FAIL  daemon ...` and the fix below it.
fn line<'a>(report: &'a str, verdict: &str, what: &str) -> &'a str {
    let start = format!("{verdict:<5} {what:<7}");
    report
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no `{start}` line in:\n{report}"))
}

async fn every_check_holds_on_a_working_install() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let d = TestDaemon::start_with(&format!(
        "{}token = \"ghp_doctor\"\n\n[daemon]\nlog_level = \"debug\"\n",
        origin.github_section()
    ));
    d.wait_l2_up().await;
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    for what in ["config", "socket", "daemon", "L2", "GitHub"] {
        line(&report, "ok", what);
    }
    assert!(
        line(&report, "ok", "GitHub").contains("token set; quota 57/60"),
        "{report}"
    );
    assert!(report.contains("all checks hold"), "{report}");
    // The snippet to paste is JSON naming this very binary.
    let json_start = report.find("{\n").expect("an MCP snippet");
    let json_end = report[json_start..].find("\n}\n").unwrap() + json_start + 2;
    let snippet: serde_json::Value = serde_json::from_str(&report[json_start..json_end]).unwrap();
    let server = &snippet["mcpServers"]["shadcn-ui"];
    assert_eq!(server["command"], crate::harness::BIN, "{snippet}");
    assert_eq!(server["args"][0], "mcp");
}

async fn a_malformed_config_is_named_with_its_line() {
    let d = TestDaemon::start();
    std::fs::write(&d.config, "[l1]\nmax_bytes = \"lots\"\n").unwrap();
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let config = line(&report, "FAIL", "config");
    assert!(
        config.contains("line 2") && config.contains("config.toml"),
        "{report}"
    );
}

async fn no_daemon_says_how_to_start_one() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line(&report, "FAIL", "socket").contains("nothing at"),
        "{report}"
    );
    assert!(
        line(&report, "FAIL", "daemon").contains("no daemon answers"),
        "{report}"
    );
    assert!(report.contains("shadcache start"), "{report}");
    // With no daemon to ask, L2's state is unknown, not a failure of its own.
    assert!(
        line(&report, "ok", "L2").contains("no daemon to ask"),
        "{report}"
    );
}

async fn something_else_at_the_socket_path_is_named() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    std::fs::write(&d.socket, b"a file").unwrap();
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line(&report, "FAIL", "socket").contains("is not a socket"),
        "{report}"
    );
}

/// A real peer on the socket that answers the handshake as an older daemon would.
async fn a_daemon_of_another_version_is_named() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let listener = UnixListener::bind(&d.socket).unwrap();
    let peer = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            stream.set_nonblocking(true).unwrap();
            let mut stream = tokio::net::UnixStream::from_std(stream).unwrap();
            let frame = codec::read_frame(&mut stream, 1 << 20, std::time::Duration::from_secs(5))
                .await
                .unwrap()
                .unwrap();
            let hello: Hello = codec::decode(&frame).unwrap();
            assert!(hello.client.starts_with("shadcache"));
            let reply: Result<HelloReply, WireError> = Ok(HelloReply {
                protocol: PROTOCOL_VERSION,
                daemon_version: "0.0.1-old".into(),
                pid: std::process::id(),
            });
            let bytes = codec::encode(&reply, 1 << 20).unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut stream, &bytes)
                .await
                .unwrap();
        });
    });
    let out = d.cli(&["doctor"], None);
    peer.join().unwrap();
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let daemon = line(&report, "FAIL", "daemon");
    assert!(daemon.contains("runs version 0.0.1-old"), "{report}");
    assert!(
        report.contains("systemctl --user restart shadcache.service"),
        "{report}"
    );
}

async fn an_l2_that_cannot_open_gives_its_reason() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    // The data dir's parent is a regular file: nothing can be created there, even by root.
    let blocker = d.dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let mut command = d.daemon_command_with(&d.socket, &blocker.join("data"));
    let d = d.spawn(&mut command);
    d.wait_for_stats("L2 failed to open", |s| {
        s.tiers
            .iter()
            .any(|t| t.tier == TierName::Database && t.state != "opening" && t.state != "up")
    })
    .await;
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    line(&report, "ok", "daemon");
    let l2 = line(&report, "FAIL", "L2");
    assert!(
        l2.contains("data dir") || l2.contains("Not a directory"),
        "{report}"
    );
    assert!(report.contains("retries on its own"), "{report}");
}

async fn a_disk_below_the_reserve_fails_the_l2_check() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let disk = d.dir.path().join("disk");
    // Below the 64 MiB that L2 keeps free for writes.
    let _tmpfs = Tmpfs::mount(&disk, "32m").expect("mount a tmpfs as root");
    let data_dir = disk.join("data");
    std::fs::write(
        &d.config,
        format!("data_dir = \"{}\"\n{TEST_CONFIG}", data_dir.display()),
    )
    .unwrap();
    let mut command = d.daemon_command_with(&d.socket, &data_dir);
    let d = d.spawn(&mut command);
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let l2 = line(&report, "FAIL", "L2");
    assert!(l2.contains("writes need 64.0 MiB"), "{report}");
    assert!(report.contains("free space on that disk"), "{report}");
}

async fn an_unreachable_github_and_a_spent_quota_are_named() {
    // TEST_CONFIG's GitHub is a port nothing listens on.
    let d = TestDaemon::start();
    let out = d.cli(&["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line(&report, "FAIL", "GitHub").contains("cannot reach GitHub"),
        "{report}"
    );

    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let spent = serde_json::json!({"resources": {"core": {
        "limit": 60, "used": 60, "remaining": 0, "reset": 4102444800u64, "resource": "core"}}});
    origin.set("/api/rate_limit", 200, spent.to_string().into_bytes());
    let config = d.dir.path().join("spent.toml");
    std::fs::write(&config, origin.github_section()).unwrap();
    let out = cli_at(&d.socket, &config, &["doctor"], None);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let github = line(&report, "FAIL", "GitHub");
    assert!(
        github.contains("quota 0/60, resets at 00:00:00 UTC"),
        "{report}"
    );
    assert!(report.contains("set a token"), "{report}");
}
