//! The registry listener's TCP socket: taken from systemd (a second `ListenStream=` on
//! 127.0.0.1) when one was passed, else bound at `registry.listen`. Only loopback: the
//! address is checked when the config is loaded, and an inherited socket must be bound to
//! one too.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, RawFd};

use tokio::net::TcpListener;

pub struct WebListener {
    pub(super) inner: TcpListener,
    pub addr: SocketAddr,
    pub from_systemd: bool,
}

impl WebListener {
    /// Binds `listen`. When its fixed port is taken (another user's daemon on the same
    /// machine, another program), a free port is taken instead: `shadcache registry url`
    /// says which, and `shadcache doctor` warns that `REGISTRY_URL` no longer points here.
    pub async fn bind(listen: &str) -> io::Result<WebListener> {
        let wanted: SocketAddr = listen
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not IP:PORT"))?;
        let inner = match TcpListener::bind(wanted).await {
            Ok(listener) => listener,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && wanted.port() != 0 => {
                let listener = TcpListener::bind(SocketAddr::new(wanted.ip(), 0)).await?;
                tracing::warn!(
                    wanted = %wanted,
                    bound = %listener.local_addr()?,
                    "registry.listen's port is taken; the registry listener took a free one"
                );
                listener
            }
            Err(e) => return Err(e),
        };
        let addr = inner.local_addr()?;
        Ok(WebListener {
            inner,
            addr,
            from_systemd: false,
        })
    }

    /// Adopts a listening TCP socket systemd passed (LISTEN_FDS).
    pub fn from_systemd(fd: RawFd) -> io::Result<WebListener> {
        // SAFETY: systemd handed us this descriptor and nothing else in the process owns it.
        let std_listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
        let addr = std_listener.local_addr()?;
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("systemd's registry socket is bound to {addr}, not to loopback"),
            ));
        }
        std_listener.set_nonblocking(true)?;
        Ok(WebListener {
            inner: TcpListener::from_std(std_listener)?,
            addr,
            from_systemd: true,
        })
    }
}
