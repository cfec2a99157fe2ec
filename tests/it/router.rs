//! The router through the real daemon against the fake GitHub: coalesced misses, stale
//! answers while GitHub fails or is rate-limited, the circuit breaker's whole cycle, and the
//! write-behind queue (drained on SIGTERM, pushing back when full).

use std::time::Duration;

use bytes::Bytes;
use futures::future::join_all;
use shadcache::protocol::{
    Ack, BreakerState, BreakerStats, ErrorCode, Found, Request, Response, StaleReason, Stats,
    TierName,
};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    a_hundred_concurrent_misses_of_one_key_cost_one_upstream_request,
    github_down_serves_stale_copies_opens_the_breaker_and_recovers,
    rate_limited_github_serves_stale_copies_and_is_left_alone_until_the_reset,
    ten_thousand_queued_writes_survive_sigterm,
    a_full_queue_pushes_back_instead_of_growing,
    without_stale_while_revalidate_reads_wait_for_github_and_fall_back_to_stale,
    cache_aside_kinds_are_never_fetched,
    a_failing_refresh_is_not_retried_on_every_read,
];

const LISTING: &str = "/api/repos/shadcn-ui/ui/contents/apps/v4/registry?ref=main";
const RAW: &str = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4";
const FIXTURE_RAW: &str =
    "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4";

/// A daemon on the fake origin; `extra` is more TOML, placed before `[daemon]`.
fn daemon_for(origin: &FakeOrigin, extra: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n{extra}\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.github_section()
    ))
}

async fn get(d: &TestDaemon, key: &str) -> Response {
    d.request(Request::Get { key: key.into() }).await
}

async fn found(d: &TestDaemon, key: &str) -> Found {
    match get(d, key).await {
        Response::Value(Some(found)) => found,
        other => panic!("{key}: {other:?}"),
    }
}

async fn a_hundred_concurrent_misses_of_one_key_cost_one_upstream_request() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let raw = format!("{RAW}/ui/button.tsx");
    // Slow enough that every client asks while the first fetch is in flight.
    origin.fault(&raw, Fault::Delay(Duration::from_millis(500)));
    let d = daemon_for(&origin, "");
    let request = Request::Get {
        key: "component:react:button".into(),
    };
    // The first client asks and hangs up: the fetch goes on for everyone else.
    let mut quitter = d.client().await;
    quitter.send(&request).await.unwrap();
    drop(quitter);
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(d.client().await);
    }
    let answers = join_all(clients.iter_mut().map(|c| c.request(&request))).await;
    let expected = std::fs::read(dir.join(FIXTURE_RAW).join("ui/button.tsx")).unwrap();
    for answer in answers {
        match answer.unwrap() {
            Response::Value(Some(found)) => assert_eq!(found.value.as_ref(), expected.as_slice()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(origin.count(&raw), 1, "{:?}", origin.requests());
    assert_eq!(origin.count(LISTING), 1);
    let stats = d.stats().await;
    assert_eq!(stats.router.fetched, 1);
    assert!(stats.router.coalesced >= 99, "{:?}", stats.router);
}

const COMPONENTS: [&str; 5] = ["button", "card", "badge", "alert", "input"];

/// Fetches the five components, then waits for their (and the tree's) TTL to run out. L2
/// must be open first: the stale copies these tests expect are L2's (L1 drops what expired),
/// and on a loaded machine the embedded database takes seconds to open.
async fn fetch_then_expire(d: &TestDaemon) {
    d.wait_l2_up().await;
    for name in COMPONENTS {
        let found = found(d, &format!("component:react:{name}")).await;
        assert_eq!(found.info.tier, TierName::Github);
    }
    d.wait_l2_holds(COMPONENTS.len() as u64).await;
    d.advance_clock(Duration::from_millis(1_100)).await;
}

async fn github_down_serves_stale_copies_opens_the_breaker_and_recovers() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(
        &origin,
        "[ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n\n\
         [breaker]\nmin_failures = 3\nfailure_rate = 0.3\ncooldown = \"2s\"\n",
    );
    fetch_then_expire(&d).await;
    origin.fault(LISTING, Fault::Status(503));

    // Every answer is the expired copy, at once; the refreshes behind them fail.
    for name in COMPONENTS {
        let found = found(&d, &format!("component:react:{name}")).await;
        assert_eq!(found.info.tier, TierName::Database);
        assert!(found.info.stale.is_some(), "{name}: {:?}", found.info);
    }
    let opened = d
        .wait_for_stats("the breaker open", |s| breaker(s).opened == 1)
        .await;
    assert!(matches!(breaker(&opened).state, BreakerState::Open { .. }));
    let calls_when_opened = origin.totals().0;

    // While open: stale copies say why, a key with no copy gets a clear error, and GitHub
    // hears nothing.
    for name in COMPONENTS {
        let found = found(&d, &format!("component:react:{name}")).await;
        assert_eq!(found.info.stale, Some(StaleReason::BreakerOpen), "{name}");
    }
    let cli = d.cli(&["get", "component:react:card", "-v"], None);
    assert_eq!(cli.status.code(), Some(0));
    let verbose = String::from_utf8_lossy(&cli.stderr);
    assert!(
        verbose.contains("from L2 database") && verbose.contains("stale: breaker open"),
        "{verbose}"
    );
    match get(&d, "component:react:dialog").await {
        Response::Error(e) => {
            assert_eq!(e.code, ErrorCode::Unavailable);
            assert!(
                e.message.starts_with("GitHub unavailable, retrying in "),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        origin.totals().0,
        calls_when_opened,
        "{:?}",
        origin.requests()
    );

    // GitHub is back; after the cool-down one probe goes, succeeds, and closes it.
    origin.clear_faults();
    d.advance_clock(Duration::from_millis(2_100)).await;
    let probe = found(&d, "component:react:button").await;
    assert_eq!(probe.info.stale, Some(StaleReason::Revalidating));
    let closed = d
        .wait_for_stats("the breaker closed", |s| {
            breaker(s).state == BreakerState::Closed
        })
        .await;
    // closed -> open -> half-open -> closed
    assert_eq!(breaker(&closed).transitions, 3);
    // The probe's refresh lands in the tiers just after it closed the breaker.
    let mut again = found(&d, "component:react:button").await;
    for _ in 0..100 {
        if again.info.stale.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        again = found(&d, "component:react:button").await;
    }
    assert_eq!(again.info.stale, None, "{:?}", again.info);
    let dialog = found(&d, "component:react:dialog").await;
    assert_eq!(dialog.info.tier, TierName::Github);
}

async fn rate_limited_github_serves_stale_copies_and_is_left_alone_until_the_reset() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin, "[ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n");
    fetch_then_expire(&d).await;
    origin.fault(
        LISTING,
        Fault::RateLimit {
            status: 429,
            retry_after: Some(2),
            reset_in: Duration::from_secs(2),
        },
    );
    let first = found(&d, "component:react:button").await;
    assert!(first.info.stale.is_some());
    d.wait_for_stats("the refresh refused", |s| s.router.refreshed == 1)
        .await;
    let calls = origin.totals().0;
    for name in COMPONENTS {
        let found = found(&d, &format!("component:react:{name}")).await;
        assert_eq!(found.info.stale, Some(StaleReason::RateLimited), "{name}");
    }
    match get(&d, "component:react:dialog").await {
        Response::Error(e) => assert_eq!(e.code, ErrorCode::RateLimited, "{}", e.message),
        other => panic!("{other:?}"),
    }
    assert_eq!(origin.totals().0, calls, "called before the reset");
    // A rate limit is GitHub working: the breaker stays closed.
    let s = d.stats().await;
    assert_eq!(breaker(&s).state, BreakerState::Closed);
    assert_eq!(breaker(&s).window_failures, 0);

    origin.clear_faults();
    d.advance_clock(Duration::from_millis(2_100)).await;
    let after = found(&d, "component:react:card").await;
    assert_eq!(after.info.stale, Some(StaleReason::Revalidating));
}

const WRITE_BEHIND: &str = "[strategy]\ndefault = \"write-behind\"\n\n\
     [write_behind]\ncapacity = 20000\nbatch = 20000\nmax_age = \"1h\"\n";

async fn ten_thousand_queued_writes_survive_sigterm() {
    let config = TEST_CONFIG.replace("[daemon]", &format!("{WRITE_BEHIND}\n[daemon]"));
    let mut d = TestDaemon::start_with(&config);
    d.wait_l2_up().await;
    const N: usize = 10_000;
    let mut client = d.client().await;
    // Pipelined in windows, as a busy client would.
    for window in (0..N).collect::<Vec<_>>().chunks(32) {
        for i in window {
            let set = Request::Set {
                key: format!("note:{i}"),
                value: Bytes::from(format!("value {i}")),
                ttl: None,
            };
            client.send(&set).await.unwrap();
        }
        for _ in window {
            assert_eq!(client.recv().await.unwrap(), Response::Stored(Ack::Queued));
        }
    }
    // Nothing is due yet (a batch of 20,000 or an hour): all of it is still queued.
    let queued = d.stats().await.write_behind.expect("a write-behind queue");
    assert_eq!(queued.depth, N as u64);
    assert_eq!(queued.flushed, 0);

    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    assert!(
        d.log_text().contains("write-behind queue drained"),
        "{}",
        d.log_text()
    );

    // Restarted without the queue: every value comes from L2.
    std::fs::write(&d.config, TEST_CONFIG).unwrap();
    let mut command = d.daemon_command();
    d = d.spawn(&mut command);
    d.wait_l2_up().await;
    let keys: Vec<String> = (0..N).map(|i| format!("note:{i}")).collect();
    for chunk in keys.chunks(500) {
        let Response::Values(values) = d
            .request(Request::MGet {
                keys: chunk.to_vec(),
            })
            .await
        else {
            panic!("no values");
        };
        for (key, value) in chunk.iter().zip(values) {
            let found = value.unwrap_or_else(|| panic!("{key} was lost"));
            assert_eq!(found.info.tier, TierName::Database);
            assert_eq!(found.value, Bytes::from(format!("value {}", &key[5..])));
        }
    }
}

async fn a_full_queue_pushes_back_instead_of_growing() {
    let config = TEST_CONFIG.replace(
        "[daemon]",
        "[strategy]\ndefault = \"write-behind\"\n\n\
         [write_behind]\ncapacity = 50\nbatch = 10\nfull_wait = \"300ms\"\n\n[daemon]",
    );
    let d = TestDaemon::prepare(&config);
    // L2 cannot open (its data dir's parent is a file): every flush fails, nothing drains.
    let blocker = d.dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let mut command = d.daemon_command_with(&d.socket, &blocker.join("data"));
    let d = d.spawn(&mut command);
    for i in 0..50 {
        let set = Request::Set {
            key: format!("note:{i}"),
            value: Bytes::from_static(b"v"),
            ttl: None,
        };
        assert_eq!(d.request(set).await, Response::Stored(Ack::Queued), "{i}");
    }
    // The queue is full: the next write waits for room, gets none, and is held in memory
    // only, and says so.
    let set = Request::Set {
        key: "note:50".into(),
        value: Bytes::from_static(b"v"),
        ttl: None,
    };
    assert_eq!(d.request(set).await, Response::Stored(Ack::Memory));
    let q = d.stats().await.write_behind.expect("a write-behind queue");
    assert_eq!((q.depth, q.capacity), (50, 50));
    assert_eq!((q.waited, q.refused), (1, 1));
    assert!(q.failed_flushes > 0);
    // What is queued is readable.
    assert_eq!(found(&d, "note:7").await.value, Bytes::from_static(b"v"));
}

async fn without_stale_while_revalidate_reads_wait_for_github_and_fall_back_to_stale() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(
        &origin,
        "[ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n\n[strategy]\nstale_while_revalidate = false\n",
    );
    fetch_then_expire(&d).await;
    // GitHub up: the read waits and gets the copy confirmed fresh (same sha, no download).
    let confirmed = found(&d, "component:react:button").await;
    assert_eq!(
        (confirmed.info.tier, confirmed.info.stale),
        (TierName::Github, None)
    );
    assert_eq!(origin.count(&format!("{RAW}/ui/button.tsx")), 1);
    d.advance_clock(Duration::from_millis(1_100)).await;
    // GitHub failing: the expired copy, saying why (stale-if-error).
    origin.fault(LISTING, Fault::Status(500));
    let fallback = found(&d, "component:react:card").await;
    assert_eq!(fallback.info.tier, TierName::Database);
    assert_eq!(fallback.info.stale, Some(StaleReason::UpstreamFailed));
}

async fn cache_aside_kinds_are_never_fetched() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin, "[strategy]\ncomponent = \"cache-aside\"\n");
    assert_eq!(
        get(&d, "component:react:button").await,
        Response::Value(None)
    );
    assert_eq!(origin.totals(), (0, 0), "cache-aside asked GitHub");
    let set = Request::Set {
        key: "component:react:button".into(),
        value: Bytes::from_static(b"mine"),
        ttl: None,
    };
    d.wait_l2_up().await;
    assert_eq!(d.request(set).await, Response::Stored(Ack::Stored));
    assert_eq!(
        found(&d, "component:react:button").await.value,
        Bytes::from_static(b"mine")
    );
    // Other kinds still read through.
    assert_eq!(
        found(&d, "demo:react:card").await.info.tier,
        TierName::Github
    );
}

async fn a_failing_refresh_is_not_retried_on_every_read() {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let d = daemon_for(&origin, "[ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n");
    fetch_then_expire(&d).await;
    // An unusable answer is GitHub working (the breaker stays closed), but still a failure.
    origin.fault(LISTING, Fault::Garbage);
    let first = found(&d, "component:react:button").await;
    assert_eq!(first.info.stale, Some(StaleReason::Revalidating));
    d.wait_for_stats("the refresh failed", |s| s.router.refreshed == 1)
        .await;
    let listings = origin.count(LISTING);
    for _ in 0..20 {
        let again = found(&d, "component:react:button").await;
        assert_eq!(again.info.stale, Some(StaleReason::UpstreamFailed));
    }
    assert_eq!(origin.count(LISTING), listings, "a retry storm");
    assert_eq!(breaker(&d.stats().await).state, BreakerState::Closed);
}

/// GitHub's circuit breaker, as the stats report it.
fn breaker(stats: &Stats) -> &BreakerStats {
    let github = stats
        .router
        .breakers
        .iter()
        .find(|(t, _)| *t == TierName::Github);
    &github.expect("GitHub's breaker in the stats").1
}
