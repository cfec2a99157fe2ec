//! Talking to systemd: READY/STATUS/STOPPING/WATCHDOG over `NOTIFY_SOCKET`, and what systemd
//! passed in the environment (a listening socket, a watchdog period). The environment is read
//! once, in `main`, before any thread exists, because reading it unsets it.

use std::os::fd::RawFd;
use std::time::Duration;

use sd_notify::NotifyState;

/// What systemd handed this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemdEnv {
    pub listen_fd: Option<RawFd>,
    pub watchdog: Option<Duration>,
}

impl SystemdEnv {
    /// Call before starting any thread: it unsets LISTEN_* so children do not inherit them.
    pub fn take() -> Result<SystemdEnv, String> {
        let mut fds = sd_notify::listen_fds().map_err(|e| format!("LISTEN_FDS: {e}"))?;
        let listen_fd = fds.next();
        if fds.next().is_some() {
            return Err("systemd passed more than one socket; shadcache listens on one".into());
        }
        let mut usec = 0;
        let watchdog = sd_notify::watchdog_enabled(false, &mut usec)
            .then(|| Duration::from_micros(usec))
            .filter(|d| !d.is_zero());
        Ok(SystemdEnv {
            listen_fd,
            watchdog,
        })
    }
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("draining")]);
}

pub fn reloading(done: bool) {
    if done {
        send(&[NotifyState::Ready]);
    } else {
        send(&[NotifyState::Reloading]);
    }
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}
