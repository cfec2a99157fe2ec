//! Bytes to frames and back: a 4-byte big-endian length, then a bincode 2 payload. The only
//! file that imports bincode (its 3.x is a placeholder and the crate is unmaintained, so it
//! stays replaceable here).
//!
//! A length over the configured maximum is refused before anything is allocated, and bincode
//! itself is capped at [`MAX_FRAME_CEILING`] so no claimed length inside a payload can make it
//! reserve more.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest frame the codec will ever accept, whatever `daemon.max_frame_size` says.
pub const MAX_FRAME_CEILING: usize = 64 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME_CEILING>()
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("frame could not be decoded: {0}")]
    Decode(String),
    #[error("frame could not be encoded: {0}")]
    Encode(String),
    #[error("connection closed in the middle of a frame")]
    Truncated,
    #[error("frame not completed within {0:?}")]
    Timeout(Duration),
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
}

/// Serialises `value` as one whole frame, length prefix included.
pub fn encode<T: Serialize>(value: &T, max: usize) -> Result<Vec<u8>, CodecError> {
    // Sized first (a cheap pass: byte strings count their length), so a large value is copied
    // once instead of through a dozen reallocations.
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    let mut frame = Vec::with_capacity(4 + size.bytes_written);
    frame.extend_from_slice(&[0u8; 4]);
    bincode::serde::encode_into_std_write(value, &mut frame, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    let len = frame.len() - 4;
    if len > max {
        return Err(CodecError::TooLarge { len, max });
    }
    frame[..4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(frame)
}

/// Byte strings at least this long are sent from where they are, not copied into the frame.
pub const SHARE_FROM: usize = 16 * 1024;

/// A frame whose large byte strings are the caller's own buffers, referenced instead of
/// copied: a 4 MiB value costs the same few syscalls whether or not the client reads it all.
pub struct Frame {
    own: Vec<u8>,
    /// In order: a range of `own`, or a shared buffer.
    chunks: Vec<Chunk>,
    len: usize,
}

enum Chunk {
    Own(std::ops::Range<usize>),
    Shared(Bytes),
}

impl Frame {
    /// Bytes in the whole frame, length prefix included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The frame from byte `from` on, as slices for a vectored write.
    pub fn slices_from(&self, mut from: usize) -> Vec<io::IoSlice<'_>> {
        let mut slices = Vec::with_capacity(self.chunks.len());
        for chunk in &self.chunks {
            let bytes: &[u8] = match chunk {
                Chunk::Own(range) => &self.own[range.clone()],
                Chunk::Shared(bytes) => bytes,
            };
            if from >= bytes.len() {
                from -= bytes.len();
                continue;
            }
            slices.push(io::IoSlice::new(&bytes[from..]));
            from = 0;
        }
        slices
    }
}

/// Collects the encoding, recognising the `shared` buffers by address when bincode writes
/// one of them whole.
struct FrameWriter<'a> {
    frame: Frame,
    shared: &'a [Bytes],
    copied_from: usize,
}

impl FrameWriter<'_> {
    fn cut(&mut self) {
        if self.copied_from < self.frame.own.len() {
            let range = self.copied_from..self.frame.own.len();
            self.frame.chunks.push(Chunk::Own(range));
            self.copied_from = self.frame.own.len();
        }
    }
}

impl bincode::enc::write::Writer for FrameWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.frame.len += bytes.len();
        if bytes.len() >= SHARE_FROM
            && let Some(shared) = self
                .shared
                .iter()
                .find(|b| b.as_ptr() == bytes.as_ptr() && b.len() == bytes.len())
        {
            self.cut();
            self.frame.chunks.push(Chunk::Shared(shared.clone()));
            return Ok(());
        }
        self.frame.own.extend_from_slice(bytes);
        Ok(())
    }
}

/// [`encode`], with the byte strings of `shared` (when bincode writes one whole and it is at
/// least [`SHARE_FROM`] long) referenced rather than copied.
pub fn encode_frame<T: Serialize>(
    value: &T,
    shared: &[Bytes],
    max: usize,
) -> Result<Frame, CodecError> {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    let len = size.bytes_written;
    if len > max {
        return Err(CodecError::TooLarge { len, max });
    }
    let referenced: usize = shared
        .iter()
        .map(Bytes::len)
        .filter(|n| *n >= SHARE_FROM)
        .sum();
    let mut own = Vec::with_capacity(4 + len.saturating_sub(referenced));
    own.extend_from_slice(&(len as u32).to_be_bytes());
    let mut writer = FrameWriter {
        frame: Frame {
            own,
            chunks: Vec::new(),
            len: 4,
        },
        shared,
        copied_from: 0,
    };
    bincode::serde::encode_into_writer(value, &mut writer, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    writer.cut();
    Ok(writer.frame)
}

/// Decodes one payload (without its length prefix); trailing bytes are an error.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != payload.len() {
        return Err(CodecError::Decode(format!(
            "{} trailing bytes after the message",
            payload.len() - used
        )));
    }
    Ok(value)
}

/// Cuts one whole frame's payload off the front of `buf`, if one is there. Refuses a length
/// over `max` before any of the frame is buffered.
pub fn take_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, CodecError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max {
        return Err(CodecError::TooLarge { len, max });
    }
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len).freeze()))
}

/// Reads one frame's payload. `Ok(None)` is a clean end of stream between frames. Waiting for
/// a frame to start is unbounded (idle connections are fine); once it starts, the rest must
/// arrive within `timeout`, so a slow writer costs one task, never a stalled daemon.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, CodecError> {
    let mut len_buf = [0u8; 4];
    let first = reader.read(&mut len_buf[..1]).await?;
    if first == 0 {
        return Ok(None);
    }
    let rest = async {
        reader.read_exact(&mut len_buf[1..]).await?;
        let len = u32::from_be_bytes(len_buf) as usize;
        if len > max {
            return Err(CodecError::TooLarge { len, max });
        }
        let mut payload = vec![0u8; len];
        reader.read_exact(&mut payload).await?;
        Ok(payload)
    };
    match tokio::time::timeout(timeout, rest).await {
        Ok(Ok(payload)) => Ok(Some(payload)),
        Ok(Err(CodecError::Io(e))) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(CodecError::Truncated)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(CodecError::Timeout(timeout)),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    #[test]
    fn a_shared_frame_is_byte_for_byte_the_copied_one() {
        use crate::protocol::{EntryInfo, Found, TierName};
        let found = |n: usize| Found {
            value: Bytes::from(vec![(n % 251) as u8; n]),
            info: EntryInfo {
                size: n as u64,
                created_ms: 1,
                last_access_ms: 2,
                access_count: 3,
                ttl_remaining: None,
                tier: TierName::Memory,
                age: Duration::from_millis(5),
                stale: None,
            },
        };
        let answers = [
            Response::Value(Some(found(10))),
            Response::Value(Some(found(SHARE_FROM))),
            Response::Value(Some(found(1 << 19))),
            Response::Values(vec![
                Some(found(100_000)),
                None,
                Some(found(3)),
                Some(found(70_000)),
            ]),
        ];
        for answer in answers {
            let shared: Vec<Bytes> = match &answer {
                Response::Value(Some(f)) => vec![f.value.clone()],
                Response::Values(all) => all.iter().flatten().map(|f| f.value.clone()).collect(),
                _ => vec![],
            };
            let frame = encode_frame(&answer, &shared, MAX).unwrap();
            let copied = encode(&answer, MAX).unwrap();
            assert_eq!(frame.len(), copied.len());
            for from in [0, 1, 4, 5, copied.len() / 2, copied.len() - 1, copied.len()] {
                let joined: Vec<u8> = frame
                    .slices_from(from)
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .collect();
                assert_eq!(joined, copied[from..], "from {from}");
            }
            // Large values are referenced, not copied.
            let copied_bytes: usize = frame.own.len();
            let large: usize = shared
                .iter()
                .map(Bytes::len)
                .filter(|n| *n >= SHARE_FROM)
                .sum();
            assert_eq!(copied_bytes + large, copied.len());
        }
        assert!(matches!(
            encode_frame(&Response::Value(Some(found(MAX + 1))), &[], MAX),
            Err(CodecError::TooLarge { .. })
        ));
    }
    use crate::protocol::{Request, Response};
    use bytes::Bytes;

    const MAX: usize = 1 << 20;
    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn round_trips_requests() {
        let request = Request::Set {
            key: "component:react:button".into(),
            value: Bytes::from_static(b"export const Button = 1"),
            ttl: Some(Duration::from_secs(90)),
        };
        let frame = encode(&request, MAX).unwrap();
        let mut reader = &frame[..];
        let payload = read_frame(&mut reader, MAX, T).await.unwrap().unwrap();
        assert_eq!(decode::<Request>(&payload).unwrap(), request);
        assert!(read_frame(&mut reader, MAX, T).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn refuses_oversized_lengths_before_reading_them() {
        let frame = ((MAX + 1) as u32).to_be_bytes();
        let err = read_frame(&mut &frame[..], MAX, T).await.unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { .. }), "{err}");
        let big = Response::Keys(vec!["x".repeat(1000); 2000]);
        assert!(matches!(
            encode(&big, MAX),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn truncated_frame_is_reported() {
        let frame = encode(&Request::Ping, MAX).unwrap();
        let mut cut = &frame[..frame.len() - 1];
        let err = read_frame(&mut cut, MAX, T).await.unwrap_err();
        assert!(matches!(err, CodecError::Truncated), "{err}");
        let mut cut = &frame[..2];
        assert!(matches!(
            read_frame(&mut cut, MAX, T).await,
            Err(CodecError::Truncated)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_frame_times_out() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(&[0, 0]).await.unwrap();
        let err = read_frame(&mut server, MAX, T).await.unwrap_err();
        assert!(matches!(err, CodecError::Timeout(_)), "{err}");
    }

    #[test]
    fn frames_are_cut_from_a_buffer_as_they_complete() {
        let one = encode(&Request::Ping, MAX).unwrap();
        let two = encode(&Request::Stats, MAX).unwrap();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&one);
        buf.extend_from_slice(&two[..3]);
        let first = take_frame(&mut buf, MAX).unwrap().unwrap();
        assert_eq!(decode::<Request>(&first).unwrap(), Request::Ping);
        assert!(take_frame(&mut buf, MAX).unwrap().is_none());
        buf.extend_from_slice(&two[3..]);
        let second = take_frame(&mut buf, MAX).unwrap().unwrap();
        assert_eq!(decode::<Request>(&second).unwrap(), Request::Stats);
        assert!(buf.is_empty());
        let mut huge = BytesMut::from(&((MAX + 1) as u32).to_be_bytes()[..]);
        assert!(matches!(
            take_frame(&mut huge, MAX),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn garbage_is_a_decode_error() {
        for garbage in [&[0xffu8; 16][..], &[], &[200, 1, 2]] {
            assert!(decode::<Request>(garbage).is_err());
        }
        // A valid message followed by junk.
        let mut frame = encode(&Request::Ping, MAX).unwrap()[4..].to_vec();
        frame.push(0);
        assert!(decode::<Request>(&frame).is_err());
    }

    #[test]
    fn a_huge_claimed_string_length_is_refused() {
        // Variant Get (1), then a string claiming u64::MAX bytes (varint tag 253 + 8 bytes).
        let mut payload = vec![1u8, 253];
        payload.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode::<Request>(&payload).is_err());
    }
}

/// Property tests: every request and response survives encoding and decoding unchanged, and
/// arbitrary bytes never panic the decoder.
#[cfg(test)]
mod properties {
    use std::time::Duration;

    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::protocol::{
        EntryInfo, ErrorCode, Found, Query, Request, Response, SetEntry, StaleReason, TierName,
        WireError,
    };

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-z0-9:._\\-\\n%/ é]{0,40}").unwrap()
    }

    fn bytes() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from)
    }

    fn ttl() -> impl Strategy<Value = Option<Duration>> {
        proptest::option::of((0..u32::MAX as u64).prop_map(Duration::from_millis))
    }

    fn request() -> impl Strategy<Value = Request> {
        prop_oneof![
            Just(Request::Ping),
            text().prop_map(|key| Request::Get { key }),
            (text(), bytes(), ttl()).prop_map(|(key, value, ttl)| Request::Set { key, value, ttl }),
            proptest::collection::vec(text(), 0..5).prop_map(|keys| Request::MGet { keys }),
            proptest::collection::vec((text(), bytes(), ttl()), 0..4).prop_map(|e| Request::MSet {
                entries: e
                    .into_iter()
                    .map(|(key, value, ttl)| SetEntry { key, value, ttl })
                    .collect(),
            }),
            proptest::option::of(text()).prop_map(|pattern| Request::Keys { pattern }),
            any::<bool>().prop_map(|shared| Request::Clear { shared }),
            (proptest::option::of(text()), text(), any::<bool>()).prop_map(
                |(framework, name, include_components)| Request::Shadcn {
                    framework,
                    query: Query::Block {
                        name,
                        include_components,
                    },
                }
            ),
        ]
    }

    fn response() -> impl Strategy<Value = Response> {
        let info =
            (any::<u64>(), ttl(), any::<bool>(), 0..6usize).prop_map(|(n, ttl, stale, why)| {
                EntryInfo {
                    size: n,
                    created_ms: n / 3,
                    last_access_ms: n / 2,
                    access_count: n % 1000,
                    ttl_remaining: ttl,
                    tier: TierName::Database,
                    age: Duration::from_millis(n % 100_000),
                    stale: stale.then_some(StaleReason::ALL[why]),
                }
            });
        prop_oneof![
            Just(Response::Pong),
            (bytes(), info).prop_map(|(value, info)| Response::Value(Some(Found { value, info }))),
            proptest::collection::vec(text(), 0..5).prop_map(Response::Keys),
            text().prop_map(|m| Response::Error(WireError::new(ErrorCode::RateLimited, m))),
        ]
    }

    proptest! {
        #[test]
        fn requests_round_trip(request in request()) {
            let frame = encode(&request, usize::MAX).unwrap();
            let back: Request = decode(&frame[4..]).unwrap();
            prop_assert_eq!(back, request);
        }

        #[test]
        fn responses_round_trip(response in response()) {
            let frame = encode(&response, usize::MAX).unwrap();
            let back: Response = decode(&frame[4..]).unwrap();
            prop_assert_eq!(back, response);
        }

        #[test]
        fn garbage_never_panics_the_decoder(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Request>(&payload);
            let _ = decode::<Response>(&payload);
        }
    }
}
