//! TLS to a shared PostgreSQL L2 against real servers (`.ci/postgres.sh` starts them): one
//! with a certificate from a throwaway CA, one without TLS. `verify-full` with the right CA
//! connects encrypted; with another CA, and `require` against the server without TLS, L2
//! stays down with a reason a person can act on, and the daemon serves on without it.

use shadcache::protocol::{Ack, Request, Response, TierName};

use crate::harness::TestDaemon;
use crate::postgres::{SERVER, fresh_database, server, sql};
use crate::runner::tests;

tests![
    verify_full_with_the_right_ca_connects_over_tls: PostgresTls,
    verify_full_with_another_ca_is_refused_with_the_reason: PostgresTls,
    require_against_a_server_without_tls_is_refused: Postgres,
];

fn tls_server() -> String {
    std::env::var("SHADCACHE_TEST_POSTGRES_TLS_URL").unwrap()
}

fn ca(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is set beside the TLS server's URL"))
}

fn daemon(url: &str, ca_file: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "[github]\nenabled = false\n\n\
         [l2]\nbackend = \"postgres\"\nurl = \"{url}\"\nca_file = \"{ca_file}\"\nopen_wait = \"500ms\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n"
    ))
}

/// Waits until L2 failed to connect, and returns the reason it shows.
async fn l2_down_reason(d: &TestDaemon) -> String {
    let stats = d
        .wait_for_stats("L2 down with a reason", |s| {
            s.tiers
                .iter()
                .any(|t| t.tier == TierName::Database && t.state.contains("cannot connect"))
        })
        .await;
    let l2 = stats.tiers.iter().find(|t| t.tier == TierName::Database);
    l2.unwrap().state.clone()
}

/// The daemon goes on without L2: a write is held in memory, and read back.
async fn serves_without_l2(d: &TestDaemon) {
    let set = Request::Set {
        key: "note:tls".into(),
        value: "v".into(),
        ttl: None,
    };
    assert_eq!(d.request(set).await, Response::Stored(Ack::Memory));
    let get = Request::Get {
        key: "note:tls".into(),
    };
    assert!(matches!(d.request(get).await, Response::Value(Some(_))));
}

async fn verify_full_with_the_right_ca_connects_over_tls() {
    let database = fresh_database(&tls_server()).await;
    let url = format!("{database} sslmode=verify-full");
    let d = daemon(&url, &ca("SHADCACHE_TEST_POSTGRES_TLS_CA"));
    d.wait_l2_up().await;
    let set = Request::Set {
        key: "note:tls".into(),
        value: "over tls".into(),
        ttl: None,
    };
    assert_eq!(d.request(set).await, Response::Stored(Ack::Stored));
    // The server's own view: the daemon's connections are encrypted.
    let admin = sql(&database).await;
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'shadcache'",
            &[],
        )
        .await
        .unwrap();
    let (encrypted, all): (i64, i64) = (row.get(0), row.get(1));
    assert!(
        all > 0 && encrypted == all,
        "{encrypted} of {all} connections use TLS"
    );
    let stored: i64 = admin
        .query_one("SELECT count(*) FROM entries WHERE key = 'note:tls'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
}

async fn verify_full_with_another_ca_is_refused_with_the_reason() {
    let database = fresh_database(&tls_server()).await;
    let url = format!("{database} sslmode=verify-full");
    let d = daemon(&url, &ca("SHADCACHE_TEST_POSTGRES_TLS_WRONG_CA"));
    let reason = l2_down_reason(&d).await;
    assert!(
        reason.contains("not signed by the CA in l2.ca_file"),
        "{reason:?} does not say what is wrong"
    );
    serves_without_l2(&d).await;
}

async fn require_against_a_server_without_tls_is_refused() {
    let _one_at_a_time = SERVER.lock().await;
    let database = fresh_database(&server()).await;
    let url = format!("{database} sslmode=require");
    let d = daemon(&url, "");
    let reason = l2_down_reason(&d).await;
    assert!(
        reason.contains("does not offer TLS"),
        "{reason:?} does not say what is wrong"
    );
    serves_without_l2(&d).await;
}
