//! Logs through tracing to stderr: no colours unless stderr is a terminal, no timestamps under
//! journald (it adds its own), and a level that SIGHUP can change. `RUST_LOG`, when set, wins
//! over `daemon.log_level`.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

pub struct LogHandle {
    filter: reload::Handle<EnvFilter, Registry>,
    from_env: bool,
}

fn filter(level: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(level).map_err(|e| format!("invalid log level `{level}`: {e}"))
}

pub fn init(level: &str) -> LogHandle {
    let rust_log = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let from_env = rust_log.is_some();
    let initial = rust_log
        .as_deref()
        .and_then(|v| filter(v).ok())
        .or_else(|| filter(level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(initial);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let registry = tracing_subscriber::registry().with(layer);
    let _ = if journald {
        registry.with(fmt.without_time()).try_init()
    } else {
        registry.with(fmt).try_init()
    };
    LogHandle {
        filter: handle,
        from_env,
    }
}

impl LogHandle {
    pub fn set_level(&self, level: &str) -> Result<(), String> {
        if self.from_env {
            return Ok(());
        }
        let new = filter(level)?;
        self.filter.reload(new).map_err(|e| e.to_string())
    }
}
