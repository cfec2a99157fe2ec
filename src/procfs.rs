//! What Linux's /proc says of a process: whether it still runs (`shadcache stop` waits for the
//! daemon to be gone), and the CPU time, memory and open descriptors the load generator
//! samples from the daemon. One reader, so the layout of /proc/PID/stat is spelled once.

#[cfg(any(test, feature = "testkit"))]
use std::time::Duration;

/// The fields of /proc/PID/stat this crate reads.
struct Stat {
    state: char,
    /// utime + stime, in clock ticks.
    #[cfg_attr(
        not(any(test, feature = "testkit")),
        expect(dead_code, reason = "only the load generator reads it")
    )]
    cpu_ticks: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The command name is in parentheses and may hold spaces and parentheses itself: the
    // fields that follow start after the last `)`, with the state (field 3 of proc(5)).
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Stat {
        state,
        cpu_ticks: utime + stime,
    })
}

/// Whether `pid` is a live process: one that exited but was not yet reaped by its parent (a
/// zombie) has stopped too.
pub(crate) fn running(pid: u32) -> bool {
    stat(pid).is_some_and(|stat| !matches!(stat.state, 'Z' | 'X'))
}

/// A process's use of the machine at one moment.
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// User and system CPU time since it started.
    pub cpu: Duration,
    pub rss_bytes: u64,
    /// The most RSS it ever had (`VmHWM`).
    pub peak_rss_bytes: u64,
    pub open_fds: u64,
}

/// `None` once the process is gone (or belongs to another user).
#[cfg(any(test, feature = "testkit"))]
pub(crate) fn usage(pid: u32) -> Option<Usage> {
    let stat = stat(pid)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |field: &str| status_kib(&status, field);
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Usage {
        cpu: Duration::from_secs_f64(stat.cpu_ticks as f64 / ticks_per_second),
        rss_bytes: kib("VmRSS:")? * 1024,
        peak_rss_bytes: kib("VmHWM:")? * 1024,
        open_fds,
    })
}

/// A `Name:   N kB` field of a /proc/PID/status text, in KiB.
pub(crate) fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let line = "4242 (shad (cache) d) S 1 4242 4242 0 -1 4194560 900 0 0 0 17 5 0 0 20 0 9 0";
        let stat = parse_stat(line).expect("parses");
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.cpu_ticks, 22);
    }

    #[test]
    fn this_process_runs_and_uses_memory_and_descriptors() {
        let me = std::process::id();
        assert!(running(me));
        let usage = usage(me).expect("our own /proc entry");
        assert!(usage.rss_bytes > 0 && usage.peak_rss_bytes >= usage.rss_bytes);
        assert!(usage.open_fds >= 3, "{usage:?}");
    }

    #[test]
    fn a_process_that_is_gone_is_not_running() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("reaped");
        assert!(!running(pid));
        assert_eq!(usage(pid), None);
    }
}
