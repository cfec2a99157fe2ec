//! One client connection: a plain tokio task, not an actor. It checks the peer, does the
//! handshake, then reads frames in a reader task and answers them strictly in order while up
//! to `max_pipeline` run at once. Every way a client can misbehave (garbage, truncation,
//! oversized or slow frames, never reading its answers) ends at most this connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::dispatch::{self, Dispatcher};
use super::limits::Limits;
use crate::protocol::codec::{self, CodecError};
use crate::protocol::{
    ErrorCode, Hello, HelloReply, MAGIC, PROTOCOL_VERSION, Request, Response, WireError,
};

const READ_BUFFER: usize = 64 * 1024;
/// Free space made before each read: a typical request fits in one.
const READ_CHUNK: usize = 16 * 1024;

type Pending = Pin<Box<dyn Future<Output = Response> + Send>>;

/// Pipelined requests on one connection take effect in the order they were sent: reads run
/// concurrently with each other, but a write waits for everything sent before it, and
/// everything sent after a write waits for the write. So a client's `set` then `get` sees
/// its own write, while a burst of reads still overlaps (a slow miss does not hold up a hit).
///
/// It is a barrier in the connection's loop rather than a signal per request: a write is
/// started only once nothing is in flight, and no frame is taken while a write runs. Reads,
/// the common case, cost nothing extra.
#[derive(Default)]
struct Barrier {
    /// A write taken from the buffer, waiting for the requests before it.
    held: Option<Request>,
    /// A write is in flight (and, by the rule above, alone).
    writing: bool,
}

impl Barrier {
    fn blocked(&self) -> bool {
        self.held.is_some() || self.writing
    }

    /// Starts `request` now, or holds it until what is in flight is done.
    fn admit(
        &mut self,
        request: Request,
        dispatcher: &Arc<Dispatcher>,
        pending: &mut FuturesOrdered<Pending>,
    ) {
        if !dispatch::mutates(&request) {
            pending.push_back(run(request, dispatcher));
        } else if pending.is_empty() {
            self.writing = true;
            pending.push_back(run(request, dispatcher));
        } else {
            self.held = Some(request);
        }
    }

    /// After an answer went out: a finished write lifts the barrier; a held write starts
    /// once everything before it is done.
    fn answered(&mut self, dispatcher: &Arc<Dispatcher>, pending: &mut FuturesOrdered<Pending>) {
        if !pending.is_empty() {
            return;
        }
        self.writing = false;
        if let Some(request) = self.held.take() {
            self.writing = true;
            pending.push_back(run(request, dispatcher));
        }
    }
}

fn run(request: Request, dispatcher: &Arc<Dispatcher>) -> Pending {
    let dispatcher = dispatcher.clone();
    Box::pin(async move { dispatcher.dispatch(request).await })
}

/// Sends a refusal in place of the handshake reply, then closes. The client's hello is read
/// first (briefly, and only up to a small size): closing a socket with unread data resets it,
/// and the client would see "broken pipe" instead of the reason.
pub async fn refuse(mut stream: UnixStream, error: WireError, limits: Limits) {
    const HELLO_MAX: usize = 4096;
    let _ = tokio::time::timeout(
        limits.frame_timeout,
        codec::read_frame(&mut stream, HELLO_MAX, limits.frame_timeout),
    )
    .await;
    let reply: Result<HelloReply, WireError> = Err(error);
    if let Ok(frame) = codec::encode(&reply, limits.max_frame) {
        let _ = tokio::time::timeout(limits.frame_timeout, stream.write_all(&frame)).await;
    }
    let _ = stream.shutdown().await;
}

pub async fn serve(
    stream: UnixStream,
    dispatcher: Arc<Dispatcher>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == limits.uid => {}
        Ok(cred) => {
            tracing::warn!(peer_uid = cred.uid(), "refused a peer with another uid");
            let message = format!(
                "permission denied: peer uid {} is not the daemon's uid {}",
                cred.uid(),
                limits.uid
            );
            refuse(
                stream,
                WireError::new(ErrorCode::PermissionDenied, message),
                limits,
            )
            .await;
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read peer credentials; closing");
            return;
        }
    }
    let (read, mut write) = stream.into_split();
    // Buffered for the handshake; what it read ahead moves into the frame buffer below.
    let mut read = BufReader::with_capacity(READ_BUFFER, read);

    match handshake(&mut read, &mut write, &limits).await {
        Ok(client) => tracing::debug!(%client, "client connected"),
        Err(e) => {
            tracing::info!(error = %e, "handshake refused");
            return;
        }
    }

    // Frames are cut out of one buffer in this task: no reader task, one hop less per request.
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    buf.extend_from_slice(read.buffer());
    let mut read = read.into_inner();
    // When the frame now partly in `buf` began to arrive; it must be complete by the timeout.
    let mut partial_since: Option<Instant> = (!buf.is_empty()).then(Instant::now);

    let mut pending: FuturesOrdered<Pending> = FuturesOrdered::new();
    let mut barrier = Barrier::default();
    let mut closing = false;
    // Made once, not once per turn of the loop: it is polled only until it fires.
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    loop {
        while !closing && !barrier.blocked() && pending.len() < limits.max_pipeline {
            match codec::take_frame(&mut buf, limits.max_frame) {
                Ok(Some(payload)) => {
                    partial_since = (!buf.is_empty()).then(Instant::now);
                    match codec::decode::<Request>(&payload) {
                        Ok(request) => barrier.admit(request, &dispatcher, &mut pending),
                        Err(e) => pending.push_back(answer(Response::Error(WireError::new(
                            ErrorCode::BadFrame,
                            e.to_string(),
                        )))),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    closing = true;
                    if let Some(response) = frame_error(&e) {
                        pending.push_back(answer(response));
                    }
                }
            }
        }
        if closing && pending.is_empty() && barrier.held.is_none() {
            break;
        }
        // Taking frames waits on our own work: bytes already here get a fresh window then.
        let taking = !closing && !barrier.blocked() && pending.len() < limits.max_pipeline;
        let deadline = partial_since
            .filter(|_| taking)
            .map(|since| since + limits.frame_timeout);
        buf.reserve(READ_CHUNK);
        tokio::select! {
            biased;
            Some(response) = pending.next(), if !pending.is_empty() => {
                if let Err(e) = send(&mut write, &response, &limits).await {
                    tracing::debug!(error = %e, "client stopped reading; closing");
                    break;
                }
                barrier.answered(&dispatcher, &mut pending);
                if !taking && !buf.is_empty() {
                    partial_since = Some(Instant::now());
                }
            }
            read = read.read_buf(&mut buf), if taking => {
                match read {
                    // End of stream; a partial frame left in `buf` was truncated: nobody to tell.
                    Ok(0) | Err(_) => closing = true,
                    Ok(_) => {
                        partial_since.get_or_insert_with(Instant::now);
                    }
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                closing = true;
                let e = CodecError::Timeout(limits.frame_timeout);
                if let Some(response) = frame_error(&e) {
                    pending.push_back(answer(response));
                }
            }
            () = &mut cancelled, if !closing => closing = true,
        }
    }
    let _ = write.shutdown().await;
}

fn answer(response: Response) -> Pending {
    Box::pin(std::future::ready(response))
}

/// Resolves at `deadline`; never when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The answer owed for a frame that could not be read, when the client can still read one.
fn frame_error(e: &CodecError) -> Option<Response> {
    let code = match e {
        CodecError::TooLarge { .. } => ErrorCode::FrameTooLarge,
        CodecError::Timeout(_) => ErrorCode::Timeout,
        CodecError::Decode(_) | CodecError::Encode(_) => ErrorCode::BadFrame,
        CodecError::Truncated | CodecError::Io(_) => return None,
    };
    tracing::debug!(error = %e, "closing connection after a bad frame");
    Some(Response::Error(WireError::new(code, e.to_string())))
}

async fn handshake(
    read: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
    limits: &Limits,
) -> Result<String, CodecError> {
    let first = tokio::time::timeout(
        limits.frame_timeout,
        codec::read_frame(read, limits.max_frame, limits.frame_timeout),
    )
    .await
    .map_err(|_| CodecError::Timeout(limits.frame_timeout))??
    .ok_or(CodecError::Truncated)?;
    let hello = codec::decode::<Hello>(&first);
    let reply: Result<HelloReply, WireError> = match &hello {
        Ok(h) if h.magic != MAGIC => Err(WireError::new(
            ErrorCode::BadFrame,
            "not a shadcache client (bad handshake magic)",
        )),
        Ok(h) if h.protocol != PROTOCOL_VERSION => Err(WireError::new(
            ErrorCode::VersionMismatch,
            format!(
                "protocol version mismatch: client `{}` speaks {}, this daemon ({}) speaks {}; \
                 run client and daemon from the same release",
                h.client,
                h.protocol,
                env!("CARGO_PKG_VERSION"),
                PROTOCOL_VERSION
            ),
        )),
        Ok(_) => Ok(HelloReply {
            protocol: PROTOCOL_VERSION,
            daemon_version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
        }),
        Err(e) => Err(WireError::new(
            ErrorCode::BadFrame,
            format!("bad handshake: {e}"),
        )),
    };
    let frame = codec::encode(&reply, limits.max_frame)?;
    tokio::time::timeout(limits.frame_timeout, write.write_all(&frame))
        .await
        .map_err(|_| CodecError::Timeout(limits.frame_timeout))??;
    match reply {
        Ok(_) => Ok(hello.map(|h| h.client).unwrap_or_default()),
        Err(e) => Err(CodecError::Decode(e.message)),
    }
}

/// Writes one answer. An answer too big for a frame becomes an error the client can act on;
/// a client that stops reading is cut off after `frame_timeout`. Large values are written
/// from where they are (a vectored write), not copied into the frame first.
async fn send(
    write: &mut OwnedWriteHalf,
    response: &Response,
    limits: &Limits,
) -> Result<(), CodecError> {
    let frame = match codec::encode_frame(response, &large_values(response), limits.max_frame) {
        Ok(frame) => frame,
        Err(CodecError::TooLarge { len, max }) => codec::encode_frame(
            &Response::Error(WireError::new(
                ErrorCode::FrameTooLarge,
                format!(
                    "the answer is {len} bytes, over daemon.max_frame_size ({max}); ask for less at once"
                ),
            )),
            &[],
            limits.max_frame,
        )?,
        Err(e) => return Err(e),
    };
    // Most answers fit the socket's buffer at once: no timer is armed for those.
    let mut sent = 0;
    while sent < frame.len() {
        match write.try_write_vectored(&frame.slices_from(sent)) {
            Ok(0) => return Err(CodecError::Io(std::io::ErrorKind::WriteZero.into())),
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e.into()),
        }
    }
    if sent == frame.len() {
        return Ok(());
    }
    let rest = async {
        while sent < frame.len() {
            match write.write_vectored(&frame.slices_from(sent)).await? {
                0 => return Err(CodecError::Io(std::io::ErrorKind::WriteZero.into())),
                n => sent += n,
            }
        }
        Ok(())
    };
    tokio::time::timeout(limits.frame_timeout, rest)
        .await
        .map_err(|_| CodecError::Timeout(limits.frame_timeout))?
}

/// The values of an answer, to be sent without a copy.
fn large_values(response: &Response) -> Vec<Bytes> {
    match response {
        Response::Value(Some(found)) => vec![found.value.clone()],
        Response::Values(all) => all.iter().flatten().map(|f| f.value.clone()).collect(),
        _ => Vec::new(),
    }
}
