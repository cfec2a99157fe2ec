//! The daemon as systemd runs it: unit files that verify, a socket passed by
//! `systemd-socket-activate`, and the sd_notify messages a NOTIFY_SOCKET owner sees.
//! Needs Debian's systemd tools; absent, the runner reports these tests ignored (CI installs
//! them and sets SHADCACHE_REQUIRE_SYSTEMD=1, which makes their absence a failure).

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{BIN, TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    unit_files_verify: Systemd,
    socket_activation_serves_on_the_passed_socket: Systemd,
    notify_socket_sees_ready_watchdog_and_stopping: Systemd,
];

fn unit_files_verify() {
    let dir = tempfile::tempdir().unwrap();
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    for unit in [
        "shadcache.socket",
        "shadcache-registry.socket",
        "shadcache.service",
    ] {
        let text = std::fs::read_to_string(units.join(unit)).unwrap();
        // verify wants ExecStart's binary to exist: point it at the one just built.
        let text = text.replace("%h/.cargo/bin/shadcache", BIN);
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("shadcache.socket"))
        .arg(dir.path().join("shadcache-registry.socket"))
        .arg(dir.path().join("shadcache.service"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about units of the host (not ours) are not our concern.
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("shadcache")).collect();
    assert!(out.status.success() && ours.is_empty(), "{stderr}");
}

async fn socket_activation_serves_on_the_passed_socket() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    // A free loopback port for the registry listener's socket, which systemd passes too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = crate::harness::base_command("systemd-socket-activate");
    command
        .arg("--listen")
        .arg(&d.socket)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-E")
        .arg(format!(
            "HOME={}",
            std::env::var("HOME").unwrap_or("/tmp".into())
        ))
        .arg(BIN)
        .arg("--config")
        .arg(&d.config)
        .arg("daemon")
        .arg("--data-dir")
        .arg(&d.data_dir);
    let mut d = d.launch(&mut command);
    // systemd-socket-activate starts the daemon on the first connection, as systemd does:
    // the ping waits in the socket's backlog until the daemon accepts it.
    d.wait_for_log("Listening on");
    let ping = d.cli(&["ping"], None);
    assert!(ping.status.success(), "{ping:?}\n{}", d.log_text());
    d.wait_ready();
    assert!(d.log_text().contains("(from systemd)"), "{}", d.log_text());
    // The registry listener took the TCP socket it was passed.
    let url = d.cli(&["registry", "url"], None);
    let url = String::from_utf8_lossy(&url.stdout);
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/")),
        "{url}\n{}",
        d.log_text()
    );
    assert!(
        d.log_text()
            .contains("registry listener on loopback (from systemd)"),
        "{}",
        d.log_text()
    );
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(Duration::from_secs(15)).code(), Some(0));
    // A socket passed by systemd belongs to systemd: the daemon leaves the file alone.
    assert!(d.socket.exists());
}

fn recv_until(socket: &UnixDatagram, wanted: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            let found = message.lines().any(|l| l == wanted);
            seen.push(message);
            if found {
                return;
            }
        }
    }
    panic!("never received {wanted}; got {seen:?}");
}

fn notify_socket_sees_ready_watchdog_and_stopping() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let notify_path = d.dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // WATCHDOG_PID must be the daemon's own pid: let a shell export its pid, then exec.
    let mut inner = d.daemon_command();
    let program = inner.get_program().to_owned();
    let args: Vec<String> = inner
        .get_args()
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let script = format!(
        "WATCHDOG_PID=$$ exec '{}' {}",
        program.to_string_lossy(),
        args.join(" ")
    );
    let mut command = crate::harness::base_command("sh");
    command
        .args(["-c", &script])
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "400000");
    inner.env_clear();
    let mut d = d.spawn(&mut command);

    let mut seen = Vec::new();
    recv_until(&notify, "READY=1", &mut seen);
    assert!(
        seen.iter().any(|m| m.contains("STATUS=serving on")),
        "{seen:?}"
    );
    recv_until(&notify, "WATCHDOG=1", &mut seen);
    d.signal(libc::SIGTERM);
    recv_until(&notify, "STOPPING=1", &mut seen);
    assert_eq!(d.wait_exit(Duration::from_secs(15)).code(), Some(0));
}
