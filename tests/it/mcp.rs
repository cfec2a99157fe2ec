//! `shadcache mcp` driven by the official TypeScript MCP SDK client (tests/mcp/client.mjs),
//! and `shadcache warm`, against a daemon on the fake GitHub serving the recorded fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use shadcache::protocol::{Request, Response, TierName};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::{BIN, TestDaemon};
use crate::runner::tests;

tests![
    mcp_tools_match_upstream_and_serve_the_fixtures: Node,
    three_mcp_processes_share_one_daemon_and_one_fetch: Node,
    mcp_without_a_daemon_says_how_to_start_one: Node,
    warming_the_react_registry_costs_two_api_calls,
    domain_commands_on_the_cli,
    mcp_starts_a_daemon_when_asked_to: Node,
    github_warm_prefetches_at_start,
    mcp_tools_serve_vue_and_react_native: Node,
    mcp_theme_tools_prompts_and_resources_match_upstream: Node,
];

const FIXTURE_RAW: &str =
    "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4";

fn daemon_for(origin: &FakeOrigin) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.github_section()
    ))
}

/// The client script's folder (`npm ci --prefix tests/mcp`; `.ci/run` does it).
fn mcp_client() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// Runs the client script in `mode` against `d`; returns its findings line.
fn run_client(dir: &Path, mode: &str, d: &TestDaemon, fixtures: &Path) -> String {
    let output = Command::new("node")
        .arg(dir.join("client.mjs"))
        .env("SHADCACHE_BIN", BIN)
        .env("SHADCACHE_SOCKET", &d.socket)
        .env("SHADCACHE_CONFIG", &d.config)
        .env("FIXTURE_RAW", fixtures.join(FIXTURE_RAW))
        .env("FIXTURES", fixtures)
        .env("MODE", mode)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{mode}: {}\n{stdout}\ndaemon log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        d.log_text()
    );
    stdout
}

async fn mcp_tools_match_upstream_and_serve_the_fixtures() {
    let client = mcp_client();
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    let findings = run_client(&client, "tools", &d, &dir);
    // The time from tools/call to its answer, through the SDK, shadcache mcp and the daemon.
    eprintln!("tools/call timings: {findings}");
    assert!(findings.contains("l1_hit_ms"), "{findings}");
}

async fn three_mcp_processes_share_one_daemon_and_one_fetch() {
    let client = mcp_client();
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let card = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/card.tsx";
    origin.fault(card, Fault::Delay(Duration::from_millis(500)));
    let d = daemon_for(&origin);
    run_client(&client, "concurrent", &d, &dir);
    assert_eq!(origin.count(card), 1, "{:?}", origin.requests());
}

async fn mcp_without_a_daemon_says_how_to_start_one() {
    let client = mcp_client();
    let dir = fixtures();
    let d = TestDaemon::prepare(crate::harness::TEST_CONFIG);
    run_client(&client, "nodaemon", &d, &dir);
}

async fn warming_the_react_registry_costs_two_api_calls() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    let out = d.cli(&["warm", "--framework", "react"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("react: "), "{stdout}");
    let (all, api) = origin.totals();
    assert_eq!(api, 2, "{:?}", origin.requests());
    // The quota's calls and the free downloads apart, each as the origin counted them.
    let raw = all - api;
    assert!(
        stdout.contains(&format!(
            "; 2 API calls (4998 of 5000 left this hour), {raw} raw downloads (no quota)"
        )),
        "{stdout}"
    );
    eprintln!(
        "warm: {} | {api} API calls, {} raw downloads",
        stdout.trim(),
        all - api
    );
    // Everything the fixtures hold is now cached: no more requests.
    for key in [
        "component:react:button",
        "demo:react:card",
        "block:react:login-01",
    ] {
        match d.request(Request::Get { key: key.into() }).await {
            Response::Value(Some(found)) => assert_ne!(found.info.tier, TierName::Github, "{key}"),
            other => panic!("{key}: {other:?}"),
        }
    }
    assert_eq!(origin.totals(), (all, api));
}

async fn domain_commands_on_the_cli() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    let text = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let button = d.cli(&["component", "button", "-v"], None);
    assert_eq!(button.status.code(), Some(0));
    let expected = std::fs::read(dir.join(FIXTURE_RAW).join("ui/button.tsx")).unwrap();
    assert_eq!(button.stdout, expected);
    assert!(String::from_utf8_lossy(&button.stderr).contains("from L3 github"));

    let typo = d.cli(&["component", "buton"], None);
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `button`"));

    let login = d.cli(&["blocks", "--category", "login"], None);
    let login: serde_json::Value = serde_json::from_str(&text(&login)).unwrap();
    assert!(login["total"].as_u64().unwrap() >= 1, "{login}");

    let svelte = d.cli(&["demo", "button", "--framework", "svelte"], None);
    let expected = std::fs::read(dir.join(
        "raw.githubusercontent.com/huntabyte/shadcn-svelte/main/docs/src/lib/registry/examples/button-demo.svelte",
    ))
    .unwrap();
    assert_eq!(svelte.stdout, expected);

    let unknown = d.cli(&["component", "button", "--framework", "angular"], None);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown framework `angular`"));
}

async fn mcp_starts_a_daemon_when_asked_to() {
    let client = mcp_client();
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = TestDaemon::prepare("");
    // The config the started daemon reads: its data dir inside the test's folder.
    std::fs::write(
        &d.config,
        format!(
            "data_dir = \"{}\"\n\n{}",
            d.data_dir.display(),
            origin.github_section()
        ),
    )
    .unwrap();
    run_client(&client, "startdaemon", &d, &dir);
    // It outlives the MCP process; stop it.
    let pid = d.stats().await.pid;
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    for _ in 0..100 {
        if !d.socket.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!d.socket.exists(), "the started daemon did not stop");
}

async fn github_warm_prefetches_at_start() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\nwarm = \"react\"\n\n\
         [daemon]\nlog_level = \"info\"\n",
        origin.github_section()
    ));
    d.wait_for_log("warmed");
    assert!(d.log_text().contains("react: 211 keys"), "{}", d.log_text());
    let before = origin.totals();
    assert_eq!(before.1, 2);
    match d
        .request(Request::Get {
            key: "component:react:button".into(),
        })
        .await
    {
        Response::Value(Some(found)) => assert_ne!(found.info.tier, TierName::Github),
        other => panic!("{other:?}"),
    }
    assert_eq!(origin.totals(), before);
}

async fn mcp_tools_serve_vue_and_react_native() {
    let client = mcp_client();
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    run_client(&client, "frameworks", &d, &dir);
}

async fn mcp_theme_tools_prompts_and_resources_match_upstream() {
    let client = mcp_client();
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    run_client(&client, "themes", &d, &dir);
}
