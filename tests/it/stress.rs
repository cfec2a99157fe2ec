//! Short versions of the soak and the hostile clients (`shadcache bench --soak` and
//! `--hostile`; the long runs and their numbers are in RELIABILITY.md). They check outcomes:
//! no failed request, nothing leaked, every hostile client held or served, and never a
//! timing.

use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    a_short_soak_of_64_clients_has_no_errors_and_leaks_no_descriptors,
    hostile_clients_do_not_break_a_well_behaved_one,
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The number after `label` on the line that has it.
fn number_after(out: &str, label: &str) -> u64 {
    let at = out
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{out}"));
    out[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in:\n{out}"))
}

fn a_short_soak_of_64_clients_has_no_errors_and_leaks_no_descriptors() {
    let d = TestDaemon::start();
    let out = d.cli(
        &[
            "bench",
            "--soak",
            "3s",
            "--sample",
            "1s",
            "--clients",
            "64",
            "--keys",
            "500",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains(", 0 errors"), "{stdout}");
    let fds_before = number_after(&stdout[stdout.find("before the clients").unwrap()..], "fds");
    let after = &stdout[stdout.find("after the clients left").unwrap()..];
    let fds_after = number_after(after, "fds");
    // The 64 connections are gone again once their clients are (a few descriptors of L2's
    // pool may open lazily).
    assert!(fds_after <= fds_before + 4, "{stdout}");
    assert!(stdout.contains("budgets: L1 memory"), "{stdout}");
    assert!(stdout.contains("daemon request errors 0"), "{stdout}");
}

fn hostile_clients_do_not_break_a_well_behaved_one() {
    let d = TestDaemon::start_with(&format!("{TEST_CONFIG}max_connections = 600\n"));
    let out = d.cli(
        &[
            "bench",
            "--hostile",
            "--requests",
            "300",
            "--idle",
            "300",
            "--slow",
            "2",
            "--hang-ups",
            "2",
            "--frame-bytes",
            "1048576",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    // Success means the measuring client had every answer, alone and under load.
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(number_after(&stdout, "hostile:"), 300, "{stdout}");
    assert!(stdout.contains(" 0 connections refused"), "{stdout}");
    let hung_up = &stdout[stdout.find("slow writers").unwrap()..];
    assert!(number_after(hung_up, "times),") > 0, "{stdout}");
    assert!(number_after(hung_up, "mid-answer,") > 0, "{stdout}");
    assert!(stdout.contains("p99 loaded / alone:"), "{stdout}");
    // And the daemon is still whole.
    assert!(d.cli(&["ping"], None).status.success());
}
