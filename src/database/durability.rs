//! Host-side durability for a database that never fsyncs (PGlite under WASIX: fsync is off
//! and `fd_sync` is a no-op). `syncfs(2)` on the data directory's filesystem pushes committed
//! data to stable storage, so `l2.sync` can close the power-loss window: after every write
//! (`always`), once per `l2.sync_interval` when something was written (`interval`), or never
//! (`off`: survives a crash of the process, not of the machine).

use std::path::{Path, PathBuf};

/// Syncs the filesystem holding `dir`. Blocking: call from a blocking thread.
pub fn sync_dir(dir: &Path) -> Result<(), String> {
    let file =
        std::fs::File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
        return Err(format!(
            "syncfs on {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

pub async fn sync(dir: PathBuf) -> Result<(), String> {
    tokio::task::spawn_blocking(move || sync_dir(&dir))
        .await
        .map_err(|e| format!("sync thread failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_an_existing_dir_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        sync_dir(dir.path()).unwrap();
        let err = sync_dir(&dir.path().join("missing")).unwrap_err();
        assert!(err.contains("missing"), "{err}");
    }
}
