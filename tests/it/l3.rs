//! L3 through the real daemon against the fake GitHub serving the recorded fixtures: content
//! byte-identical to upstream, what each flow costs in requests, and a rate-limited origin
//! left alone until its reset.

use std::time::Duration;

use bytes::Bytes;
use shadcache::protocol::{Request, Response, StaleReason, TierName};
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::TestDaemon;

use crate::runner::tests;
use shadcache::testkit::fixtures::dir as fixtures;

tests![
    react_content_is_served_byte_identical_for_two_api_calls,
    a_rate_limited_origin_is_not_called_again_before_its_reset,
    base_ui_and_svelte_are_served_byte_identical,
    a_full_react_pass_costs_two_api_calls_and_a_second_pass_after_ttl_costs_no_quota,
    upstream_requests_are_paced,
    keys_read_together_download_each_file_once,
];

fn daemon_for(origin: &FakeOrigin) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}\n[daemon]\nframe_timeout = \"1s\"\n",
        origin.github_section()
    ))
}

async fn get(d: &TestDaemon, key: &str) -> Option<(Bytes, TierName)> {
    match d.request(Request::Get { key: key.into() }).await {
        Response::Value(found) => found.map(|f| (f.value, f.info.tier)),
        other => panic!("{key}: {other:?}"),
    }
}

const REACT_RAW: &str = "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4";

async fn react_content_is_served_byte_identical_for_two_api_calls() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);

    let (button, tier) = get(&d, "component:react:button").await.expect("button");
    assert_eq!(tier, TierName::Github);
    let expected = std::fs::read(dir.join(REACT_RAW).join("ui/button.tsx")).unwrap();
    assert_eq!(button.as_ref(), expected.as_slice());

    let (demo, _) = get(&d, "demo:react:card").await.expect("card demo");
    let expected = std::fs::read(dir.join(REACT_RAW).join("examples/card-demo.tsx")).unwrap();
    assert_eq!(demo.as_ref(), expected.as_slice());

    let (block, _) = get(&d, "block:react:login-01").await.expect("login-01");
    let block: serde_json::Value = serde_json::from_slice(&block).unwrap();
    let files = block["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let page = files.iter().find(|f| f["path"] == "page.tsx").unwrap();
    let expected =
        std::fs::read_to_string(dir.join(REACT_RAW).join("blocks/login-01/page.tsx")).unwrap();
    assert_eq!(page["content"], expected);

    let (list, _) = get(&d, "list:react:components").await.expect("listing");
    let list: Vec<String> = serde_json::from_slice(&list).unwrap();
    assert_eq!(list.len(), 61);

    let (meta, _) = get(&d, "metadata:react:alert-dialog")
        .await
        .expect("metadata");
    let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
    assert_eq!(meta["dependencies"][0], "radix-ui");
    assert_eq!(meta["registryDependencies"][0], "button");

    let (blocks, _) = get(&d, "list:react:blocks").await.expect("block listing");
    let blocks: serde_json::Value = serde_json::from_slice(&blocks).unwrap();
    let login = blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "login-01")
        .unwrap();
    assert_eq!(login["categories"][0], "authentication");

    // One directory listing and one recursive tree for everything above.
    let (_, api) = origin.totals();
    assert_eq!(api, 2, "{:?}", origin.requests());
    // A second read is L1's.
    assert_eq!(
        get(&d, "component:react:button").await.unwrap().1,
        TierName::Memory
    );
    assert_eq!(
        origin.count("/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx"),
        1
    );

    // Names that do not exist upstream get a clear answer and cost no download.
    for (key, says) in [
        (
            "component:react:buton",
            "not found: no component `buton` for react (did you mean `button`?)",
        ),
        (
            "demo:react:sidebar",
            "not found: component `sidebar` for react has no demo upstream",
        ),
    ] {
        match d.request(Request::Get { key: key.into() }).await {
            Response::Error(e) => {
                assert_eq!(e.code, shadcache::protocol::ErrorCode::NotFound);
                assert_eq!(e.message, says);
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let cli = d.cli(&["get", "component:react:buton"], None);
    assert_eq!(cli.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("did you mean `button`"));
    // Never the text of GitHub's 404 page served as source.
    assert!(cli.stdout.is_empty());
    assert_eq!(origin.totals().1, 2, "{:?}", origin.requests());
}

async fn a_rate_limited_origin_is_not_called_again_before_its_reset() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let listing = "/api/repos/shadcn-ui/ui/contents/apps/v4/registry?ref=main";
    origin.fault(
        listing,
        Fault::RateLimit {
            status: 403,
            retry_after: Some(120),
            reset_in: Duration::from_secs(600),
        },
    );
    let d = daemon_for(&origin);
    let rate_limited = |response: Response| match response {
        Response::Error(e) => {
            assert_eq!(e.code, shadcache::protocol::ErrorCode::RateLimited);
            assert!(e.message.contains("retrying in 1"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    };
    rate_limited(
        d.request(Request::Get {
            key: "component:react:button".into(),
        })
        .await,
    );
    assert_eq!(origin.count(listing), 1);
    origin.clear_faults();
    for _ in 0..3 {
        rate_limited(
            d.request(Request::Get {
                key: "component:react:card".into(),
            })
            .await,
        );
    }
    assert_eq!(
        origin.count(listing),
        1,
        "called before the retry-after passed"
    );
    let stats = d.stats().await;
    let l3 = stats
        .tiers
        .iter()
        .find(|t| t.tier == TierName::Github)
        .unwrap();
    assert!(l3.state.contains("rate limit"), "{}", l3.state);
}

/// Every other framework the fixtures cover: React with Base UI, and Svelte.
async fn base_ui_and_svelte_are_served_byte_identical() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    let base = "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/bases/base";
    let svelte = "raw.githubusercontent.com/huntabyte/shadcn-svelte/main/docs/src/lib/registry";
    for (key, file) in [
        (
            "component:react-base:button",
            format!("{base}/ui/button.tsx"),
        ),
        (
            "demo:react-base:dialog",
            format!("{base}/examples/dialog-example.tsx"),
        ),
        (
            "component:svelte:card",
            format!("{svelte}/ui/card/card.svelte"),
        ),
        (
            "demo:svelte:button",
            format!("{svelte}/examples/button-demo.svelte"),
        ),
    ] {
        let (value, tier) = get(&d, key)
            .await
            .unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(tier, TierName::Github);
        let expected = std::fs::read(dir.join(&file)).unwrap();
        assert_eq!(value.as_ref(), expected.as_slice(), "{key}");
    }
    let (block, _) = get(&d, "block:svelte:login-01")
        .await
        .expect("svelte login-01");
    let block: serde_json::Value = serde_json::from_slice(&block).unwrap();
    let paths: Vec<&str> = block["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(paths.contains(&"+page.svelte"), "{paths:?}");
    let (meta, _) = get(&d, "metadata:react-base:button")
        .await
        .expect("base metadata");
    let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
    assert_eq!(meta["name"], "button");
    // Two registries, two API calls each.
    assert_eq!(origin.totals().1, 4, "{:?}", origin.requests());
}

/// The budget: the whole react fixture set (25 components, their 22 demos, 4 blocks)
/// costs 2 API calls plus one raw download per file; a second pass after every TTL ran out
/// costs no primary quota (the tree is revalidated with a 304).
async fn a_full_react_pass_costs_two_api_calls_and_a_second_pass_after_ttl_costs_no_quota() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n\
         [ttl]\ncomponent = \"2s\"\ndemo = \"2s\"\nblock = \"2s\"\ntree = \"2s\"\n\n\
         [prefetch]\nenabled = false\n\n\
         [daemon]\nframe_timeout = \"1s\"\n",
        origin.github_section()
    ));
    let components = [
        "accordion",
        "alert",
        "alert-dialog",
        "avatar",
        "badge",
        "button",
        "button-group",
        "calendar",
        "card",
        "checkbox",
        "dialog",
        "dropdown-menu",
        "field",
        "input",
        "label",
        "popover",
        "select",
        "sheet",
        "switch",
        "table",
        "tabs",
        "tooltip",
        "sidebar",
        "chart",
        "form",
    ];
    let blocks = ["dashboard-01", "login-01", "sidebar-07", "signup-01"];
    let mut keys: Vec<String> = components
        .iter()
        .map(|c| format!("component:react:{c}"))
        .collect();
    keys.extend(components[..22].iter().map(|c| format!("demo:react:{c}")));
    keys.extend(blocks.iter().map(|b| format!("block:react:{b}")));
    let pass = || async {
        for key in &keys {
            assert!(get(&d, key).await.is_some(), "{key}");
        }
    };
    // The expired copies of the second pass are L2's (L1 drops what expired).
    d.wait_l2_up().await;
    pass().await;
    d.wait_l2_holds(keys.len() as u64).await;
    let raw_files = 25 + 22 + 11 + 2 + 6 + 2;
    let (all, api) = origin.totals();
    assert_eq!(api, 2, "{:?}", origin.requests());
    assert_eq!(all - api, raw_files, "one raw download per file");
    let quota_after_first = origin.quota_used();

    d.advance_clock(Duration::from_millis(2_100)).await;
    // Second pass: every answer is the expired copy, at once, while one background refresh
    // per key asks GitHub whether it changed.
    for key in &keys {
        match d.request(Request::Get { key: key.clone() }).await {
            Response::Value(Some(found)) => {
                assert_eq!(found.info.stale, Some(StaleReason::Revalidating), "{key}");
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let refreshed = d
        .wait_for_stats("every refresh", |s| s.router.refreshed == keys.len() as u64)
        .await;
    assert_eq!(refreshed.router.refreshed, keys.len() as u64);
    let l3 = refreshed
        .tiers
        .iter()
        .find(|t| t.tier == TierName::Github)
        .unwrap();
    assert_eq!(l3.revalidated, keys.len() as u64, "every sha matched");
    assert_eq!(
        origin.quota_used(),
        quota_after_first,
        "the second pass spent primary quota: {:?}",
        origin.requests()
    );
    let (all_after, api_after) = origin.totals();
    assert_eq!(
        all_after - api_after,
        raw_files,
        "an unchanged blob sha is never downloaded again"
    );
    assert_eq!(api_after, 3, "one conditional listing, answered 304");
    // Third pass: the refreshed copies are fresh again, and cost nothing.
    for key in &keys {
        match d.request(Request::Get { key: key.clone() }).await {
            Response::Value(Some(found)) => assert_eq!(found.info.stale, None, "{key}"),
            other => panic!("{key}: {other:?}"),
        }
    }
    assert_eq!(origin.totals(), (all_after, api_after));
    eprintln!(
        "first pass: 2 API calls + {raw_files} raw files; second pass after the TTL: {} request(s) \
         (304), 0 quota, 0 downloads",
        all_after - all
    );
}

/// Upstream requests are paced (`github.requests_per_second`, a burst of as many; prefetch
/// off, so only what is asked is requested): six
/// requests at 2 a second take well over a second, however fast the origin (unpaced, they
/// take a few milliseconds here).
async fn upstream_requests_are_paced() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 2\n\n\
         [prefetch]\nenabled = false\n\n\
         [daemon]\nframe_timeout = \"1s\"\n",
        origin.github_section()
    ));
    let started = std::time::Instant::now();
    // Two API calls for the tree, then four raw files.
    for name in ["button", "card", "badge", "alert"] {
        assert!(get(&d, &format!("component:react:{name}")).await.is_some());
    }
    assert_eq!(origin.totals().0, 6);
    // A burst, then one every 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(1_400),
        "six requests in {:?}",
        started.elapsed()
    );
}

/// Keys of one `mget` are read side by side, and share their downloads: ten metadata keys
/// read the registry index (`ui/_registry.ts`) once, the block and its components' demos
/// each file once.
async fn keys_read_together_download_each_file_once() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin);
    let names = [
        "accordion",
        "alert",
        "alert-dialog",
        "avatar",
        "badge",
        "button",
        "card",
        "dialog",
        "input",
        "label",
    ];
    let keys: Vec<String> = names
        .iter()
        .map(|n| format!("metadata:react:{n}"))
        .collect();
    match d.request(Request::MGet { keys }).await {
        Response::Values(values) => {
            assert!(values.iter().all(Option::is_some), "{values:?}");
        }
        other => panic!("{other:?}"),
    }
    let index = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/_registry.ts";
    assert_eq!(origin.count(index), 1, "{:?}", origin.requests());
}
