//! A client of the daemon's socket: connect, handshake, then requests and answers. Used by the
//! CLI, the MCP server and the tests. `send`/`recv` expose pipelining; `request` does one
//! round trip.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use crate::protocol::codec::{self, CodecError, MAX_FRAME_CEILING};
use crate::protocol::{
    ErrorCode, Hello, HelloReply, MAGIC, PROTOCOL_VERSION, Request, Response, WireError,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no shadcache daemon at {} — start it with `systemctl --user start shadcache.socket` or `shadcache daemon`",
        .0.display()
    )]
    NoDaemon(PathBuf),
    #[error("cannot connect to {}: {source}", path.display())]
    Connect { path: PathBuf, source: io::Error },
    #[error("the daemon refused the connection: {0}")]
    Refused(WireError),
    #[error("the daemon closed the connection")]
    Closed,
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// How long a client waits for an answer: longer than the daemon's own deadline on a
/// request (`daemon.request_timeout`, itself longer than GitHub's budget), so what a user
/// sees is the daemon's reason, never the client's timeout.
pub fn deadline(config: &crate::config::Config) -> Duration {
    config.daemon.request_timeout + Duration::from_secs(5)
}

pub struct Client {
    stream: BufReader<UnixStream>,
    timeout: Duration,
    pub daemon: HelloReply,
}

impl Client {
    pub async fn connect(path: &Path, timeout: Duration) -> Result<Client, ClientError> {
        let stream = match tokio::time::timeout(timeout, UnixStream::connect(path)).await {
            Err(_) => return Err(ClientError::Timeout(timeout)),
            Ok(Ok(stream)) => stream,
            Ok(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(ClientError::NoDaemon(path.to_owned()));
            }
            Ok(Err(source)) => {
                return Err(ClientError::Connect {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut client = Client {
            stream: BufReader::with_capacity(64 * 1024, stream),
            timeout,
            daemon: HelloReply {
                protocol: 0,
                daemon_version: String::new(),
                pid: 0,
            },
        };
        let sent = client
            .write(&Hello {
                magic: MAGIC,
                protocol: PROTOCOL_VERSION,
                client: format!("shadcache {}", env!("CARGO_PKG_VERSION")),
            })
            .await;
        // A daemon that refuses us may close before reading the hello; its reason is
        // still waiting to be read, and says more than "broken pipe".
        let reply: Result<HelloReply, WireError> = match (sent, client.read().await) {
            (_, Ok(reply)) => reply,
            (Err(e), Err(_)) | (Ok(()), Err(e)) => return Err(e),
        };
        client.daemon = reply.map_err(ClientError::Refused)?;
        Ok(client)
    }

    pub async fn request(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.send(request).await?;
        self.recv().await
    }

    /// Sends without waiting; answers come back in order through [`Client::recv`].
    pub async fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        self.write(request).await
    }

    pub async fn recv(&mut self) -> Result<Response, ClientError> {
        self.read().await
    }

    async fn write<T: serde::Serialize>(&mut self, message: &T) -> Result<(), ClientError> {
        let frame = codec::encode(message, MAX_FRAME_CEILING)?;
        tokio::time::timeout(self.timeout, self.stream.write_all(&frame))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
            .map_err(|e| ClientError::Codec(e.into()))
    }

    async fn read<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, ClientError> {
        let max = MAX_FRAME_CEILING;
        let payload = tokio::time::timeout(
            self.timeout,
            codec::read_frame(&mut self.stream, max, self.timeout),
        )
        .await
        .map_err(|_| ClientError::Timeout(self.timeout))??
        .ok_or(ClientError::Closed)?;
        Ok(codec::decode(&payload)?)
    }
}

impl ClientError {
    /// The connection broke (the daemon restarted, say): a new one may succeed. A timeout is
    /// not this: the daemon is there, and asking again would only double the wait.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            ClientError::Closed | ClientError::Codec(CodecError::Io(_) | CodecError::Truncated)
        )
    }

    /// The daemon answered, but with a refusal of this kind.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Refused(e) => Some(e.code),
            _ => None,
        }
    }
}
