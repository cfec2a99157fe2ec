//! The listening socket: taken from systemd (socket activation) when one was passed, else
//! bound by the daemon at the configured path, mode 0600, in a directory only the user can
//! enter. A socket file left by a crashed daemon is replaced; one a live daemon answers on is
//! not.

use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("a shadcache daemon is already listening on {0}")]
    AlreadyRunning(PathBuf),
    #[error("{0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
    #[error("the socket passed by systemd (fd {fd}) is unusable: {source}")]
    Inherited { fd: RawFd, source: io::Error },
}

pub struct Listener {
    pub(crate) inner: UnixListener,
    /// Set when the daemon bound the socket itself, and so must remove it on exit.
    owned_path: Option<PathBuf>,
    description: String,
}

impl Listener {
    pub fn bind(path: &Path) -> Result<Listener, ListenError> {
        let bind_error = |source| ListenError::Bind {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(bind_error)?;
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                match std::os::unix::net::UnixStream::connect(path) {
                    Ok(_) => return Err(ListenError::AlreadyRunning(path.to_owned())),
                    Err(_) => {
                        tracing::info!(path = %path.display(), "removing stale socket file");
                        std::fs::remove_file(path).map_err(bind_error)?;
                    }
                }
            }
            Ok(_) => return Err(ListenError::NotASocket(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(bind_error(e)),
        }
        let inner = UnixListener::bind(path).map_err(bind_error)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(bind_error)?;
        Ok(Listener {
            inner,
            owned_path: Some(path.to_owned()),
            description: path.display().to_string(),
        })
    }

    /// Adopts the listening socket systemd passed as `fd` (LISTEN_FDS).
    pub fn from_systemd(fd: RawFd) -> Result<Listener, ListenError> {
        let inherited = |source| ListenError::Inherited { fd, source };
        check_unix_stream(fd).map_err(inherited)?;
        // SAFETY: systemd handed us this descriptor and nothing else in the process owns it.
        let std_listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
        std_listener.set_nonblocking(true).map_err(inherited)?;
        let description = std_listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| format!("fd {fd}"));
        let inner = UnixListener::from_std(std_listener).map_err(inherited)?;
        Ok(Listener {
            inner,
            owned_path: None,
            description: format!("{description} (from systemd)"),
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// Removes the socket file if the daemon bound it; a systemd socket belongs to systemd.
    pub(crate) fn cleanup(&self) {
        if let Some(path) = &self.owned_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An integer socket option of `fd` (`SO_DOMAIN`, `SO_TYPE`, `SO_ACCEPTCONN`).
pub fn sockopt(fd: RawFd, option: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len point to valid memory of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn check_unix_stream(fd: RawFd) -> io::Result<()> {
    let get = |option| sockopt(fd, option);
    if get(libc::SO_DOMAIN)? != libc::AF_UNIX || get(libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a Unix stream socket (use ListenStream= with a path)",
        ));
    }
    if get(libc::SO_ACCEPTCONN)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the socket is not listening",
        ));
    }
    Ok(())
}
