//! A GitHub that accepts connections and then never answers (a captive portal, a stalled
//! proxy, a half-dead link): what a person at the CLI and an agent through `shadcache mcp`
//! see is the daemon's reason, once the daemon's budget for GitHub ran out, never a client's
//! own timeout; other clients are served all along. (The fault matrix in `faults.rs` covers
//! each budget with a stale copy and without.)

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shadcache::protocol::{Request, Response};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::{BIN, TestDaemon, base_command};
use crate::runner::tests;

tests![
    the_cli_on_a_silent_github_exits_2_with_the_daemons_reason,
    an_mcp_tool_call_on_a_silent_github_is_a_tool_error_with_the_reason,
];

const LISTING: &str = "/api/repos/shadcn-ui/ui/contents/apps/v4/registry?ref=main";
const REASON: &str = "GitHub did not answer within 1s";
/// GitHub's budget for the first byte is 1 s; anything past this means something waited on
/// another, longer deadline (the client's is `daemon.request_timeout` + 5 s = 10 s).
const BOUND: Duration = Duration::from_secs(4);

async fn silent_github() -> (FakeOrigin, TestDaemon) {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    origin.fault(LISTING, Fault::Hang);
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\
         connect_timeout = \"1s\"\nfirst_byte_timeout = \"1s\"\nidle_timeout = \"1s\"\n\
         timeout = \"3s\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\nrequest_timeout = \"5s\"\n",
        origin.github_section()
    ));
    (origin, d)
}

/// Another client's own key, read over and over while GitHub is silent.
fn bystander(d: &TestDaemon) -> tokio::task::JoinHandle<u32> {
    let socket = d.socket.clone();
    tokio::spawn(async move {
        let mut client = shadcache::client::Client::connect(&socket, Duration::from_secs(10))
            .await
            .unwrap();
        let set = Request::Set {
            key: "note:bystander".into(),
            value: "mine".into(),
            ttl: None,
        };
        assert!(matches!(
            client.request(&set).await.unwrap(),
            Response::Stored(_)
        ));
        let mut reads = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            let get = Request::Get {
                key: "note:bystander".into(),
            };
            match client.request(&get).await.unwrap() {
                Response::Value(Some(found)) => assert_eq!(&found.value[..], b"mine"),
                other => panic!("the bystander got {other:?}"),
            }
            reads += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        reads
    })
}

async fn the_cli_on_a_silent_github_exits_2_with_the_daemons_reason() {
    let (origin, d) = silent_github().await;
    let other = bystander(&d);
    for args in [
        &["get", "component:react:toggle"][..],
        &["component", "dialog"][..],
    ] {
        let shown = args.join(" ");
        let started = Instant::now();
        let (socket, config) = (d.socket.clone(), d.config.clone());
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::harness::cli_at(&socket, &config, &args, None)
        })
        .await
        .unwrap();
        let waited = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(REASON),
            "{stderr:?} does not give the daemon's reason"
        );
        assert!(waited < BOUND, "waited {waited:?}: {stderr}");
        eprintln!("silent GitHub: `shadcache {shown}` exited 2 after {waited:.2?}");
    }
    assert!(other.await.unwrap() > 10, "the bystander was held up");
    assert!(origin.count(LISTING) >= 1);
}

fn send(stdin: &mut impl Write, message: Value) {
    writeln!(stdin, "{message}").unwrap();
    stdin.flush().unwrap();
}

fn receive(stdout: &mut impl BufRead) -> Value {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
}

async fn an_mcp_tool_call_on_a_silent_github_is_a_tool_error_with_the_reason() {
    let (_origin, d) = silent_github().await;
    let other = bystander(&d);
    let mut mcp = base_command(BIN)
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .args(["mcp", "--framework", "react"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = mcp.stdin.take().unwrap();
    let mut stdout = BufReader::new(mcp.stdout.take().unwrap());
    let answer = tokio::task::spawn_blocking(move || {
        send(
            &mut stdin,
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "stalls", "version": "0"}}}),
        );
        assert!(receive(&mut stdout)["result"]["serverInfo"].is_object());
        send(
            &mut stdin,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        let started = Instant::now();
        send(
            &mut stdin,
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "get_component", "arguments": {"componentName": "toggle"}}}),
        );
        let answer = receive(&mut stdout);
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    let _ = mcp.kill();
    let _ = mcp.wait();
    let (answer, waited) = answer;
    let result = &answer["result"];
    assert_eq!(result["isError"], true, "{answer}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(REASON),
        "{text:?} does not give the daemon's reason"
    );
    assert!(waited < BOUND, "waited {waited:?}");
    eprintln!("silent GitHub: an MCP tool call got its tool error after {waited:.2?}");
    assert!(other.await.unwrap() > 10, "the bystander was held up");
}
