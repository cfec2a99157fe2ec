//! Short latency runs of the load generator (`shadcache-load bench` and `echo`; bench/run.sh
//! runs the long ones beside Redis and PGlite), called as a library: every request answered,
//! the tier that answered counted, and the table row bench/run.sh collects filled in. The
//! binary itself is run once, for its command line.

use shadcache::protocol::TierName;
use shadcache::testkit::load::{self, Bench, BenchReport, Echo, Op, Workload};

use crate::harness::{TestDaemon, base_command};
use crate::runner::tests;

tests![
    short_runs_against_the_daemon_and_the_echo_floor_fill_their_rows,
    the_load_tool_prints_the_row_bench_run_sh_collects,
];

fn small() -> Workload {
    Workload {
        requests: 50,
        keys: 20,
        ..Workload::default()
    }
}

/// bench/run.sh takes the last line that starts `| ` into a table of nine columns.
fn assert_row(report: &BenchReport) {
    let text = report.to_string();
    let row = text.lines().rfind(|l| l.starts_with("| "));
    assert_eq!(row, Some(report.row().as_str()), "{text}");
    assert_eq!(report.row().matches('|').count(), 10, "{text}");
}

async fn short_runs_against_the_daemon_and_the_echo_floor_fill_their_rows() {
    let d = TestDaemon::start();
    let gets = Bench {
        workload: Workload {
            clients: 2,
            ..small()
        },
        ..Bench::default()
    };
    let gets = load::bench(&d.socket, &gets).await.unwrap();
    assert_eq!(gets.requests, 100, "{gets}");
    // The key set was filled first: every get is an L1 hit.
    assert_eq!(gets.answered_by, vec![(TierName::Memory, 100)], "{gets}");
    assert!(
        gets.daemon.is_some_and(|cost| cost.peak_rss_bytes > 0),
        "{gets}"
    );
    assert_row(&gets);

    let sets = Bench {
        workload: Workload {
            zipf: 1.0,
            ..small()
        },
        op: Op::Set,
        ..Bench::default()
    };
    let sets = load::bench(&d.socket, &sets).await.unwrap();
    assert_eq!(sets.requests, 50, "{sets}");
    assert!(sets.answered_by.is_empty(), "{sets}");
    assert_row(&sets);

    let echo = load::echo(&Echo {
        workload: small(),
        ..Echo::default()
    })
    .await
    .unwrap();
    assert_eq!(echo.requests, 50, "{echo}");
    assert_eq!(echo.daemon, None, "{echo}");
    assert_eq!(echo.label, "bare echo");
    assert_row(&echo);
}

fn the_load_tool_prints_the_row_bench_run_sh_collects() {
    let d = TestDaemon::start();
    let out = base_command(env!("CARGO_BIN_EXE_shadcache-load"))
        .arg("--socket")
        .arg(&d.socket)
        .args([
            "bench",
            "--requests",
            "20",
            "--keys",
            "10",
            "--label",
            "smoke",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = stdout
        .lines()
        .rfind(|l| l.starts_with("| "))
        .unwrap_or_default();
    assert!(row.starts_with("| smoke | 1 | "), "{stdout}");
    assert_eq!(row.matches('|').count(), 10, "{stdout}");
}
