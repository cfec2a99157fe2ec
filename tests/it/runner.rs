//! The suite's own runner (libtest-mimic): it decides once, at start, which tests this machine
//! can run. A test that needs a tool the machine lacks is reported `ignored` in the runner's
//! summary, with the reason printed above it, never counted as passed. `SHADCACHE_REQUIRE_<NEED>`
//! (CI sets them) turns a missing tool into a failing test instead.

use std::future::Future;
use std::path::Path;
use std::process::Command;

use libtest_mimic::{Failed, Trial};

/// Something outside the repository that a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Node.js with the MCP SDK client and the `shadcn` CLI installed in `tests/mcp`
    /// (`npm ci --prefix tests/mcp`).
    Node,
    /// A PostgreSQL server named by `SHADCACHE_TEST_POSTGRES_URL` (`.ci/run` starts one).
    Postgres,
    /// A shell command that restarts that server (`SHADCACHE_TEST_POSTGRES_RESTART`).
    PostgresRestart,
    /// The same server also serving TLS, named by `SHADCACHE_TEST_POSTGRES_TLS_URL`.
    PostgresTls,
    /// Debian's systemd tools (`systemd-socket-activate`, `systemd-analyze`).
    Systemd,
    /// Root: to mount a tmpfs, or to act as a second user.
    Root,
    /// Not a tool: a long run that only its script starts (`--ignored`).
    Long,
}

impl Need {
    fn env_name(self) -> &'static str {
        match self {
            Need::Node => "NODE",
            Need::Postgres => "POSTGRES",
            Need::PostgresRestart => "POSTGRES_RESTART",
            Need::PostgresTls => "POSTGRES_TLS",
            Need::Systemd => "SYSTEMD",
            Need::Root => "ROOT",
            Need::Long => "LONG",
        }
    }

    /// Why this machine cannot run such a test, or `None` when it can.
    fn missing(self) -> Option<String> {
        match self {
            Need::Node => {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp");
                let node = Command::new("node").arg("--version").output();
                if !node.is_ok_and(|o| o.status.success()) {
                    return Some("node is not installed (Debian package nodejs)".into());
                }
                // The MCP SDK client, and the official `shadcn` CLI the registry tests drive.
                [
                    "node_modules/@modelcontextprotocol/sdk",
                    "node_modules/shadcn",
                ]
                .into_iter()
                .map(|package| dir.join(package))
                .find(|package| !package.is_dir())
                .map(|package| {
                    format!(
                        "{} is missing (run `npm ci --prefix tests/mcp`)",
                        package.display()
                    )
                })
            }
            Need::Postgres => env_missing("SHADCACHE_TEST_POSTGRES_URL"),
            Need::PostgresRestart => env_missing("SHADCACHE_TEST_POSTGRES_RESTART"),
            Need::PostgresTls => env_missing("SHADCACHE_TEST_POSTGRES_TLS_URL"),
            Need::Systemd => ["systemd-socket-activate", "systemd-analyze"]
                .into_iter()
                .find(|tool| !on_path(tool))
                .map(|tool| format!("{tool} is not installed (Debian package systemd)")),
            // SAFETY: getuid has no preconditions.
            Need::Root => (unsafe { libc::getuid() } != 0).then(|| "not running as root".into()),
            Need::Long => Some("a long run: its script in bench/ starts it".into()),
        }
    }

    fn required(self) -> bool {
        self != Need::Long
            && std::env::var(format!("SHADCACHE_REQUIRE_{}", self.env_name()))
                .is_ok_and(|v| v == "1")
    }
}

fn env_missing(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => None,
        _ => Some(format!(
            "{var} is not set (.ci/run starts a server and sets it)"
        )),
    }
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A test body: a plain function or an async one, which gets a multi-threaded runtime of its
/// own. `M` only tells the two impls apart.
pub trait Body<M>: Send + 'static {
    fn run(self);
}

pub struct Plain;
pub struct Async;

impl<F: FnOnce() + Send + 'static> Body<Plain> for F {
    fn run(self) {
        self()
    }
}

impl<F, Fut> Body<Async> for F
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    fn run(self) {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(self())
    }
}

pub struct Test {
    name: String,
    needs: Vec<Need>,
    body: Box<dyn FnOnce() + Send>,
}

impl Test {
    /// `module` is the test's `module_path!()`; its crate segment is dropped, so names read
    /// `cli::set_get_...` as libtest's did.
    pub fn new<M>(module: &str, name: &str, body: impl Body<M>) -> Test {
        let module = module.split_once("::").map_or("", |(_, rest)| rest);
        Test {
            name: format!("{module}::{name}"),
            needs: Vec::new(),
            body: Box::new(move || body.run()),
        }
    }

    pub fn needs(mut self, need: Need) -> Test {
        self.needs.push(need);
        self
    }
}

/// `tests![a, b: Node, c: Root + Postgres]`: the module's `tests()`, each named after its
/// function, with what it needs from the machine.
macro_rules! tests {
    ($($test:ident $(: $need:ident $(+ $more:ident)*)?),* $(,)?) => {
        pub fn tests() -> Vec<$crate::runner::Test> {
            vec![$(
                $crate::runner::Test::new(module_path!(), stringify!($test), $test)
                    $(.needs($crate::runner::Need::$need) $(.needs($crate::runner::Need::$more))*)?
            ),*]
        }
    };
}
pub(crate) use tests;

/// Turns the tests into trials: what this machine cannot run is ignored (its reason printed
/// once), or fails when `SHADCACHE_REQUIRE_<NEED>=1` says it must run.
pub fn trials(tests: Vec<Test>) -> Vec<Trial> {
    let mut probed: Vec<(Need, Option<String>)> = Vec::new();
    let mut missing = |need: Need| -> Option<String> {
        if let Some((_, why)) = probed.iter().find(|(n, _)| *n == need) {
            return why.clone();
        }
        let why = need.missing();
        if let Some(why) = &why
            && !need.required()
        {
            eprintln!("ignored: the tests that need {need:?}, because {why}");
        }
        probed.push((need, why.clone()));
        why
    };
    tests
        .into_iter()
        .map(|test| {
            let lacking = test
                .needs
                .iter()
                .find_map(|&need| missing(need).map(|why| (need, why)));
            let body = test.body;
            let trial = Trial::test(test.name, move || {
                body();
                Ok(())
            });
            match lacking {
                None => trial,
                Some((need, why)) if need.required() => {
                    let message = format!("SHADCACHE_REQUIRE_{}=1, but {why}", need.env_name());
                    Trial::test(trial.name().to_owned(), move || Err(Failed::from(message)))
                }
                Some(_) => trial.with_ignored_flag(true),
            }
        })
        .collect()
}
