//! The CLI as a user runs it: outputs and exit codes (0 ok, 1 miss, 2 error).

use crate::harness::{TestDaemon, cli_at};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn set_get_keys_del_round_trip_with_exit_codes() {
    let d = TestDaemon::start();
    let ping = d.cli(&["ping"], None);
    assert!(ping.status.success());
    assert_eq!(text(&ping.stdout).trim(), "pong");

    let set = d.cli(
        &["set", "component:react:button", "--ttl", "90s"],
        Some(b"export {}\n"),
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    let get = d.cli(&["get", "component:react:button", "-v"], None);
    assert_eq!(get.status.code(), Some(0));
    assert_eq!(get.stdout, b"export {}\n");
    let verbose = text(&get.stderr);
    assert!(
        verbose.contains("L1 memory") && verbose.contains("ttl 1m"),
        "{verbose}"
    );

    d.cli(&["set", "demo:react:card"], Some(b"x"));
    let keys = d.cli(&["keys", "component:*"], None);
    assert_eq!(text(&keys.stdout), "component:react:button\n");
    let all = d.cli(&["keys"], None);
    assert_eq!(text(&all.stdout).lines().count(), 2);

    assert_eq!(
        d.cli(&["del", "component:react:button"], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        d.cli(&["del", "component:react:button"], None)
            .status
            .code(),
        Some(1)
    );
    let miss = d.cli(&["get", "plain:gone"], None);
    assert_eq!(miss.status.code(), Some(1));
    assert!(miss.stdout.is_empty());
    // A domain key goes to GitHub, which the test config makes unreachable: an error that
    // says so, not a silent miss.
    let unreachable = d.cli(&["get", "component:react:button"], None);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        text(&unreachable.stderr).contains("cannot reach GitHub"),
        "{}",
        text(&unreachable.stderr)
    );
}

#[test]
fn invalid_key_is_exit_2_with_the_reason() {
    let d = TestDaemon::start();
    let out = d.cli(&["get", "component:react:../../etc/passwd"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("invalid key") && err.contains("'/'"), "{err}");
}

#[test]
fn stats_table_and_json() {
    let d = TestDaemon::start();
    d.cli(&["set", "a:b"], Some(b"v"));
    d.cli(&["get", "a:b"], None);
    let table = d.cli(&["stats"], None);
    assert!(table.status.success());
    let table = text(&table.stdout);
    assert!(
        table.contains("L1 memory") && table.contains("restarts:"),
        "{table}"
    );
    let json = d.cli(&["stats", "--json"], None);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["tiers"][0]["entries"], 1);
    assert_eq!(value["tiers"][0]["hits"], 1);
}

#[test]
fn no_daemon_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none.sock");
    let out = cli_at(&socket, &dir.path().join("c.toml"), &["ping"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no shadcache daemon at")
            && err.contains("systemctl --user start shadcache.socket")
            && err.contains("shadcache daemon"),
        "{err}"
    );
}

#[test]
fn config_shows_sources_and_bad_config_names_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[l1]\nmax_bytes = \"8MiB\"\n").unwrap();
    let socket = dir.path().join("s.sock");
    let out = cli_at(&socket, &config, &["config"], None);
    assert!(out.status.success());
    let shown = text(&out.stdout);
    let line = shown.lines().find(|l| l.starts_with("max_bytes")).unwrap();
    assert!(
        line.contains("\"8MiB\"") && line.ends_with("# file"),
        "{line}"
    );
    let socket_line = shown.lines().find(|l| l.starts_with("socket")).unwrap();
    assert!(socket_line.ends_with("# flag"), "{socket_line}");

    std::fs::write(&config, "[l1]\nmax_bytes = \"8MiB\"\nsweep = \"1s\"\n").unwrap();
    let out = cli_at(&socket, &config, &["config"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("sweep") && err.contains("c.toml"),
        "{err}"
    );
}

/// The benchmark harness's short run: against the daemon and against the bare echo floor,
/// each prints its result row (bench/run.sh runs the long version beside Redis and PGlite).
#[test]
fn bench_smoke_run_prints_its_rows() {
    let d = TestDaemon::start();
    for args in [
        &[
            "bench",
            "--requests",
            "50",
            "--keys",
            "20",
            "--clients",
            "2",
        ][..],
        &[
            "bench",
            "--requests",
            "50",
            "--keys",
            "20",
            "--zipf",
            "1.0",
            "--op",
            "set",
        ][..],
        &[
            "bench",
            "--echo",
            "--requests",
            "50",
            "--label",
            "bare echo",
        ][..],
    ] {
        let out = d.cli(args, None);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let row = stdout
            .lines()
            .find(|l| l.starts_with("| "))
            .unwrap_or_default();
        assert_eq!(row.matches('|').count(), 10, "{args:?}: {stdout}");
        assert!(stdout.contains("latency us: p50"), "{stdout}");
    }
    let l1 = d.cli(&["bench", "--requests", "50", "--keys", "20"], None);
    assert!(
        text(&l1.stdout).contains("answered by: L1 memory 100.0%"),
        "{}",
        text(&l1.stdout)
    );
}
