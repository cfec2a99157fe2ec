//! Host-side durability for a database that never fsyncs (PGlite under WASIX: fsync is off
//! and `fd_sync` is a no-op). `syncfs(2)` on the data directory's filesystem pushes committed
//! data to stable storage, so `l2.sync` can close the power-loss window: after every write
//! (`always`), once per `l2.sync_interval` when something was written (`interval`), or never
//! (`off`: survives a crash of the process, not of the machine).

use std::path::{Path, PathBuf};

use super::error::L2Error;

/// Syncs the filesystem holding `dir`. Blocking: call from a blocking thread.
pub fn sync_dir(dir: &Path) -> Result<(), L2Error> {
    let failed = |e| L2Error::Sync(format!("{}: {e}", dir.display()));
    let file = std::fs::File::open(dir).map_err(failed)?;
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
        return Err(failed(std::io::Error::last_os_error()));
    }
    Ok(())
}

pub async fn sync(dir: PathBuf) -> Result<(), L2Error> {
    tokio::task::spawn_blocking(move || sync_dir(&dir))
        .await
        .map_err(|e| L2Error::Sync(format!("the sync thread failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_an_existing_dir_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        sync_dir(dir.path()).unwrap();
        let err = sync_dir(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
