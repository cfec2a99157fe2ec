//! `TestDaemon`: the real binary on a temporary socket and data dir, with its own config file
//! and its stderr in a log file; killed on drop. Every test gets a fresh one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use shadcache::client::Client;
use shadcache::protocol::{Request, Response, Stats};

pub const BIN: &str = env!("CARGO_BIN_EXE_shadcache");

/// A config suited to tests: short timeouts so misbehaving-client tests finish quickly, and
/// a GitHub that refuses connections at once (nothing in the tests reaches the internet).
/// `[daemon]` stays last: tests append keys to it.
pub const TEST_CONFIG: &str = r#"
[github]
api_url = "http://127.0.0.1:9"
raw_url = "http://127.0.0.1:9"

[registry]
shadcn_url = "http://127.0.0.1:9"
svelte_url = "http://127.0.0.1:9"
vue_url = "http://127.0.0.1:9"

[daemon]
log_level = "debug"
frame_timeout = "1s"
drain_timeout = "3s"
"#;

pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
}

/// The environment a daemon or CLI gets in tests: nothing inherited but HOME and PATH, so the
/// developer's own SHADCACHE_* or XDG variables cannot leak in.
pub fn base_command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for var in ["HOME", "PATH"] {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command
}

impl TestDaemon {
    pub fn start() -> TestDaemon {
        Self::start_with(TEST_CONFIG)
    }

    pub fn start_with(config: &str) -> TestDaemon {
        let daemon = Self::prepare(config);
        let mut command = daemon.daemon_command();
        daemon.spawn(&mut command)
    }

    /// Files in place, nothing started: for tests that launch the daemon their own way.
    pub fn prepare(config: &str) -> TestDaemon {
        let dir = tempfile::Builder::new()
            .prefix("shadcache-it-")
            .tempdir()
            .unwrap();
        let config_path = dir.path().join("config.toml");
        fs::write(&config_path, config).unwrap();
        TestDaemon {
            socket: dir.path().join("shadcache.sock"),
            data_dir: dir.path().join("data"),
            config: config_path,
            log: dir.path().join("daemon.log"),
            dir,
            child: None,
        }
    }

    pub fn daemon_command(&self) -> Command {
        self.daemon_command_with(&self.socket, &self.data_dir)
    }

    /// This daemon's config with another socket or data dir.
    pub fn daemon_command_with(&self, socket: &Path, data_dir: &Path) -> Command {
        let mut command = base_command(BIN);
        command
            .arg("--socket")
            .arg(socket)
            .arg("--config")
            .arg(&self.config)
            .arg("daemon")
            .arg("--data-dir")
            .arg(data_dir)
            // Tests move the daemon's clock instead of sleeping until TTLs run out.
            .env("SHADCACHE_TEST_CLOCK", "1")
            // Many daemons at once: each registry listener on a port of its own.
            .env("SHADCACHE_REGISTRY_LISTEN", "127.0.0.1:0");
        command
    }

    pub fn spawn(self, command: &mut Command) -> TestDaemon {
        let mut daemon = self.launch(command);
        daemon.wait_ready();
        daemon
    }

    /// Starts `command` without waiting for the daemon to be ready.
    pub fn launch(mut self, command: &mut Command) -> TestDaemon {
        self.start_child(command);
        self
    }

    fn start_child(&mut self, command: &mut Command) {
        let log = fs::File::create(&self.log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn shadcache daemon");
        self.child = Some(child);
    }

    /// `kill -9`, then the same daemon again on the same socket and data dir.
    pub fn kill_and_restart(&mut self) {
        self.signal(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(10));
        let mut command = self.daemon_command();
        self.start_child(&mut command);
        self.wait_ready();
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("daemon exited early ({status}):\n{}", self.log_text());
            }
            if self.log_text().contains(" ready") && self.socket.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon not ready after 30 s:\n{}", self.log_text());
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// Waits for the daemon to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.log_text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("log never said {needle:?}:\n{}", self.log_text());
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.socket, Duration::from_secs(10))
            .await
            .expect("connect to test daemon")
    }

    pub async fn request(&self, request: Request) -> Response {
        self.client().await.request(&request).await.unwrap()
    }

    /// Moves the daemon's clock forward: what a test waiting for a TTL, a breaker's cool-down
    /// or a rate limit's reset does instead of sleeping.
    pub async fn advance_clock(&self, by: Duration) {
        assert_eq!(
            self.request(Request::AdvanceClock(by)).await,
            Response::Pong
        );
    }

    pub async fn stats(&self) -> Stats {
        match self.request(Request::Stats).await {
            Response::Stats(stats) => *stats,
            other => panic!("{other:?}"),
        }
    }

    /// Polls stats until `done` holds (counters land just after answers), or gives up after
    /// 10 s naming `what` it waited for.
    pub async fn wait_for_stats(&self, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
        for _ in 0..1000 {
            let stats = self.stats().await;
            if done(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never saw {what}: {:#?}", self.stats().await);
    }

    /// Waits until L2 has opened (it opens after the daemon is ready: about 0.5 s, seconds on
    /// a loaded machine), at most a minute.
    pub async fn wait_l2_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let stats = self.stats().await;
            let up = stats
                .tiers
                .iter()
                .any(|t| t.tier == shadcache::protocol::TierName::Database && t.state == "up");
            if up {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("L2 never opened:\n{}", self.log_text());
    }

    /// Waits until L2 holds at least `rows` entries: fetched values reach it just after
    /// they are answered, and a test about to expire them wants their stale copies there.
    pub async fn wait_l2_holds(&self, rows: u64) {
        self.wait_for_stats("the fetched values in L2", |s| {
            s.tiers
                .iter()
                .any(|t| t.tier == shadcache::protocol::TierName::Database && t.entries >= rows)
        })
        .await;
    }

    /// Runs the CLI against this daemon.
    pub fn cli(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        cli_at(&self.socket, &self.config, args, stdin)
    }
}

pub fn cli_at(socket: &Path, config: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = base_command(BIN);
    command
        .arg("--socket")
        .arg(socket)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A tmpfs mounted for the test, unmounted on drop.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
