//! Short versions of the soak and the hostile clients (`shadcache-load soak` and `hostile`;
//! the long runs and their numbers are in RELIABILITY.md), called as a library. They check
//! outcomes: no failed request, nothing leaked, every hostile client held or served, and
//! never a timing.

use std::time::Duration;

use shadcache::protocol::TierName;
use shadcache::testkit::load::{self, Hostile, Soak, Workload};

use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    a_short_soak_of_64_clients_has_no_errors_and_leaks_no_descriptors,
    hostile_clients_do_not_break_a_well_behaved_one,
];

async fn a_short_soak_of_64_clients_has_no_errors_and_leaks_no_descriptors() {
    let d = TestDaemon::start();
    let soak = Soak {
        workload: Workload {
            clients: 64,
            keys: 500,
            ..Workload::default()
        },
        duration: Duration::from_secs(3),
        sample: Duration::from_secs(1),
    };
    let report = load::soak(&d.socket, &soak, |_| {}).await.unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.errors, 0, "{report}");
    assert!(
        report.requests > 0 && !report.samples.is_empty(),
        "{report}"
    );
    let before = report
        .before
        .expect("the daemon's /proc entry before the clients");
    let after = report
        .after
        .expect("the daemon's /proc entry after the clients");
    // The 64 connections are gone again once their clients are (a few descriptors of L2's
    // pool may open lazily).
    assert!(after.open_fds <= before.open_fds + 4, "{report}");
    let stats = report
        .stats
        .as_ref()
        .expect("the daemon's stats after the soak");
    let l1 = stats.tiers.iter().find(|t| t.tier == TierName::Memory);
    assert!(l1.is_some_and(|l1| l1.capacity_bytes > 0), "{report}");
    assert_eq!(stats.request_errors, 0, "{report}");
}

async fn hostile_clients_do_not_break_a_well_behaved_one() {
    let d = TestDaemon::start_with(&format!("{TEST_CONFIG}max_connections = 600\n"));
    let hostile = Hostile {
        workload: Workload {
            requests: 300,
            ..Workload::default()
        },
        idle: 300,
        slow: 2,
        hang_ups: 2,
        frame_bytes: 1 << 20,
    };
    // Ok means the measuring client had every answer, alone and under load.
    let report = load::hostile(&d.socket, &hostile).await.unwrap();
    assert_eq!(report.idle_held, 300, "{report}");
    assert_eq!(report.refused_because, None, "{report}");
    assert!(report.slow_cut_off > 0, "{report}");
    assert!(report.hung_up > 0, "{report}");
    // And the daemon is still whole.
    assert!(d.cli(&["ping"], None).status.success());
}
