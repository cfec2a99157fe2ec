//! Free space on the data dir's filesystem, checked before the embedded database is used.
//!
//! A full disk is worse here than for PostgreSQL itself. pglite-oxide 0.5.1 keeps a data dir
//! as an overlay on a shared template: the first time PostgreSQL opens a template file for
//! writing (it opens every relation file that way, reads included), the file is copied into
//! the data dir with `fs::copy`. On a full disk that copy stops short and leaves a truncated
//! file that hides the template's copy for good. A catalog index left empty that way made the
//! database answer as if every row were gone (RELIABILITY-crash.md, bug 1). Under WASIX the
//! database also never sees ENOSPC, only "I/O error", and a WAL segment it cannot create
//! kills it.
//!
//! So L2 is used only with room to spare, as Elasticsearch's disk watermarks do: writes
//! (and opening, which runs crash recovery) need [`WRITE_RESERVE`], reads need
//! [`READ_RESERVE`]. Below them the tier refuses with a reason that names the disk, and the
//! daemon goes on from memory. Another process filling the disk in the instant between the
//! check and a query is not covered.

use std::path::Path;

use super::error::L2Error;

/// A new 16 MiB WAL segment, a write as large as the largest frame (16 MiB by default), and
/// the copy of a template file, with room to spare.
pub(crate) const WRITE_RESERVE: u64 = 64 << 20;
/// The largest template file a read can make the overlay copy is 784 KiB (`pg_proc`).
const READ_RESERVE: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Bytes an unprivileged writer may still use on the filesystem holding `dir`.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path and a buffer statvfs fills on success.
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the buffer.
    let stat = unsafe { stat.assume_init() };
    // The field types vary by platform.
    #[allow(clippy::unnecessary_cast)]
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Whether the database in `dir` may be used for `access` now; if not, why. `dir` is `None`
/// for a database that is not on this machine's disk (a PostgreSQL server), and a filesystem
/// that cannot be asked is not refused.
pub fn check(dir: Option<&Path>, access: Access) -> Result<(), L2Error> {
    let Some(dir) = dir else { return Ok(()) };
    let Some(free) = free_bytes(dir) else {
        return Ok(());
    };
    let reserve = match access {
        Access::Read => READ_RESERVE,
        Access::Write => WRITE_RESERVE,
    };
    if free >= reserve {
        return Ok(());
    }
    let space = format!(
        "no space left on device: {} free on the filesystem of {}; L2 takes writes with {} MiB \
         free and reads with {} MiB",
        mib(free),
        dir.display(),
        WRITE_RESERVE >> 20,
        READ_RESERVE >> 20
    );
    Err(L2Error::NoSpace {
        space,
        during: None,
    })
}

/// A database error, with the free space when that is short: under WASIX a full disk reaches
/// the database as a plain "I/O error" (or a connection that just closes).
pub fn explain(error: L2Error, dir: Option<&Path>) -> L2Error {
    match (check(dir, Access::Write), &error) {
        (_, L2Error::NoSpace { .. }) | (Ok(()), _) => error,
        (Err(L2Error::NoSpace { space, .. }), _) => L2Error::NoSpace {
            space,
            during: Some(error.to_string()),
        },
        (Err(other), _) => other,
    }
}

/// Rounded down, so a disk just short of a reserve never reads as having it.
fn mib(bytes: u64) -> String {
    let tenths = bytes * 10 / (1 << 20);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_only_a_short_local_disk() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).expect("statvfs on a temp dir");
        let write = check(Some(dir.path()), Access::Write);
        assert_eq!(write.is_ok(), free >= WRITE_RESERVE, "{write:?}");
        let io = || L2Error::Query("I/O error".into());
        if let Err(why) = write {
            let why = why.to_string();
            assert!(why.starts_with("no space left on device"), "{why}");
            let explained = explain(io(), Some(dir.path())).to_string();
            assert_eq!(explained, format!("I/O error ({why})"));
        }
        assert_eq!(check(None, Access::Write), Ok(()));
        assert_eq!(explain(io(), None), io());
        // A filesystem that cannot be asked is not a reason to refuse.
        assert_eq!(
            check(Some(&dir.path().join("missing")), Access::Read),
            Ok(())
        );
        assert_eq!(mib(3 << 19), "1.5 MiB");
        assert_eq!(mib((64 << 20) - 1), "63.9 MiB");
    }
}
