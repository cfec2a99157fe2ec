//! What every connection shares: the limits it enforces and the counters it keeps.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::config::Config;

#[derive(Debug, Default)]
pub struct ServerCounters {
    pub open: AtomicU64,
    pub total: AtomicU64,
    pub refused: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_frame: usize,
    pub frame_timeout: Duration,
    pub max_pipeline: usize,
    pub max_connections: u64,
    pub uid: u32,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        let d = &config.daemon;
        Limits {
            max_frame: d.max_frame_size.bytes() as usize,
            frame_timeout: d.frame_timeout,
            max_pipeline: d.max_pipeline as usize,
            max_connections: d.max_connections,
            // SAFETY: getuid has no preconditions and cannot fail.
            uid: unsafe { libc::getuid() },
        }
    }
}
