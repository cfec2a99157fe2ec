//! The CLI as a user runs it: outputs and exit codes (0 ok, 1 miss, 2 error).

use crate::harness::{TestDaemon, cli_at};
use crate::runner::tests;

tests![
    set_get_keys_del_round_trip_with_exit_codes,
    invalid_key_is_exit_2_with_the_reason,
    stats_table_and_json,
    no_daemon_says_how_to_start_one,
    config_shows_sources_and_bad_config_names_line_and_key,
    start_and_stop_a_daemon_without_a_service_manager,
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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

fn invalid_key_is_exit_2_with_the_reason() {
    let d = TestDaemon::start();
    let out = d.cli(&["get", "component:react:../../etc/passwd"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("invalid key") && err.contains("'/'"), "{err}");
}

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
    // Sizes with units (L1's default budget), and every row's size ends under the header's.
    assert!(table.contains("64.0 MiB"), "{table}");
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("tier"))
        .take_while(|l| !l.is_empty())
        .collect();
    let end = rows[0].find("size").unwrap() + "size".len();
    for row in &rows[1..] {
        let cell_end = row.as_bytes()[end - 1];
        let after = row.as_bytes().get(end).copied();
        assert!(cell_end != b' ' && after == Some(b' '), "{table}");
    }
    let json = d.cli(&["stats", "--json"], None);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["tiers"][0]["entries"], 1);
    assert_eq!(value["tiers"][0]["hits"], 1);
}

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

/// `shadcache start` and `stop`, as install.sh uses them where systemd does not run: start
/// leaves a detached daemon answering, says where it logs, and is a no-op when one answers;
/// stop drains it and waits until it is gone.
fn start_and_stop_a_daemon_without_a_service_manager() {
    let d = TestDaemon::prepare(crate::harness::TEST_CONFIG);
    // The daemon `start` launches reads its data dir from the config, not from a flag.
    let data_dir = d.dir.path().join("data");
    let config = format!(
        "data_dir = \"{}\"\n{}",
        data_dir.display(),
        crate::harness::TEST_CONFIG
    );
    std::fs::write(&d.config, config).unwrap();
    /// Stops what `start` launched even when an assertion fails first.
    struct Stop<'a>(&'a TestDaemon);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.cli(&["stop"], None);
        }
    }
    let _stop = Stop(&d);

    let started = d.cli(&["start"], None);
    let out = text(&started.stdout);
    assert!(started.status.success(), "{out}{}", text(&started.stderr));
    assert!(out.contains("started the shadcache daemon (pid "), "{out}");
    assert!(out.contains("shadcache-daemon.log"), "{out}");
    assert!(d.cli(&["ping"], None).status.success());
    assert!(data_dir.join("daemon.lock").exists());

    let again = d.cli(&["start"], None);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("already answers"),
        "{}",
        text(&again.stdout)
    );

    let stopped = d.cli(&["stop"], None);
    assert!(stopped.status.success(), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stdout).contains("stopped the shadcache daemon"));
    assert_eq!(d.cli(&["ping"], None).status.code(), Some(2));
    assert!(!d.socket.exists(), "the socket is left behind");
    let idle = d.cli(&["stop"], None);
    assert!(idle.status.success());
    assert!(text(&idle.stdout).contains("no shadcache daemon answers"));
}
