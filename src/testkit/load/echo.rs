//! The floor any request pays: a server on a Unix socket that reads each request frame and
//! writes back a frame as large as the daemon's answer, doing no other work, on a thread and
//! runtime of its own. Its clients use the same codec as against the daemon, and the same
//! report comes out, without the daemon's columns.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

use super::report::{BenchReport, Latencies};
use super::workload::{Keys, LoadError, Op, TIMEOUT, Workload, defaults, join_all};
use crate::latency::Latency;
use crate::protocol::codec;
use crate::protocol::{EntryInfo, Found, Request, Response, TierName};

#[derive(Debug, Clone, clap::Args)]
pub struct Echo {
    /// (`--no-fill` has nothing to fill here)
    #[command(flatten)]
    pub workload: Workload,
    /// A name for the result row (`| label | ... |`, for bench/run.sh)
    #[arg(long, default_value = "bare echo")]
    pub label: String,
}

impl Default for Echo {
    fn default() -> Echo {
        defaults()
    }
}

pub async fn echo(echo: &Echo) -> Result<BenchReport, LoadError> {
    let workload = &echo.workload;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("echo.sock");
    let frame = codec::encode(&answer(workload.value_size), usize::MAX)
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let listener = std::os::unix::net::UnixListener::bind(&path)?;
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = UnixListener::from_std(listener).expect("a tokio listener");
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, frame.clone()));
            }
        });
    });

    let started = Instant::now();
    let tasks = (0..workload.clients)
        .map(|worker| tokio::spawn(client(path.clone(), workload.clone(), worker)))
        .collect();
    let mut latency = Latency::default();
    for client in join_all("an echo client", tasks).await? {
        latency.add(&client);
    }
    Ok(BenchReport {
        label: echo.label.clone(),
        op: Op::Get,
        workload: workload.clone(),
        requests: latency.summary().count,
        elapsed: started.elapsed(),
        latency: Latencies::from(&latency),
        answered_by: Vec::new(),
        daemon: None,
    })
}

/// What the daemon answers a get of an L1 hit.
fn answer(value_size: usize) -> Response {
    Response::Value(Some(Found {
        value: Bytes::from(vec![b'x'; value_size]),
        info: EntryInfo {
            size: value_size as u64,
            created_ms: 0,
            last_access_ms: 0,
            access_count: 0,
            ttl_remaining: Some(Duration::from_secs(3600)),
            tier: TierName::Memory,
            age: Duration::ZERO,
            stale: None,
        },
    }))
}

async fn client(path: PathBuf, workload: Workload, worker: usize) -> Result<Latency, LoadError> {
    let mut stream = UnixStream::connect(&path).await?;
    let mut keys = Keys::new(&workload, worker as u64)?;
    let mut latency = Latency::default();
    for _ in 0..workload.requests {
        let request = Request::Get {
            key: keys.next_key(),
        };
        let sent = Instant::now();
        let out = codec::encode(&request, usize::MAX).map_err(std::io::Error::other)?;
        stream.write_all(&out).await?;
        let payload = codec::read_frame(&mut stream, usize::MAX, TIMEOUT)
            .await
            .map_err(std::io::Error::other)?
            .ok_or_else(|| std::io::Error::other("the echo server closed the connection"))?;
        let _: Response = codec::decode(&payload).map_err(std::io::Error::other)?;
        latency.record(sent.elapsed());
    }
    Ok(latency)
}

async fn serve(mut stream: UnixStream, frame: Vec<u8>) {
    while let Ok(Some(_)) = codec::read_frame(&mut stream, usize::MAX, TIMEOUT).await {
        if stream.write_all(&frame).await.is_err() {
            return;
        }
    }
}
