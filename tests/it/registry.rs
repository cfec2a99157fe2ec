//! The shadcn registry protocol through the real daemon: its loopback listener in front, the
//! fake origin serving the recorded `ui.shadcn.com/r` and shadcn-svelte files behind. What
//! a client of the protocol sees (bytes, ETags, 304s, JSON errors, no hangs), what the
//! origin is asked (once per key, conditionally after expiry, never outside the configured
//! registries), and what only the right user can do.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use shadcache::protocol::TierName;
use shadcache::testkit::fixtures::registry_dir;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::TestDaemon;
use crate::runner::tests;

tests![
    items_are_served_byte_identical_with_etags_and_304s,
    a_wrong_secret_or_an_escaping_path_costs_nothing,
    a_name_the_registry_lacks_is_a_json_404_with_near_names,
    fifty_concurrent_requests_for_one_item_make_one_origin_request,
    offline_the_cache_serves_and_an_unfetched_item_is_a_fast_503,
    a_stalled_registry_is_a_503_within_its_budget,
    a_namespace_in_components_json_reads_through_the_cache_with_its_header: Node,
    after_the_ttl_a_second_pass_revalidates_with_304s,
    garbage_and_truncated_bodies_are_refused_and_not_cached,
    a_private_namespace_gets_its_header_and_no_other_registry_does,
    registry_url_env_and_components_json_point_clients_here,
    doctor_checks_the_listener_and_where_registry_url_points,
    another_user_can_neither_learn_the_secret_nor_read_through_the_listener: Root,
    namespaces_of_the_directory_are_served_from_their_own_registry,
    warming_a_registry_fetches_its_catalog_and_every_item_once,
    the_shadcn_cli_views_searches_and_adds_through_the_cache_then_offline: Node,
    shadcn_mcp_lists_searches_views_and_finds_examples_then_offline: Node,
    after_one_warm_the_cli_works_with_no_network: Node,
    a_namespace_is_warmed_from_its_own_catalog,
    all_styles_warms_every_style_the_registry_names,
    a_reload_keeps_the_registry_as_it_started_and_says_so,
];

const NEW_YORK: &str = "ui.shadcn.com/r/styles/new-york-v4";

async fn origin() -> FakeOrigin {
    FakeOrigin::with_fixtures(&registry_dir()).await.unwrap()
}

/// Prefetch off: these tests count what the origin is asked for what a client asked
/// (tests/it/ahead.rs has prefetch on).
fn daemon_for(origin: &FakeOrigin, extra: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}{extra}\n[prefetch]\nenabled = false\n\n[daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.registry_section()
    ))
}

/// The secret with its last digit changed: as close to right as a guess gets.
fn wrong_secret(secret: &str) -> String {
    let last = if secret.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &secret[..secret.len() - 1])
}

/// `http://127.0.0.1:PORT/<secret>`, as `shadcache registry url` prints it (without the source).
pub(crate) fn base(d: &TestDaemon) -> String {
    let out = d.cli(&["registry", "url", "shadcn"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap();
    url.trim().strip_suffix("/shadcn").unwrap().to_owned()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn json(answer: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(registry_dir().join(path)).unwrap()
}

async fn items_are_served_byte_identical_with_etags_and_304s() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let url = format!("{base}/shadcn/styles/new-york-v4/button.json");
    let http = http();

    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "application/json");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body = first.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        fixture(&format!("{NEW_YORK}/button.json")).as_slice()
    );

    // Again: from the cache, the same tag; with the tag: 304 and no body.
    let again = http.get(&url).send().await.unwrap();
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.bytes().await.unwrap(), body);
    let unchanged = http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert!(unchanged.bytes().await.unwrap().is_empty());

    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        body.len().to_string().as_str()
    );
    assert!(head.bytes().await.unwrap().is_empty());

    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let refused = http.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(refused.headers()["allow"], "GET, HEAD");
    }
    assert_eq!(origin.count("/shadcn/styles/new-york-v4/button.json"), 1);

    // The rest of the protocol's paths, each as upstream has it.
    for (path, file) in [
        (
            "shadcn/styles/new-york-v4/registry.json?q=butt&limit=100&offset=0",
            format!("{NEW_YORK}/registry.json"),
        ),
        (
            "shadcn/styles/new-york-v4/index.json",
            format!("{NEW_YORK}/index.json"),
        ),
        ("shadcn/index.json", "ui.shadcn.com/r/index.json".into()),
        (
            "shadcn/styles/index.json",
            "ui.shadcn.com/r/styles/index.json".into(),
        ),
        (
            "shadcn/colors/neutral.json",
            "ui.shadcn.com/r/colors/neutral.json".into(),
        ),
        (
            "shadcn/icons/index.json",
            "ui.shadcn.com/r/icons/index.json".into(),
        ),
        (
            "shadcn/registries.json",
            "ui.shadcn.com/r/registries.json".into(),
        ),
        ("shadcn/config.json", "ui.shadcn.com/r/config.json".into()),
        (
            "shadcn/styles/base-nova/button.json",
            "ui.shadcn.com/r/styles/base-nova/button.json".into(),
        ),
        (
            "svelte/styles/vega/index.json",
            "shadcn-svelte.com/registry/styles/vega/index.json".into(),
        ),
        (
            "svelte/styles/vega/dialog.json",
            "shadcn-svelte.com/registry/styles/vega/dialog.json".into(),
        ),
    ] {
        let answer = http.get(format!("{base}/{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert_eq!(
            answer.bytes().await.unwrap().as_ref(),
            fixture(&file).as_slice(),
            "{path}"
        );
    }

    let stats = d.stats().await;
    let shadcn = stats
        .registries
        .iter()
        .find(|r| r.registry == "shadcn")
        .unwrap();
    assert_eq!(shadcn.not_modified, 1);
    assert!(shadcn.fetched >= 10, "{shadcn:?}");
    let by = |tier| {
        shadcn
            .answered_by
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, n)| *n)
    };
    assert_eq!(by(TierName::Memory), Some(2), "{shadcn:?}");
    let svelte = stats
        .registries
        .iter()
        .find(|r| r.registry == "svelte")
        .unwrap();
    assert_eq!(svelte.fetched, 2);
    // The same, as `shadcache stats` prints it: requests, L1, L2, origin, 304s sent, ...
    let printed = String::from_utf8(d.cli(&["stats"], None).stdout).unwrap();
    let line = printed
        .lines()
        .find(|l| l.starts_with("shadcn "))
        .unwrap_or_else(|| panic!("{printed}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[..6],
        ["shadcn", "13", "2", "0", "10", "1"],
        "{printed}"
    );
}

async fn a_wrong_secret_or_an_escaping_path_costs_nothing() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (root, secret) = base.rsplit_once('/').unwrap();
    let http = http();
    let wrong = wrong_secret(secret);
    for path in [
        format!("/{wrong}/shadcn/styles/new-york-v4/button.json"),
        "/shadcn/styles/new-york-v4/button.json".into(),
        format!("/{}/shadcn/styles/new-york-v4/button.json", &secret[..8]),
        "/".into(),
        "/metrics".into(),
    ] {
        let answer = http.get(format!("{root}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.text().await.unwrap(), "Not Found", "{path}");
        // Wrong secret, any method: the same bare 404.
        let post = http.post(format!("{root}{path}")).send().await.unwrap();
        assert_eq!(post.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // With the secret, but a path that would leave the registry.
    for path in [
        "shadcn/styles/../../../etc/passwd.json",
        "shadcn/styles/new-york-v4/%2e%2e%2fbutton.json",
        "shadcn/styles%2Fnew-york-v4%2Fbutton.json",
        "shadcn/styles/new-york-v4/button.json%00",
        "shadcn/http://169.254.169.254/latest.json",
        "shadcn//evil.example/x.json",
        "shadcn/styles/_x/button.json",
        "nobody%40example/x.json",
        "../shadcn/index.json",
        "shadcn/secrets.txt",
    ] {
        let answer = http.get(format!("{base}/{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // An absolute URL as the request target.
    let mut stream = tokio::net::TcpStream::connect(root.trim_start_matches("http://"))
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            b"GET http://169.254.169.254/latest HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(origin.requests().is_empty(), "{:?}", origin.requests());
    let stats = d.stats().await;
    assert!(
        stats.registries.iter().all(|r| r.fetched == 0),
        "{:?}",
        stats.registries
    );
}

async fn a_name_the_registry_lacks_is_a_json_404_with_near_names() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let http = http();
    let answer = http
        .get(format!("{base}/shadcn/styles/new-york-v4/buton.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.headers()["content-type"], "application/json");
    let body = json(answer).await;
    assert_eq!(body["error"], "Not Found");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("`buton`") && detail.contains("new-york-v4"),
        "{detail}"
    );
    assert!(detail.contains("Did you mean: button"), "{detail}");

    let svelte = http
        .get(format!("{base}/svelte/styles/vega/no-such-widget.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(svelte.status(), StatusCode::NOT_FOUND);
    let body = json(svelte).await;
    assert!(
        body["detail"].as_str().unwrap().contains("no-such-widget"),
        "{body}"
    );

    // A registry that does not exist at all.
    let unknown = http
        .get(format!("{base}/NOPE!/x.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn fifty_concurrent_requests_for_one_item_make_one_origin_request() {
    let origin = origin().await;
    let path = "/shadcn/styles/new-york-v4/dialog.json";
    // Slow enough that all fifty arrive while the first fetch is in flight.
    origin.fault(path, Fault::Delay(Duration::from_millis(300)));
    let d = daemon_for(&origin, "");
    let url = format!("{}/shadcn/styles/new-york-v4/dialog.json", base(&d));
    let http = http();
    let expected = fixture(&format!("{NEW_YORK}/dialog.json"));
    let answers = futures::future::join_all((0..50).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let answer = http
                .get(&url)
                .header(
                    "accept",
                    "application/vnd.shadcn.v1+json, application/json;q=0.9",
                )
                .header("user-agent", "shadcn")
                .send()
                .await
                .unwrap();
            (answer.status(), answer.bytes().await.unwrap())
        }
    }))
    .await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), expected.as_slice());
    }
    assert_eq!(origin.count(path), 1);
    assert!(d.stats().await.router.coalesced >= 1);
}

async fn offline_the_cache_serves_and_an_unfetched_item_is_a_fast_503() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let http = http();
    let url = |name: &str| format!("{base}/shadcn/styles/new-york-v4/{name}.json");
    for name in ["button", "card"] {
        assert_eq!(
            http.get(url(name)).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    origin.close();
    for name in ["button", "card"] {
        let answer = http.get(url(name)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{name}");
        assert_eq!(
            answer.bytes().await.unwrap().as_ref(),
            fixture(&format!("{NEW_YORK}/{name}.json")).as_slice()
        );
    }
    let started = Instant::now();
    let answer = http.get(url("input")).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(answer).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("styles/new-york-v4/input.json"), "{detail}");
    assert!(
        detail.contains("cannot reach the shadcn registry"),
        "{detail}"
    );
    // A refused connection is not waited on (generous: a loaded CI machine).
    assert!(took < Duration::from_secs(10), "{took:?}");
}

async fn after_the_ttl_a_second_pass_revalidates_with_304s() {
    let origin = origin().await;
    let d = daemon_for(&origin, "\n[strategy]\nstale_while_revalidate = false\n");
    let base = base(&d);
    let http = http();
    let names = ["button", "card", "dialog"];
    for name in names {
        let url = format!("{base}/shadcn/styles/new-york-v4/{name}.json");
        assert_eq!(
            http.get(&url).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    // In L2, where the expired copies wait to be revalidated (L1 drops what expires).
    d.wait_l2_holds(3).await;
    d.advance_clock(Duration::from_secs(7 * 3600)).await;
    for name in names {
        let url = format!("{base}/shadcn/styles/new-york-v4/{name}.json");
        let answer = http.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.bytes().await.unwrap().as_ref(),
            fixture(&format!("{NEW_YORK}/{name}.json")).as_slice()
        );
        let path = format!("/shadcn/styles/new-york-v4/{name}.json");
        assert_eq!(origin.count(&path), 2, "{name}");
        let conditional = origin.header_values(&path, "if-none-match");
        assert_eq!(
            conditional.len(),
            1,
            "{name}: the second request was not conditional"
        );
    }
    let stats = d.stats().await;
    let shadcn = stats
        .registries
        .iter()
        .find(|r| r.registry == "shadcn")
        .unwrap();
    assert_eq!((shadcn.fetched, shadcn.unchanged), (3, 3), "{shadcn:?}");
}

async fn garbage_and_truncated_bodies_are_refused_and_not_cached() {
    let origin = origin().await;
    let garbage = "/shadcn/styles/new-york-v4/badge.json";
    let cut = "/shadcn/styles/new-york-v4/alert.json";
    let html = "/shadcn/styles/new-york-v4/tabs.json";
    origin.fault(garbage, Fault::Garbage);
    origin.fault(cut, Fault::Truncate);
    origin.set(html, 200, b"{\"error\":\"not an item\"}".to_vec());
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let http = http();
    for (path, status) in [
        (garbage, StatusCode::BAD_GATEWAY),
        (cut, StatusCode::SERVICE_UNAVAILABLE),
        (html, StatusCode::BAD_GATEWAY),
    ] {
        let answer = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), status, "{path}");
        let body = json(answer).await;
        assert!(body["detail"].is_string(), "{body}");
    }
    // Nothing of them was kept: once the origin is well, the real bodies are served.
    origin.clear_faults();
    origin.add_fixtures(&registry_dir()).unwrap();
    for path in [garbage, cut, html] {
        let answer = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        let file = format!("ui.shadcn.com/r{}", path.trim_start_matches("/shadcn"));
        assert_eq!(
            answer.bytes().await.unwrap().as_ref(),
            fixture(&file).as_slice()
        );
    }
}

/// A daemon with `@acme` in `registry.namespaces`, served by `origin` under `/acme/r/`, its
/// `Authorization` header from `ACME_TOKEN` in the daemon's environment.
fn acme_daemon(origin: &FakeOrigin, token: &str) -> TestDaemon {
    let config = format!(
        "\n[registry.namespaces]\n\"@acme\" = {{ url = \"{}/r/{{name}}.json\", headers = {{ Authorization = \"Bearer ${{ACME_TOKEN}}\" }} }}\n",
        origin.registry_url("acme")
    );
    let daemon = TestDaemon::prepare(&format!(
        "{}{config}\n[daemon]\nframe_timeout = \"1s\"\n",
        origin.registry_section()
    ));
    let mut command = daemon.daemon_command();
    command.env("ACME_TOKEN", token);
    daemon.spawn(&mut command)
}

/// No request but `/acme/`'s carried an `Authorization` header.
fn only_acme_got_credentials(origin: &FakeOrigin) {
    for (path, head) in origin.heads() {
        if !path.starts_with("/acme/") {
            assert!(
                !head.to_ascii_lowercase().contains("authorization"),
                "{path}: {head}"
            );
        }
    }
}

async fn a_private_namespace_gets_its_header_and_no_other_registry_does() {
    let origin = origin().await;
    origin.set(
        "/acme/r/login.json",
        200,
        br#"{"name":"login","type":"registry:block","files":[]}"#.to_vec(),
    );
    origin.set(
        "/acme/r/registry.json",
        200,
        br#"{"name":"acme","items":[{"name":"login"},{"name":"logout"}]}"#.to_vec(),
    );
    let d = acme_daemon(&origin, "canary-token");
    let base = base(&d);
    let http = http();
    let login = http
        .get(format!("{base}/acme/login.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let button = http
        .get(format!("{base}/shadcn/styles/new-york-v4/button.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(button.status(), StatusCode::OK);
    let missing = http
        .get(format!("{base}/acme/logon.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body = json(missing).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Did you mean: login"),
        "{body}"
    );

    assert_eq!(
        origin.header_values("/acme/r/login.json", "authorization"),
        ["Bearer canary-token"]
    );
    only_acme_got_credentials(&origin);
    assert!(
        !d.log_text().contains("canary-token"),
        "the header reached the log"
    );
    let config = d.cli(&["config"], None);
    assert!(!String::from_utf8_lossy(&config.stdout).contains("canary-token"));
}

async fn registry_url_env_and_components_json_point_clients_here() {
    let origin = origin().await;
    let d = daemon_for(
        &origin,
        "\n[registry.namespaces]\n\"@acme\" = \"https://acme.test/r/{style}/{name}.json\"\n",
    );
    let base = base(&d);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let secret = std::fs::read_to_string(d.data_dir.join("registry-secret")).unwrap();
    assert!(base.ends_with(secret.trim()), "{base}");

    let out = |args: &[&str]| {
        let out = d.cli(args, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        out(&["registry", "url", "svelte"]).trim(),
        format!("{base}/svelte")
    );
    assert_eq!(
        out(&["registry", "url", "@magicui"]).trim(),
        format!("{base}/magicui/{{name}}.json")
    );
    let env = out(&["registry", "env"]);
    assert!(
        env.contains(&format!("export REGISTRY_URL={base}/shadcn\n")),
        "{env}"
    );
    assert!(
        env.contains(&format!("export SHADCACHE_REGISTRY={base}\n")),
        "{env}"
    );
    assert!(env.contains("NO_PROXY=\"127.0.0.1,localhost"), "{env}");
    // The lines work in a shell.
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{env}\necho \"$REGISTRY_URL|$NO_PROXY\""))
        .env("NO_PROXY", "corp.example")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(shell.stdout).unwrap().trim(),
        format!("{base}/shadcn|127.0.0.1,localhost,corp.example")
    );

    // components.json: the project's namespaces and the config's, no port, no secret.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("components.json"),
        r#"{"style":"new-york-v4","registries":{"@magicui":"https://magicui.design/r/{name}.json","@reui":"https://reui.io/r/{style}/{name}.json"}}"#,
    )
    .unwrap();
    let output = crate::harness::base_command(crate::harness::BIN)
        .current_dir(project.path())
        .args(["--socket"])
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .args(["registry", "components-json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let block: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let registries = &block["registries"];
    assert_eq!(
        registries["@magicui"],
        "${SHADCACHE_REGISTRY}/magicui/{name}.json"
    );
    assert_eq!(
        registries["@reui"],
        "${SHADCACHE_REGISTRY}/reui/{style}/{name}.json"
    );
    assert_eq!(
        registries["@acme"],
        "${SHADCACHE_REGISTRY}/acme/{style}/{name}.json"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains(secret.trim()) && !text.contains("127.0.0.1"),
        "{text}"
    );
}

/// Where `npm ci --prefix tests/mcp` put the official CLI (pinned in its package.json).
fn shadcn_bin() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/node_modules/.bin/shadcn")
}

/// A Next.js-like project as `shadcn init` leaves one (MANIFEST.md's), with an `npm` on the
/// PATH that only records what it was asked: `shadcn add` installs the items' npm
/// dependencies, and the tests reach no registry but the fake one.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("src/app")).unwrap();
    std::fs::create_dir_all(p.join("bin")).unwrap();
    std::fs::write(
        p.join("package.json"),
        r#"{"name":"app","version":"0.0.0","private":true}"#,
    )
    .unwrap();
    std::fs::write(
        p.join("tsconfig.json"),
        r#"{"compilerOptions":{"baseUrl":".","paths":{"@/*":["./src/*"]}}}"#,
    )
    .unwrap();
    std::fs::write(p.join("src/app/globals.css"), "@import \"tailwindcss\";\n").unwrap();
    std::fs::write(
        p.join("components.json"),
        r#"{"$schema":"https://ui.shadcn.com/schema.json","style":"new-york-v4","rsc":true,"tsx":true,
"tailwind":{"config":"","css":"src/app/globals.css","baseColor":"neutral","cssVariables":true,"prefix":""},
"aliases":{"components":"@/components","utils":"@/lib/utils","ui":"@/components/ui","lib":"@/lib","hooks":"@/hooks"},
"iconLibrary":"lucide"}"#,
    )
    .unwrap();
    let npm = p.join("bin/npm");
    std::fs::write(
        &npm,
        format!("#!/bin/sh\necho \"$@\" >> {}/npm-calls\n", p.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs the `shadcn` CLI in `project` with `env` (`REGISTRY_URL` at the daemon, say); at most
/// two minutes (it has no timeout of its own: a hang is a failure here, not a stuck suite).
async fn shadcn_with(
    project: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let path = format!(
        "{}:{}",
        project.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = tokio::process::Command::new(shadcn_bin());
    command
        .args(args)
        .current_dir(project)
        .env_clear()
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        )
        .env("PATH", path)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .envs(env.iter().copied())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("shadcn {args:?} hung"))
        .unwrap()
}

async fn shadcn(
    project: &std::path::Path,
    registry_url: &str,
    args: &[&str],
) -> std::process::Output {
    shadcn_with(project, &[("REGISTRY_URL", registry_url)], args).await
}

/// The content of an item's files as the registry JSON holds them.
fn item_files(path: &str) -> Vec<String> {
    let item: serde_json::Value = serde_json::from_slice(&fixture(path)).unwrap();
    item["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["content"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_shadcn_cli_views_searches_and_adds_through_the_cache_then_offline() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let registry_url = format!("{}/shadcn", base(&d));
    for online in [true, false] {
        let p = project();
        let view = shadcn(p.path(), &registry_url, &["view", "button"]).await;
        assert!(
            view.status.success(),
            "online {online}: {}",
            String::from_utf8_lossy(&view.stderr)
        );
        let viewed: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
        assert_eq!(viewed[0]["name"], "button");
        assert_eq!(
            viewed[0]["files"][0]["content"].as_str().unwrap(),
            item_files(&format!("{NEW_YORK}/button.json"))[0]
        );

        let search = shadcn(
            p.path(),
            &registry_url,
            &["search", "@shadcn", "-q", "butt"],
        )
        .await;
        let found = String::from_utf8_lossy(&search.stdout);
        assert!(
            search.status.success(),
            "{}",
            String::from_utf8_lossy(&search.stderr)
        );
        assert!(
            found.contains("Found 33 items") && found.contains("@shadcn/button-group"),
            "{found}"
        );

        let add = shadcn(p.path(), &registry_url, &["add", "button", "card", "--yes"]).await;
        assert!(
            add.status.success(),
            "online {online}: {}",
            String::from_utf8_lossy(&add.stderr)
        );
        for name in ["button", "card"] {
            let written =
                std::fs::read_to_string(p.path().join(format!("src/components/ui/{name}.tsx")))
                    .unwrap();
            assert_eq!(
                written,
                item_files(&format!("{NEW_YORK}/{name}.json"))[0],
                "{name}.tsx"
            );
        }
        let npm = std::fs::read_to_string(p.path().join("npm-calls")).unwrap();
        assert!(npm.contains("radix-ui"), "{npm}");
        if online {
            // Every file the CLI needed is cached now: the origin goes away.
            origin.close();
        }
    }
    // Offline, a name never fetched fails at once with the daemon's reason, not a hang.
    let p = project();
    let started = Instant::now();
    let never = shadcn(p.path(), &registry_url, &["view", "calendar-demo"]).await;
    assert!(!never.status.success());
    let said = String::from_utf8_lossy(&never.stderr).into_owned()
        + &String::from_utf8_lossy(&never.stdout);
    assert!(said.contains("503"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // Each file was fetched once, whatever the CLI asked twice.
    assert_eq!(origin.count("/shadcn/styles/new-york-v4/button.json"), 1);
    assert_eq!(origin.count("/shadcn/colors/neutral.json"), 1);
}

async fn shadcn_mcp_lists_searches_views_and_finds_examples_then_offline() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let registry_url = format!("{}/shadcn", base(&d));
    let p = project();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/shadcn-mcp.mjs");
    let run = |mode: &'static str| {
        let mut command = tokio::process::Command::new("node");
        command
            .arg(&script)
            .env("REGISTRY_URL", &registry_url)
            .env("PROJECT", p.path())
            .env("MODE", mode)
            .kill_on_drop(true);
        async move {
            let output = tokio::time::timeout(Duration::from_secs(120), command.output())
                .await
                .unwrap_or_else(|_| panic!("{mode}: shadcn mcp hung"))
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                output.status.success(),
                "{mode}: {}\n{stdout}",
                String::from_utf8_lossy(&output.stderr)
            );
            let findings: serde_json::Value =
                serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
            findings
        }
    };
    let online = run("online").await;
    assert!(
        online["never"].as_str().unwrap().contains("NOT_FOUND"),
        "{online}"
    );
    let fetched = origin.requests();
    origin.close();
    let offline = run("offline").await;
    // What was never fetched is a clear failure offline: the daemon's 503, not a hang.
    assert!(
        offline["never"].as_str().unwrap().contains("503"),
        "{offline}"
    );
    let catalog = "/shadcn/styles/new-york-v4/registry.json";
    assert_eq!(
        fetched.iter().find(|(p, _)| p == catalog).map(|(_, n)| *n),
        Some(1),
        "{fetched:?}"
    );
}

fn doctor(d: &TestDaemon, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = crate::harness::base_command(crate::harness::BIN);
    command
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .arg("doctor");
    for (var, value) in env {
        command.env(var, value);
    }
    let out = command.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

fn registry_line<'a>(report: &'a str, verdict: &str, needle: &str) -> &'a str {
    let start = format!("{verdict:<5} registry");
    report
        .lines()
        .find(|l| l.starts_with(&start) && l.contains(needle))
        .unwrap_or_else(|| panic!("no `{start} ... {needle}` line in:\n{report}"))
}

async fn doctor_checks_the_listener_and_where_registry_url_points() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (_, report) = doctor(&d, &[]);
    registry_line(&report, "ok", "serving on http://127.0.0.1:");
    assert!(
        !report.contains(base.rsplit_once('/').unwrap().1),
        "the secret was printed:\n{report}"
    );
    registry_line(&report, "warn", "REGISTRY_URL is not set");
    let here = format!("{base}/shadcn");
    let (_, report) = doctor(&d, &[("REGISTRY_URL", &here)]);
    registry_line(&report, "ok", "REGISTRY_URL points here");
    let (_, report) = doctor(&d, &[("REGISTRY_URL", "https://ui.shadcn.com/r")]);
    registry_line(&report, "warn", "not shadcache");
    let (_, report) = doctor(
        &d,
        &[
            ("REGISTRY_URL", &here),
            ("HTTP_PROXY", "http://proxy.test:3128"),
        ],
    );
    registry_line(&report, "warn", "NO_PROXY does not name 127.0.0.1");
    let (_, report) = doctor(
        &d,
        &[
            ("REGISTRY_URL", &here),
            ("HTTP_PROXY", "http://proxy.test:3128"),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    );
    assert!(!report.contains("NO_PROXY does not"), "{report}");

    // A secret file others could read: the listener stays off, and doctor says why.
    let mut d = d;
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
    let secret = d.data_dir.join("registry-secret");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut command = d.daemon_command();
    let d = d.spawn(&mut command);
    let (code, report) = doctor(&d, &[]);
    assert_eq!(code, Some(1), "{report}");
    registry_line(&report, "FAIL", "readable by others");
    // The rest of the daemon serves on.
    assert!(d.cli(&["ping"], None).status.success());
}

async fn warming_a_registry_fetches_its_catalog_and_every_item_once() {
    let origin = origin().await;
    let d = daemon_for(&origin, "requests_per_second = 1000\nmax_concurrent = 16\n");
    let out = d.cli(&["warm", "--registry", "shadcn"], None);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{summary}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 471 items listed; the recorded set has 97 of new-york-v4's files and the top level.
    assert!(summary.starts_with("shadcn (new-york-v4): "), "{summary}");
    let count = |what: &str| -> u64 {
        summary
            .split([':', ';', ','])
            .find_map(|part| part.trim().strip_suffix(what)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{what}` in {summary}"))
    };
    let files = count("files");
    assert!(files >= 471 + 8, "{summary}");
    let cached = count("cached");
    // Every new-york-v4 file recorded, the top-level files, and the recorded colours.
    assert!(cached >= 97 + 5 + 5, "{summary}");
    assert_eq!(
        files,
        cached + count("not in the registry or failed"),
        "{summary}"
    );
    // Each file asked of the origin once.
    for (path, n) in origin.requests() {
        assert_eq!(n, 1, "{path} asked {n} times");
    }
    // Warm: the CLI's files answer offline.
    origin.close();
    let http = http();
    let base = base(&d);
    for path in [
        "styles/new-york-v4/login-01.json",
        "colors/neutral.json",
        "styles/new-york-v4/registry.json",
    ] {
        let answer = http
            .get(format!("{base}/shadcn/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
    // A second warm costs nothing upstream while fresh: all from the cache.
    let again = d.cli(&["warm", "--registry", "shadcn"], None);
    let summary = String::from_utf8_lossy(&again.stdout);
    assert!(summary.contains(" 0 downloaded"), "{summary}");

    let svelte = d.cli(&["warm", "--registry", "@nope"], None);
    assert!(!svelte.status.success());
}

/// As user `nobody`: the secret file, the socket, and the listener with every URL it can
/// make up. Nothing is read, nothing is fetched.
async fn another_user_can_neither_learn_the_secret_nor_read_through_the_listener() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (root, secret) = base.rsplit_once('/').unwrap();
    let port = root.rsplit_once(':').unwrap().1;
    let script = r#"
        cat "$1" 2>/dev/null && echo "read the secret"
        "$2" --socket "$3" --config "$4" registry url >/dev/null 2>&1 && echo "asked the daemon"
        for path in /shadcn/styles/new-york-v4/button.json /0000/shadcn/index.json "/$6/shadcn/index.json" /; do
            exec 3<>"/dev/tcp/127.0.0.1/$5" || { echo "no connection"; continue; }
            printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
            head -n 1 <&3
            exec 3<&-
        done
        true"#;
    // The guessed secret is the real one with its last digit changed.
    let guess = wrong_secret(secret);
    let out = crate::harness::base_command("runuser")
        .args(["-u", "nobody", "--", "bash", "-c", script, "bash"])
        .arg(d.data_dir.join("registry-secret"))
        .arg(crate::harness::BIN)
        .arg(&d.socket)
        .arg(&d.config)
        .arg(port)
        .arg(&guess)
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(
        !seen.contains("read the secret") && !seen.contains(secret),
        "{seen}"
    );
    assert!(!seen.contains("asked the daemon"), "{seen}");
    let statuses: Vec<&str> = seen.lines().filter(|l| l.starts_with("HTTP/1.1")).collect();
    assert_eq!(statuses.len(), 4, "{seen}");
    assert!(
        statuses.iter().all(|s| s.starts_with("HTTP/1.1 404")),
        "{seen}"
    );
    assert!(origin.requests().is_empty(), "{:?}", origin.requests());
    // The user it belongs to reads through it.
    let answer = http()
        .get(format!("{base}/shadcn/index.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn namespaces_of_the_directory_are_served_from_their_own_registry() {
    let origin = origin().await;
    // A directory naming two registries on this origin, and one whose URL is not http(s).
    let directory = format!(
        r#"[{{"name":"@magic","homepage":"x","url":"{}/r/{{name}}.json","description":"x"}},
            {{"name":"@styled","homepage":"x","url":"{}/r/{{style}}/{{name}}.json","description":"x"}},
            {{"name":"@evil","homepage":"x","url":"file:///etc/{{name}}","description":"x"}}]"#,
        origin.registry_url("magic"),
        origin.registry_url("styled")
    );
    origin.set("/shadcn/registries.json", 200, directory.into_bytes());
    let item =
        |name: &str| format!(r#"{{"name":"{name}","type":"registry:ui","files":[]}}"#).into_bytes();
    origin.set("/magic/r/marquee.json", 200, item("marquee"));
    origin.set("/styled/r/new-york/dial.json", 200, item("dial"));
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let http = http();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let answer = http.get(path).send().await.unwrap();
            (answer.status(), answer.bytes().await.unwrap())
        }
    };
    let (status, body) = get(format!("{base}/magic/marquee.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_ref(), item("marquee").as_slice());
    let (status, _) = get(format!("{base}/styled/new-york/dial.json")).await;
    assert_eq!(status, StatusCode::OK);
    // The wrong shape for its template, a registry the directory lacks, one it names badly.
    for (path, needle) in [
        ("styled/dial.json", "by style"),
        ("magic/new-york/marquee.json", "no styles"),
        ("nobody/x.json", "@nobody"),
        ("evil/passwd.json", "@evil"),
    ] {
        let (status, body) = get(format!("{base}/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
    // The directory was read once for all of them.
    assert_eq!(origin.count("/shadcn/registries.json"), 1);
}

async fn a_stalled_registry_is_a_503_within_its_budget() {
    let origin = origin().await;
    let path = "/shadcn/styles/new-york-v4/input.json";
    origin.fault(path, Fault::Hang);
    let d = daemon_for(
        &origin,
        "first_byte_timeout = \"500ms\"\ntimeout = \"2s\"\n",
    );
    let started = Instant::now();
    let answer = http()
        .get(format!("{}{path}", base(&d)))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(answer).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("did not answer within 500ms"), "{detail}");
    // The budget, not the client's patience, ended it (generous for a loaded machine).
    assert!(took < Duration::from_secs(10), "{took:?}");
}

async fn a_namespace_in_components_json_reads_through_the_cache_with_its_header() {
    let origin = origin().await;
    let login = serde_json::json!({
        "$schema": "https://ui.shadcn.com/schema/registry-item.json",
        "name": "login",
        "type": "registry:ui",
        "files": [{"path": "registry/acme/login.tsx", "type": "registry:ui",
                   "content": "export function Login() { return null }\n"}]
    });
    origin.set("/acme/r/login.json", 200, login.to_string().into_bytes());
    let d = acme_daemon(&origin, "canary-acme");
    let base = base(&d);
    // The block `registry components-json` prints, in the project's components.json.
    let p = project();
    let block = crate::harness::base_command(crate::harness::BIN)
        .current_dir(p.path())
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .args(["registry", "components-json"])
        .output()
        .unwrap();
    let block: serde_json::Value = serde_json::from_slice(&block.stdout).unwrap();
    let file = p.path().join("components.json");
    let mut components: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    components["registries"] = block["registries"].clone();
    std::fs::write(&file, components.to_string()).unwrap();

    for _ in 0..2 {
        let out = shadcn_with(
            p.path(),
            &[("SHADCACHE_REGISTRY", &base)],
            &["view", "@acme/login"],
        )
        .await;
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let viewed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            viewed[0]["files"][0]["content"],
            login["files"][0]["content"]
        );
    }
    assert_eq!(origin.count("/acme/r/login.json"), 1);
    assert_eq!(
        origin.header_values("/acme/r/login.json", "authorization"),
        ["Bearer canary-acme"]
    );
    only_acme_got_credentials(&origin);
}

/// The issue's promise: warm once, then `shadcn add`, `view` and `search` with no network.
async fn after_one_warm_the_cli_works_with_no_network() {
    let origin = origin().await;
    let d = daemon_for(&origin, "requests_per_second = 1000\nmax_concurrent = 16\n");
    let warm = d.cli(&["warm", "--registry", "shadcn"], None);
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    origin.close();
    let registry_url = format!("{}/shadcn", base(&d));
    let p = project();
    // A block and its whole dependency tree (button, card, input, label, field, separator).
    let add = shadcn(p.path(), &registry_url, &["add", "login-01", "--yes"]).await;
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    for file in [
        "src/components/login-form.tsx",
        "src/components/ui/field.tsx",
        "src/components/ui/separator.tsx",
    ] {
        assert!(p.path().join(file).exists(), "{file} was not written");
    }
    let view = shadcn(p.path(), &registry_url, &["view", "dialog"]).await;
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    let search = shadcn(
        p.path(),
        &registry_url,
        &["search", "@shadcn", "-q", "card"],
    )
    .await;
    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert!(String::from_utf8_lossy(&search.stdout).contains("@shadcn/card"));
}

async fn a_namespace_is_warmed_from_its_own_catalog() {
    let origin = origin().await;
    origin.set(
        "/acme/r/registry.json",
        200,
        br#"{"name":"acme","homepage":"x","items":[{"name":"login","type":"registry:block"},{"name":"logout","type":"registry:block"}]}"#.to_vec(),
    );
    for name in ["login", "logout"] {
        let item = format!(r#"{{"name":"{name}","type":"registry:block","files":[]}}"#);
        origin.set(&format!("/acme/r/{name}.json"), 200, item.into_bytes());
    }
    let d = acme_daemon(&origin, "canary");
    let warm = d.cli(&["warm", "--registry", "@acme"], None);
    let summary = String::from_utf8_lossy(&warm.stdout);
    assert!(
        warm.status.success(),
        "{summary}{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    assert!(
        summary.starts_with("@acme: 3 files, 3 cached, 0 not in the registry"),
        "{summary}"
    );
    assert_eq!(origin.count("/acme/r/logout.json"), 1);
    origin.close();
    let answer = http()
        .get(format!("{}/acme/logout.json", base(&d)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn all_styles_warms_every_style_the_registry_names() {
    let origin = origin().await;
    let d = daemon_for(&origin, "requests_per_second = 1000\nmax_concurrent = 16\n");
    let warm = d.cli(&["warm", "--registry", "shadcn", "--all-styles"], None);
    let summary = String::from_utf8_lossy(&warm.stdout);
    assert!(
        warm.status.success(),
        "{summary}{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    // styles/index.json names new-york and default, config.json's presets 16 more, and
    // new-york-v4 is the default; the recorded set has catalogs for new-york-v4, new-york and
    // base-nova only.
    assert!(
        summary.contains("base-nova") && summary.contains("radix-vega"),
        "{summary}"
    );
    let (warmed, no_catalog) = summary.split_once("no catalog at").unwrap();
    assert!(warmed.contains("new-york-v4"), "{summary}");
    assert!(
        no_catalog.contains("styles/default/registry.json"),
        "{summary}"
    );
    for style in ["new-york-v4", "new-york", "base-nova"] {
        assert!(
            !no_catalog.contains(&format!("styles/{style}/")),
            "{summary}"
        );
    }
    assert_eq!(origin.count("/shadcn/styles/new-york-v4/login-01.json"), 1);
    assert_eq!(origin.count("/shadcn/styles/base-nova/button.json"), 1);
    assert_eq!(origin.count("/shadcn/styles/new-york/card.json"), 1);
    origin.close();
    let base = base(&d);
    for path in [
        "styles/base-nova/dialog.json",
        "styles/new-york/button.json",
    ] {
        let answer = http()
            .get(format!("{base}/shadcn/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}

async fn a_reload_keeps_the_registry_as_it_started_and_says_so() {
    let origin = origin().await;
    let d = daemon_for(&origin, "");
    let before = base(&d);
    let config = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        config.replace("[registry]\n", "[registry]\nrequests_per_second = 5\n"),
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_for_log("the [registry] settings change only on restart");
    assert_eq!(base(&d), before);
    let answer = http()
        .get(format!("{before}/shadcn/index.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
