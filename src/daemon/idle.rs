//! Giving memory back while nobody asks. Most of an idle daemon's resident memory is clean
//! pages of files it maps: the embedded Postgres's compiled module and the daemon's own
//! binary (BENCHMARKS.md, idle memory). After `daemon.idle_release` with no request, the
//! daemon asks the kernel to reclaim those pages (`MADV_PAGEOUT`) and returns the
//! allocator's free memory (`malloc_trim`). Nothing is lost: the next request faults back
//! only the pages it touches, from the page cache or the disk. Anonymous memory (the
//! database's heap, L1's values) stays where it is.

use std::time::Duration;

use tokio::time::Instant;

/// What one release took back, from /proc/self/status before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    pub rss_before: u64,
    pub rss_after: u64,
    /// File-backed mappings the kernel refused (an old kernel refuses them all).
    pub refused: usize,
}

/// Runs `release` once `after` has passed with `activity` unchanged, and again only after
/// the next activity has come and gone. `after` of zero turns it off.
pub async fn when_idle(
    after: Duration,
    activity: impl Fn() -> u64,
    mut release: impl AsyncFnMut(),
) {
    if after.is_zero() {
        return;
    }
    // Looked at four times per period: a release comes at most a quarter late.
    let mut tick = tokio::time::interval((after / 4).max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = activity();
    let mut quiet_since = Instant::now();
    let mut released = false;
    loop {
        tick.tick().await;
        let now = activity();
        if now != seen {
            (seen, quiet_since, released) = (now, Instant::now(), false);
        } else if !released && quiet_since.elapsed() >= after {
            released = true;
            release().await;
        }
    }
}

/// [`release`] off the runtime's threads, with what it took back in the log.
pub async fn release_logged() {
    match tokio::task::spawn_blocking(release).await {
        Ok(Some(r)) => tracing::info!(
            rss_before_mib = r.rss_before >> 20,
            rss_after_mib = r.rss_after >> 20,
            refused = r.refused,
            "idle: memory given back"
        ),
        Ok(None) => tracing::debug!("idle: /proc/self unreadable; nothing released"),
        Err(e) => tracing::warn!(error = %e, "idle: the release failed"),
    }
}

/// Asks the kernel to reclaim this process's clean file-backed pages and trims the heap.
/// `None` when /proc/self cannot be read.
pub fn release() -> Option<Released> {
    let rss_before = rss()?;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let mut refused = 0;
    for (start, len) in file_mappings(&maps) {
        // SAFETY: the range is a whole mapping of this process as /proc/self/maps listed it;
        // MADV_PAGEOUT is advice that never changes what the memory holds (a mapping gone
        // since is an ENOMEM, counted and ignored).
        if unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_PAGEOUT) } != 0 {
            refused += 1;
        }
    }
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    Some(Released {
        rss_before,
        rss_after: rss()?,
        refused,
    })
}

/// The address and length of every mapping of a file in a /proc/PID/maps listing.
fn file_mappings(maps: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let inode = fields.nth(3)?;
            let path = fields.next()?;
            if inode == "0" || !path.starts_with('/') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then(|| (start, end - start))
        })
        .collect()
}

fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(crate::procfs::status_kib(&status, "VmRSS:")? * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mappings_of_files_are_taken() {
        let maps = "\
55d0c0000000-55d0c1000000 r-xp 00000000 fd:01 1234 /usr/bin/shadcache
7f0000000000-7f0000200000 rw-p 00000000 00:00 0 
7f0000200000-7f0000300000 rw-p 00000000 00:00 0 [heap]
7f0000300000-7f0000400000 r--p 00001000 fd:01 99 /home/u/.cache/pglite-oxide/module (deleted)
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]";
        assert_eq!(
            file_mappings(maps),
            vec![
                (0x55d0_c000_0000, 0x100_0000),
                (0x7f00_0030_0000, 0x10_0000)
            ]
        );
    }

    #[test]
    fn a_release_leaves_this_process_working_and_reports_its_rss() {
        let before: Vec<u8> = (0..=255).collect();
        let released = release().expect("our own /proc");
        assert!(released.rss_before > 0 && released.rss_after > 0);
        // Pages reclaimed come back on use, unchanged.
        assert_eq!(before, (0..=255).collect::<Vec<u8>>());
    }

    #[tokio::test(start_paused = true)]
    async fn it_releases_once_per_quiet_spell_and_never_when_off() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        let activity = Arc::new(AtomicU64::new(0));
        let releases = Arc::new(AtomicU64::new(0));
        let (a, r) = (activity.clone(), releases.clone());
        let task = tokio::spawn(when_idle(
            Duration::from_secs(60),
            move || a.load(Relaxed),
            async move || {
                r.fetch_add(1, Relaxed);
            },
        ));
        let wait = |secs| tokio::time::sleep(Duration::from_secs(secs));
        wait(50).await;
        assert_eq!(releases.load(Relaxed), 0, "not idle long enough yet");
        wait(30).await;
        assert_eq!(releases.load(Relaxed), 1);
        wait(600).await;
        assert_eq!(releases.load(Relaxed), 1, "one release per quiet spell");
        activity.fetch_add(1, Relaxed);
        wait(30).await;
        assert_eq!(releases.load(Relaxed), 1, "busy again");
        wait(60).await;
        assert_eq!(releases.load(Relaxed), 2);
        task.abort();

        let off = tokio::spawn(when_idle(Duration::ZERO, || 0, async || panic!("off")));
        wait(1).await;
        assert!(off.is_finished() && off.await.is_ok());
    }
}
