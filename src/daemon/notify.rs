//! Talking to systemd: READY/STATUS/STOPPING/WATCHDOG over `NOTIFY_SOCKET`, and what systemd
//! passed in the environment (a listening socket, a watchdog period). The environment is read
//! once, in `main`, before any thread exists, because reading it unsets it.

use std::os::fd::RawFd;
use std::time::Duration;

use sd_notify::NotifyState;

/// What systemd handed this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemdEnv {
    /// The Unix socket clients connect to.
    pub listen_fd: Option<RawFd>,
    /// The registry listener's loopback TCP socket (a second `ListenStream=`).
    pub registry_fd: Option<RawFd>,
    pub watchdog: Option<Duration>,
}

impl SystemdEnv {
    /// Call before starting any thread: it unsets LISTEN_* so children do not inherit them.
    pub fn take() -> Result<SystemdEnv, String> {
        let fds = sd_notify::listen_fds().map_err(|e| format!("LISTEN_FDS: {e}"))?;
        let (mut listen_fd, mut registry_fd) = (None, None);
        for fd in fds {
            let slot = match crate::server::sockopt(fd, libc::SO_DOMAIN) {
                Ok(libc::AF_INET | libc::AF_INET6) => &mut registry_fd,
                _ => &mut listen_fd,
            };
            if slot.replace(fd).is_some() {
                return Err(
                    "systemd passed more than one socket of a kind; shadcache takes one Unix \
                     socket and one TCP socket (the registry listener)"
                        .into(),
                );
            }
        }
        let mut usec = 0;
        let watchdog = sd_notify::watchdog_enabled(false, &mut usec)
            .then(|| Duration::from_micros(usec))
            .filter(|d| !d.is_zero());
        Ok(SystemdEnv {
            listen_fd,
            registry_fd,
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
