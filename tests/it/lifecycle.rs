//! Start, stop and reload as an operator sees them: signals, the socket file, the data dir
//! lock, and peers of another uid.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use shadcache::protocol::{Request, Response};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::{FakeOrigin, Fault};

use crate::harness::{TEST_CONFIG, TestDaemon, base_command};
use crate::runner::tests;

tests![
    sigterm_drains_removes_the_socket_and_exits_zero,
    sighup_reloads_a_good_file_and_keeps_the_old_config_on_a_bad_one,
    a_second_daemon_on_the_same_data_dir_refuses,
    a_live_socket_is_not_taken_over_but_a_stale_one_is,
    a_peer_with_another_uid_is_refused: Root,
    sigterm_while_l2_is_still_opening_exits_promptly,
    an_idle_daemon_gives_back_its_file_pages_and_still_answers,
];

async fn capacity(d: &TestDaemon) -> u64 {
    match d.request(Request::Stats).await {
        Response::Stats(stats) => stats.tiers[0].capacity_bytes,
        other => panic!("{other:?}"),
    }
}

/// Components whose download GitHub holds back, so their gets are in flight at the SIGTERM.
const SLOW: [&str; 4] = ["button", "card", "badge", "input"];
const RAW: &str = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui";

async fn sigterm_drains_removes_the_socket_and_exits_zero() {
    let drained = drained_daemon("3s").await;
    sigterm_drains(&drained).await;
    let (_origin, mut d) = drained;
    let status = d.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", d.log_text());
    assert!(!d.socket.exists(), "socket file left behind");
}

async fn drained_daemon(drain: &str) -> (FakeOrigin, TestDaemon) {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    for name in SLOW {
        let delay = Fault::Delay(Duration::from_millis(700));
        origin.fault(&format!("{RAW}/{name}.tsx"), delay);
    }
    let d = TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n\
         [daemon]\nframe_timeout = \"1s\"\ndrain_timeout = \"{drain}\"\n",
        origin.github_section()
    ));
    (origin, d)
}

/// Gets in flight when SIGTERM comes are all answered, with the component, before the
/// connection closes; then the daemon exits 0 and takes its socket file with it.
async fn sigterm_drains((origin, d): &(FakeOrigin, TestDaemon)) {
    assert_eq!(
        std::fs::metadata(&d.socket).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut client = d.client().await;
    for name in SLOW {
        let key = format!("component:react:{name}");
        client.send(&Request::Get { key }).await.unwrap();
    }
    // In flight: GitHub has been asked for every file and is holding the answers back.
    for _ in 0..500 {
        if SLOW
            .iter()
            .all(|n| origin.count(&format!("{RAW}/{n}.tsx")) == 1)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    d.signal(libc::SIGTERM);
    let raw = fixtures()
        .join("raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui");
    let mut answered = 0;
    while let Ok(response) = client.recv().await {
        let Response::Value(Some(found)) = response else {
            panic!("{response:?}");
        };
        let expected = std::fs::read(raw.join(format!("{}.tsx", SLOW[answered]))).unwrap();
        assert_eq!(found.value.as_ref(), expected.as_slice());
        answered += 1;
    }
    assert_eq!(
        answered,
        SLOW.len(),
        "gets in flight were dropped:\n{}",
        d.log_text()
    );
}

async fn sighup_reloads_a_good_file_and_keeps_the_old_config_on_a_bad_one() {
    let d = TestDaemon::start_with(&format!("{TEST_CONFIG}\n[l1]\nmax_bytes = \"8MiB\"\n"));
    assert_eq!(capacity(&d).await, 8 << 20);

    std::fs::write(
        &d.config,
        format!("{TEST_CONFIG}\n[l1]\nmax_bytes = \"16MiB\"\n"),
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_for_log("SIGHUP: config reloaded");
    let mut reloaded = false;
    for _ in 0..200 {
        if capacity(&d).await == 16 << 20 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reloaded, "new budget never applied");

    std::fs::write(&d.config, "[l1]\nmax_bytes = \"sixteen\"\n").unwrap();
    d.signal(libc::SIGHUP);
    d.wait_for_log("keeping the running config");
    assert!(d.log_text().contains("line 2"), "{}", d.log_text());
    assert_eq!(capacity(&d).await, 16 << 20);
    assert_eq!(d.request(Request::Ping).await, Response::Pong);
}

fn a_second_daemon_on_the_same_data_dir_refuses() {
    let first = TestDaemon::start();
    let other_socket = first.dir.path().join("second.sock");
    let out = first
        .daemon_command_with(&other_socket, &first.data_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another shadcache daemon") && err.contains(&format!("pid {}", first.pid())),
        "{err}"
    );
    assert!(!other_socket.exists());
}

fn a_live_socket_is_not_taken_over_but_a_stale_one_is() {
    let first = TestDaemon::start();
    // Same socket, another data dir: the live daemon keeps its socket.
    let out = first
        .daemon_command_with(&first.socket, &first.dir.path().join("other-data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already listening"), "{err}");
    assert!(first.cli(&["ping"], None).status.success());

    // A socket file nobody listens on (left by a crash) is replaced.
    let stale = TestDaemon::prepare(TEST_CONFIG);
    let listener = std::os::unix::net::UnixListener::bind(&stale.socket).unwrap();
    drop(listener);
    assert!(stale.socket.exists());
    let mut command = stale.daemon_command();
    let stale = stale.spawn(&mut command);
    assert!(stale.cli(&["ping"], None).status.success());
}

fn a_peer_with_another_uid_is_refused() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    // Let another user reach the socket file, so that only SO_PEERCRED stands in the way.
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = d.daemon_command();
    let d = d.spawn(&mut command);
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = base_command("runuser")
        .args(["-u", "nobody", "--"])
        .arg(crate::harness::BIN)
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg("/nonexistent.toml")
        .arg("ping")
        .env("HOME", "/tmp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("permission denied: peer uid"), "{err}");
    assert!(d.cli(&["ping"], None).status.success());
}

/// Regression: dropping the runtime waited without limit for the database still starting, so
/// a daemon told to stop right after READY could hang after logging "stopped".
fn sigterm_while_l2_is_still_opening_exits_promptly() {
    for _ in 0..3 {
        let mut d = TestDaemon::start();
        d.signal(libc::SIGTERM);
        let status = d.wait_exit(Duration::from_secs(12));
        assert_eq!(status.code(), Some(0), "{}", d.log_text());
    }
}

/// `daemon.idle_release`: once nobody has asked anything for that long, the clean pages of
/// the files the daemon maps (its binary, the embedded Postgres's module) go back to the
/// kernel; the next requests fault back what they touch and are answered as before.
async fn an_idle_daemon_gives_back_its_file_pages_and_still_answers() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let mut command = d.daemon_command();
    command.env("SHADCACHE_DAEMON_IDLE_RELEASE", "3s");
    // The kernel gives back only pages no other process maps, and the daemons of the tests
    // running beside this one map the same binary and, under the same HOME, the same
    // unpacked Postgres module. A HOME of its own makes this daemon's module its alone.
    let home = d.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    command.env("HOME", &home);
    let d = d.spawn(&mut command);
    d.wait_l2_up().await;
    // Pages just written (that module, a binary just built) are dirty, and the kernel takes
    // back only clean ones: they are written out first.
    // SAFETY: sync(2) only flushes the page cache to disk.
    unsafe { libc::sync() };
    let set = Request::Set {
        key: "idle:kept".into(),
        value: "still here".into(),
        ttl: None,
    };
    assert!(matches!(d.request(set).await, Response::Stored(_)));
    let file_pages = || private_file_kib(d.pid());
    let before = file_pages();
    let released = "idle: memory given back";
    assert!(
        !d.log_text().contains(released),
        "measured after the release"
    );
    assert!(
        before > 8 * 1024,
        "{before} KiB of file pages mapped by the daemon alone"
    );
    d.wait_for_log(released);
    let after = file_pages();
    assert!(
        after * 2 < before,
        "file pages mapped by the daemon alone: {before} KiB before the release, {after} KiB \
         after"
    );
    d.wait_l2_holds(1).await;
    match d
        .request(Request::Get {
            key: "idle:kept".into(),
        })
        .await
    {
        Response::Value(Some(found)) => assert_eq!(&found.value[..], b"still here"),
        other => panic!("{other:?}"),
    }
}

/// The resident pages of files that only this process maps (`Private_Clean` of its file
/// mappings in /proc/PID/smaps): what the kernel can take back from it.
fn private_file_kib(pid: i32) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let mut file = false;
    let mut kib = 0;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("Private_Clean:") if file => {
                kib += fields.next().and_then(|v| v.parse::<u64>().ok()).unwrap();
            }
            // A mapping's first line: address range, perms, offset, device, inode, path.
            Some(range) if range.contains('-') && !range.ends_with(':') => {
                let path = fields.nth(4);
                file = path.is_some_and(|p| p.starts_with('/'));
            }
            _ => {}
        }
    }
    kib
}
