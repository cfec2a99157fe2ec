//! The upstream fault matrix: every way GitHub (the fake origin) can misbehave, each against a
//! daemon that holds an expired copy of one component and none of another. For every fault:
//! the daemon stays up, another client's reads are unaffected, the expired copy is served
//! (saying it is stale), the uncached component gets an error that names the cause, upstream
//! calls stay bounded however often clients ask, and memory stays bounded.

use std::time::Duration;

use shadcache::protocol::{ErrorCode, Request, Response, TierName};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::TestDaemon;
use crate::runner::tests;

tests![
    server_error,
    timeout,
    an_origin_that_accepts_and_never_answers,
    a_body_that_stalls_halfway,
    a_body_that_trickles_a_byte_at_a_time,
    connection_reset,
    connection_refused,
    slow_body,
    truncated_body,
    garbage_body,
    body_over_the_size_limit,
    redirect_loop,
    forbidden_with_rate_limit_headers,
    too_many_requests_with_retry_after,
    not_found,
    not_modified_without_an_etag,
];

const LISTING: &str = "/api/repos/shadcn-ui/ui/contents/apps/v4/registry?ref=main";
const RAW: &str = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui";
const FIXTURE_RAW: &str =
    "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui";
/// `github.max_body` in these daemons.
const MAX_BODY: usize = 1 << 20;

/// The uncached component's answer: an error with this code whose message contains one of
/// these.
enum Expect {
    Error(ErrorCode, &'static [&'static str]),
}

async fn run(fault: Option<Fault>, expect: Expect) {
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    // The breaker is tested on its own (router.rs); here it must stay out of the way, so
    // each fault is seen for what it is.
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\
         connect_timeout = \"1s\"\nfirst_byte_timeout = \"1s\"\nidle_timeout = \"1s\"\n\
         timeout = \"2s\"\nmax_body = \"{MAX_BODY}\"\n\n\
         [ttl]\ncomponent = \"1s\"\ntree = \"1s\"\n\n\
         [breaker]\nmin_failures = 1000\ncooldown = \"1h\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.github_section()
    ));
    let button = std::fs::read(dir.join(FIXTURE_RAW).join("button.tsx")).unwrap();
    let get = |key: &'static str| Request::Get { key: key.into() };

    match d.request(get("component:react:button")).await {
        Response::Value(Some(found)) => assert_eq!(found.info.tier, TierName::Github),
        other => panic!("{other:?}"),
    }
    let note = Request::Set {
        key: "note:other-client".into(),
        value: "mine".into(),
        ttl: None,
    };
    assert!(matches!(d.request(note).await, Response::Stored(_)));
    d.advance_clock(Duration::from_millis(1_100)).await;
    let rss_before = rss_kib(d.pid());

    match &fault {
        Some(fault) => {
            for path in [
                LISTING.to_owned(),
                format!("{RAW}/button.tsx"),
                format!("{RAW}/dialog.tsx"),
            ] {
                origin.fault(&path, fault.clone());
            }
        }
        None => {
            origin.close();
            refused(&origin).await;
        }
    }
    let before = origin.totals().0;

    // Another client reads its own key all along, from its own connection.
    let other = {
        let mut client = d.client().await;
        tokio::spawn(async move {
            for _ in 0..200 {
                let answer = client.request(&get("note:other-client")).await.unwrap();
                match answer {
                    Response::Value(Some(found)) => assert_eq!(&found.value[..], b"mine"),
                    other => panic!("the other client got {other:?}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // The expired copy, at once and every time, whatever GitHub does behind it.
    for _ in 0..20 {
        match d.request(get("component:react:button")).await {
            Response::Value(Some(found)) => {
                assert_eq!(found.value.as_ref(), button.as_slice());
                assert_ne!(found.info.tier, TierName::Github, "{:?}", found.info);
            }
            other => panic!("no stale copy: {other:?}"),
        }
    }
    // A component with no copy: a clear error, each time a client asks.
    for _ in 0..3 {
        let answer = d.request(get("component:react:dialog")).await;
        let Expect::Error(code, causes) = &expect;
        match &answer {
            Response::Error(e) => {
                assert_eq!(e.code, *code, "{}", e.message);
                assert!(
                    causes.iter().any(|c| e.message.contains(c)),
                    "{:?} does not name the cause",
                    e.message
                );
            }
            _ => panic!("unexpected answer {answer:?}"),
        }
    }
    other.await.unwrap();
    let ping = d.request(Request::Ping).await;
    assert!(matches!(ping, Response::Pong), "{ping:?}");

    // Bounded: one background refresh for the 20 stale reads (it is not retried before
    // `breaker.cooldown`), and at most a listing and a file for each of the 3 misses, each
    // followed at most `max_redirects` times.
    let calls = origin.totals().0 - before;
    let redirects = if fault == Some(Fault::RedirectLoop) {
        6
    } else {
        1
    };
    assert!(
        calls <= (2 + 3 * 2) * redirects,
        "{calls} upstream requests: {:?}",
        origin.requests()
    );
    let rss_after = rss_kib(d.pid());
    assert!(
        rss_after < rss_before + 64 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}

/// Waits until the closed origin refuses connections (its listener is dropped a moment
/// after the abort).
async fn refused(origin: &FakeOrigin) {
    let addr = origin
        .api_url()
        .trim_start_matches("http://")
        .trim_end_matches("/api")
        .to_owned();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the origin still accepts connections");
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

const UNAVAILABLE: ErrorCode = ErrorCode::Unavailable;

async fn server_error() {
    run(
        Some(Fault::Status(503)),
        Expect::Error(UNAVAILABLE, &["GitHub answered 503"]),
    )
    .await;
}

async fn timeout() {
    run(
        Some(Fault::Delay(Duration::from_secs(3))),
        Expect::Error(UNAVAILABLE, &["did not answer within"]),
    )
    .await;
}

async fn an_origin_that_accepts_and_never_answers() {
    run(
        Some(Fault::Hang),
        Expect::Error(UNAVAILABLE, &["GitHub did not answer within 1s"]),
    )
    .await;
}

async fn a_body_that_stalls_halfway() {
    run(
        Some(Fault::StallBody),
        Expect::Error(UNAVAILABLE, &["GitHub stopped sending for 1s"]),
    )
    .await;
}

/// Never silent for the idle budget, so only the whole-answer budget stops it.
async fn a_body_that_trickles_a_byte_at_a_time() {
    run(
        Some(Fault::Trickle(Duration::from_millis(300))),
        Expect::Error(UNAVAILABLE, &["did not complete within 2s"]),
    )
    .await;
}

async fn connection_reset() {
    run(
        Some(Fault::Reset),
        Expect::Error(UNAVAILABLE, &["cannot reach GitHub", "cut off"]),
    )
    .await;
}

async fn connection_refused() {
    run(None, Expect::Error(UNAVAILABLE, &["cannot reach GitHub"])).await;
}

async fn slow_body() {
    run(
        Some(Fault::Slow(Duration::from_millis(100))),
        Expect::Error(UNAVAILABLE, &["did not complete within"]),
    )
    .await;
}

async fn truncated_body() {
    run(
        Some(Fault::Truncate),
        Expect::Error(UNAVAILABLE, &["cut off"]),
    )
    .await;
}

async fn garbage_body() {
    run(
        Some(Fault::Garbage),
        Expect::Error(ErrorCode::BadUpstream, &["does not match its blob sha"]),
    )
    .await;
}

async fn body_over_the_size_limit() {
    run(
        Some(Fault::Huge(MAX_BODY * 8)),
        Expect::Error(ErrorCode::BadUpstream, &["-byte limit"]),
    )
    .await;
}

async fn redirect_loop() {
    run(
        Some(Fault::RedirectLoop),
        Expect::Error(ErrorCode::BadUpstream, &["redirected too often"]),
    )
    .await;
}

async fn forbidden_with_rate_limit_headers() {
    run(
        Some(Fault::RateLimit {
            status: 403,
            retry_after: None,
            reset_in: Duration::from_secs(600),
        }),
        Expect::Error(ErrorCode::RateLimited, &["rate limit"]),
    )
    .await;
}

async fn too_many_requests_with_retry_after() {
    run(
        Some(Fault::RateLimit {
            status: 429,
            retry_after: Some(120),
            reset_in: Duration::from_secs(600),
        }),
        Expect::Error(ErrorCode::RateLimited, &["rate limit"]),
    )
    .await;
}

async fn not_found() {
    run(
        Some(Fault::Status(404)),
        Expect::Error(ErrorCode::NotFound, &["not found upstream"]),
    )
    .await;
}

async fn not_modified_without_an_etag() {
    // The listing's 304 confirms our copy; a 304 to a download that sent no ETag is bogus.
    run(
        Some(Fault::NotModifiedWithoutEtag),
        Expect::Error(
            ErrorCode::BadUpstream,
            &["304 to a request that had no ETag"],
        ),
    )
    .await;
}
