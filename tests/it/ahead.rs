//! Fetching before a client asks, through the real daemon and the fake origin: a registry
//! item's dependencies (and theirs, and the base color) fetched as soon as the item is, so
//! the CLI's next requests are hits; a component's demo over GitHub; the speculative fetches
//! dropped when the origin fails; hot keys revalidated before they expire, so the first read
//! after the TTL is fresh; and `/metrics`, read as Prometheus reads it.

use std::time::Duration;

use reqwest::StatusCode;
use shadcache::testkit::fixtures::{dir as github_fixtures, registry_dir};
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::TestDaemon;
use crate::registry::base;
use crate::runner::tests;

tests![
    a_fetched_item_brings_its_dependencies_two_levels_down,
    the_style_catalog_shows_the_second_level_before_the_first_arrives,
    with_prefetch_off_only_what_is_asked_is_fetched,
    a_component_read_over_github_brings_its_demo,
    fetches_ahead_are_cancelled_when_the_origin_fails,
    a_hot_key_is_revalidated_before_it_expires_and_a_cold_one_is_not,
    a_hot_key_is_refreshed_through_a_life_without_reads,
    metrics_are_scraped_and_parsed_as_prometheus_reads_them,
];

const ITEMS: &str = "/shadcn/styles/new-york-v4";

fn daemon_for(origin: &FakeOrigin, extra: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}{extra}\n[daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.registry_section()
    ))
}

async fn get(url: &str) -> (StatusCode, bytes::Bytes) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let answer = http.get(url).send().await.unwrap();
    (answer.status(), answer.bytes().await.unwrap())
}

async fn a_fetched_item_brings_its_dependencies_two_levels_down() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (status, _) = get(&format!("{base}/shadcn/styles/new-york-v4/login-01.json")).await;
    assert_eq!(status, StatusCode::OK);
    // login-01 names button, card, input, label and field; field names label and separator
    // (depth 2); the base color comes with the first level, the style's catalog with
    // login-01 itself.
    let stats = d
        .wait_for_stats("eight keys prefetched", |s| s.router.prefetched >= 8)
        .await;
    assert_eq!(stats.router.prefetched, 8, "{:?}", stats.router);
    for name in [
        "registry",
        "button",
        "card",
        "input",
        "label",
        "field",
        "separator",
    ] {
        assert_eq!(origin.count(&format!("{ITEMS}/{name}.json")), 1, "{name}");
    }
    assert_eq!(origin.count("/shadcn/colors/neutral.json"), 1);
    // What `shadcn add login-01` asks next is answered without the origin.
    let fetched = d.stats().await.router.fetched;
    for path in ["button", "card", "input", "label", "field", "separator"] {
        let (status, _) = get(&format!("{base}{ITEMS}/{path}.json")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, _) = get(&format!("{base}/shadcn/colors/neutral.json")).await;
    assert_eq!(status, StatusCode::OK);
    let stats = d.stats().await;
    assert_eq!(
        stats.router.fetched, fetched,
        "every read after login-01 was a hit"
    );
    for name in ["button", "separator"] {
        assert_eq!(origin.count(&format!("{ITEMS}/{name}.json")), 1, "{name}");
    }
}

/// Waits (10 s at most) until the origin was asked for `path` once.
async fn asked(origin: &FakeOrigin, path: &str) {
    for _ in 0..1000 {
        if origin.count(path) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(origin.count(path), 1, "{path}");
}

async fn the_style_catalog_shows_the_second_level_before_the_first_arrives() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    // The catalog is asked for alongside the first item read, before it comes (login-02
    // never does).
    origin.fault(&format!("{ITEMS}/login-02.json"), Fault::Hang);
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let hung = tokio::spawn(get(format!("{base}{ITEMS}/login-02.json").leak()));
    asked(&origin, &format!("{ITEMS}/registry.json")).await;
    hung.abort();
    // field.json never comes either: only field names separator, so separator can be known
    // only from the catalog.
    origin.fault(&format!("{ITEMS}/field.json"), Fault::Hang);
    let (status, _) = get(&format!("{base}{ITEMS}/login-01.json")).await;
    assert_eq!(status, StatusCode::OK);
    let stats = d
        .wait_for_stats("the catalog and separator prefetched", |s| {
            s.router.prefetched >= 2
        })
        .await;
    for name in ["registry", "field", "separator"] {
        assert_eq!(origin.count(&format!("{ITEMS}/{name}.json")), 1, "{name}");
    }
    // What `shadcn add` asks after field is a hit, though field itself is still on its way.
    let fetched = stats.router.fetched;
    let (status, _) = get(&format!("{base}{ITEMS}/separator.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d.stats().await.router.fetched, fetched);
}

async fn with_prefetch_off_only_what_is_asked_is_fetched() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    let d = daemon_for(&origin, "\n[prefetch]\nenabled = false\n");
    let base = base(&d);
    for name in ["login-01", "field"] {
        let (status, _) = get(&format!("{base}{ITEMS}/{name}.json")).await;
        assert_eq!(status, StatusCode::OK);
    }
    // Had a prefetch started after login-01, field's own fetch (later) would have found it
    // in flight or its dependencies requested by now.
    let stats = d
        .wait_for_stats("two fetches", |s| s.router.fetched >= 2)
        .await;
    assert_eq!(stats.router.prefetched, 0);
    let asked: Vec<String> = origin.requests().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        asked,
        [
            format!("{ITEMS}/field.json"),
            format!("{ITEMS}/login-01.json")
        ],
        "sorted by path"
    );
}

async fn a_component_read_over_github_brings_its_demo() {
    let origin = FakeOrigin::with_fixtures(&github_fixtures()).await.unwrap();
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n[registry]\nenabled = false\n\n\
         [daemon]\nlog_level = \"debug\"\n",
        origin.github_section()
    ));
    let out = d.cli(&["component", "button"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = d
        .wait_for_stats("the demo prefetched", |s| s.router.prefetched >= 1)
        .await;
    let fetched = stats.router.fetched;
    let out = d.cli(&["demo", "button"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
    let stats = d.stats().await;
    assert_eq!(stats.router.fetched, fetched, "the demo was a hit");
}

async fn fetches_ahead_are_cancelled_when_the_origin_fails() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    // button's prefetch hangs; dialog's read fails as a broken origin does.
    origin.fault(
        &format!("{ITEMS}/button.json"),
        Fault::Delay(Duration::from_secs(8)),
    );
    origin.fault(&format!("{ITEMS}/dialog.json"), Fault::Status(503));
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (status, _) = get(&format!("{base}{ITEMS}/login-01.json")).await;
    assert_eq!(status, StatusCode::OK);
    asked(&origin, &format!("{ITEMS}/button.json")).await;
    // A client asking for button now joins the prefetch in flight...
    let joined = tokio::spawn(get(format!("{base}{ITEMS}/button.json").leak()));
    d.wait_for_stats("the read joined the prefetch", |s| s.router.coalesced >= 1)
        .await;
    // ...and when the origin fails a read, the prefetch is dropped and the joined client
    // hears the failure at once instead of waiting out the hung request.
    let (status, _) = get(&format!("{base}{ITEMS}/dialog.json")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = joined.await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body:?}");
    let stats = d.stats().await;
    assert!(
        !stats.router.breakers.is_empty(),
        "the registry origin has a breaker"
    );
}

async fn a_hot_key_is_revalidated_before_it_expires_and_a_cold_one_is_not() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    let d = daemon_for(
        &origin,
        "\n[ttl]\nregistry = \"30m\"\n\n[prefetch]\nenabled = false\n\n\
         [refresh_ahead]\ninterval = \"100ms\"\nahead = \"10m\"\nmin_reads = 3\n\
         max_per_minute = 6000\n",
    );
    let base = base(&d);
    for name in ["button", "card"] {
        let (status, _) = get(&format!("{base}{ITEMS}/{name}.json")).await;
        assert_eq!(status, StatusCode::OK);
    }
    // Stored in L1 (then L2): a read that comes while a value is still being stored is
    // answered from the fetch, and L1 does not count it.
    d.wait_l2_holds(2).await;
    for _ in 0..3 {
        let (status, _) = get(&format!("{base}{ITEMS}/button.json")).await;
        assert_eq!(status, StatusCode::OK);
    }
    // 25 minutes on: both expire within the next 10; button was read 3 times since it was
    // stored, card never.
    d.advance_clock(Duration::from_secs(25 * 60)).await;
    d.wait_for_stats("button refreshed ahead", |s| s.router.refreshed_ahead >= 1)
        .await;
    assert_eq!(origin.count(&format!("{ITEMS}/button.json")), 2);
    // Past both TTLs: button is fresh (refreshed at minute 25), card is stale.
    d.advance_clock(Duration::from_secs(10 * 60)).await;
    let (status, _) = get(&format!("{base}{ITEMS}/button.json")).await;
    assert_eq!(status, StatusCode::OK);
    let stats = d.stats().await;
    assert!(stats.router.stale_answers.is_empty(), "{:?}", stats.router);
    let (status, _) = get(&format!("{base}{ITEMS}/card.json")).await;
    assert_eq!(status, StatusCode::OK);
    let stats = d.stats().await;
    assert_eq!(stats.router.refreshed_ahead, 1, "card was not hot");
    assert_eq!(
        stats
            .router
            .stale_answers
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>(),
        1,
        "card's first read after its TTL is the stale one"
    );
}

async fn a_hot_key_is_refreshed_through_a_life_without_reads() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    let d = daemon_for(
        &origin,
        "\n[ttl]\nregistry = \"30m\"\n\n[prefetch]\nenabled = false\n\n\
         [refresh_ahead]\ninterval = \"100ms\"\nahead = \"10m\"\nmin_reads = 3\n\
         max_per_minute = 6000\n",
    );
    let base = base(&d);
    let button = format!("{base}{ITEMS}/button.json");
    assert_eq!(get(&button).await.0, StatusCode::OK);
    d.wait_l2_holds(1).await;
    for _ in 0..3 {
        assert_eq!(get(&button).await.0, StatusCode::OK);
    }
    // Minute 25: hot (3 reads), refreshed; the new copy expires at minute 55.
    d.advance_clock(Duration::from_secs(25 * 60)).await;
    d.wait_for_stats("button refreshed ahead", |s| s.router.refreshed_ahead >= 1)
        .await;
    // Minute 50: not read in this life, yet refreshed again (the first idle life is
    // forgiven), so the read at minute 60 is fresh.
    d.advance_clock(Duration::from_secs(25 * 60)).await;
    d.wait_for_stats("button refreshed ahead again", |s| {
        s.router.refreshed_ahead >= 2
    })
    .await;
    d.advance_clock(Duration::from_secs(10 * 60)).await;
    assert_eq!(get(&button).await.0, StatusCode::OK);
    let stats = d.stats().await;
    assert!(stats.router.stale_answers.is_empty(), "{:?}", stats.router);
    assert_eq!(origin.count(&format!("{ITEMS}/button.json")), 3);
}

async fn metrics_are_scraped_and_parsed_as_prometheus_reads_them() {
    let origin = FakeOrigin::with_fixtures(&registry_dir()).await.unwrap();
    let d = daemon_for(&origin, "");
    let base = base(&d);
    let (status, _) = get(&format!("{base}{ITEMS}/login-01.json")).await;
    assert_eq!(status, StatusCode::OK);
    d.wait_for_stats("the prefetch", |s| s.router.prefetched >= 8)
        .await;
    // login-01 and the eight prefetched, stored: the reads below are L1's.
    d.wait_l2_holds(9).await;
    for _ in 0..3 {
        get(&format!("{base}{ITEMS}/button.json")).await;
    }
    let (status, _) = get(&format!("{base}{ITEMS}/no-such-item.json")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let content_type = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = answer.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let value = |metric: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric}{labels:?} in\n{text}"));
        match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{metric}: {other:?}"),
        }
    };
    let stats = d.stats().await;
    assert!(value("shadcache_commands_total", &[]) >= 5.0);
    assert_eq!(
        value("shadcache_origin_fetches_total", &[("purpose", "prefetch")]),
        8.0
    );
    // login-01, the missing item, and the catalog its near names come from.
    assert_eq!(
        value("shadcache_origin_fetches_total", &[("purpose", "read")]),
        stats.router.fetched as f64
    );
    assert!(stats.router.fetched >= 2);
    assert!(value("shadcache_answers_total", &[("tier", "memory")]) >= 3.0);
    assert_eq!(
        value(
            "shadcache_breaker_state",
            &[("origin", "registry"), ("state", "closed")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "shadcache_breaker_state",
            &[("origin", "registry"), ("state", "open")]
        ),
        0.0
    );
    let l1 = stats
        .tiers
        .iter()
        .find(|t| t.tier.id() == "memory")
        .unwrap();
    assert_eq!(
        value("shadcache_tier_entries", &[("tier", "memory")]),
        l1.entries as f64
    );
    assert!(l1.entries >= 8);
    assert_eq!(value("shadcache_tier_up", &[("tier", "memory")]), 1.0);
    assert_eq!(value("shadcache_write_behind_depth", &[]), 0.0);
    let latency = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "shadcache_read_latency_seconds" && s.labels.get("tier") == Some("memory")
        })
        .unwrap_or_else(|| panic!("no L1 latency histogram in\n{text}"));
    let prometheus_parse::Value::Histogram(buckets) = &latency.value else {
        panic!("{:?}", latency.value);
    };
    assert_eq!(buckets.last().unwrap().less_than, f64::INFINITY);
    assert!(buckets.last().unwrap().count >= 3.0, "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].count <= w[1].count),
        "cumulative"
    );

    // The same secret guards it: a wrong one learns nothing.
    let wrong = format!("{}x/metrics", base.trim_end_matches(char::is_alphanumeric));
    let answer = http.get(&wrong).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(!answer.text().await.unwrap().contains("shadcache_"));
}
