//! The hostile clients the `hostile` run sets on the daemon, each in a loop until told to
//! stop, counting what they did: slow writers, hang-ups in the middle of a large answer, and
//! maximum-size frames.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::workload::{TIMEOUT, key};
use crate::client::Client;
use crate::protocol::codec;
use crate::protocol::{Hello, MAGIC, PROTOCOL_VERSION, Request, Response};

/// What the hostile clients did, counted as they go.
#[derive(Default)]
pub(super) struct Counters {
    pub slow_bytes: AtomicU64,
    pub slow_cut_off: AtomicU64,
    pub hung_up: AtomicU64,
    pub max_frames: AtomicU64,
    /// Maximum-size frames answered with anything but `Stored`.
    pub max_frames_refused: AtomicU64,
}

/// A connection past the handshake, as a raw stream.
async fn handshaken(socket: &Path) -> std::io::Result<UnixStream> {
    let mut stream = UnixStream::connect(socket).await?;
    let hello = Hello {
        magic: MAGIC,
        protocol: PROTOCOL_VERSION,
        client: "shadcache-load hostile".into(),
    };
    let hello = codec::encode(&hello, usize::MAX).map_err(std::io::Error::other)?;
    stream.write_all(&hello).await?;
    codec::read_frame(&mut stream, 1 << 16, TIMEOUT)
        .await
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("closed during the handshake"))?;
    Ok(stream)
}

/// Sends a request one byte a second; the daemon cuts it off at `daemon.frame_timeout`, and
/// it starts again.
pub(super) async fn slow_writer(socket: PathBuf, stop: Arc<AtomicBool>, counts: Arc<Counters>) {
    let frame = codec::encode(&Request::Get { key: key(0) }, usize::MAX).expect("a small frame");
    while !stop.load(Relaxed) {
        let Ok(mut stream) = handshaken(&socket).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        for byte in &frame {
            if stream.write_all(&[*byte]).await.is_err() {
                counts.slow_cut_off.fetch_add(1, Relaxed);
                break;
            }
            counts.slow_bytes.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Asks for the large value under `key`, reads a little of the answer and hangs up; again
/// and again.
pub(super) async fn hang_up(
    socket: PathBuf,
    key: &'static str,
    stop: Arc<AtomicBool>,
    counts: Arc<Counters>,
) {
    let frame =
        codec::encode(&Request::Get { key: key.into() }, usize::MAX).expect("a small frame");
    while !stop.load(Relaxed) {
        let Ok(mut stream) = handshaken(&socket).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut some = [0u8; 4096];
        if stream.write_all(&frame).await.is_ok() && stream.read(&mut some).await.is_ok() {
            counts.hung_up.fetch_add(1, Relaxed);
        }
        drop(stream);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends frames of `bytes` (a set of one large value) in a loop, reading each answer.
pub(super) async fn max_frames(
    socket: PathBuf,
    bytes: usize,
    stop: Arc<AtomicBool>,
    counts: Arc<Counters>,
) {
    let set = Request::Set {
        key: "bench:hostile-max".into(),
        // What the request's other fields take is well under 1 KiB.
        value: Bytes::from(vec![b'm'; bytes.saturating_sub(1024)]),
        ttl: Some(Duration::from_secs(60)),
    };
    while !stop.load(Relaxed) {
        let Ok(mut client) = Client::connect(&socket, TIMEOUT).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while !stop.load(Relaxed) {
            match client.request(&set).await {
                Ok(Response::Stored(_)) => {
                    counts.max_frames.fetch_add(1, Relaxed);
                }
                Ok(_) => {
                    counts.max_frames_refused.fetch_add(1, Relaxed);
                    break;
                }
                Err(_) => break,
            }
        }
    }
}
