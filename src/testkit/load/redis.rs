//! The same latency run against Redis: the same clients, key draws, clock points and report
//! as against the daemon, speaking RESP over Redis's Unix socket. redis-benchmark measures
//! with a client of its own (one thread, its own clock points), so its numbers beside
//! ours compare two load generators as much as two servers; this row compares the servers.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::report::{BenchReport, DaemonCost, Latencies};
use super::workload::{Keys, LoadError, Op, TIMEOUT, Workload, defaults, join_all, key};
use crate::latency::Latency;
use crate::procfs;

#[derive(Debug, Clone, clap::Args)]
pub struct Redis {
    /// Redis's Unix socket (`redis-server --unixsocket PATH`)
    #[arg(long, value_name = "PATH")]
    pub redis_socket: PathBuf,
    #[command(flatten)]
    pub workload: Workload,
    /// A name for the result row (`| label | ... |`, for bench/run.sh)
    #[arg(long, default_value = "redis GET")]
    pub label: String,
}

impl Default for Redis {
    fn default() -> Redis {
        defaults()
    }
}

pub async fn redis(redis: &Redis) -> Result<BenchReport, LoadError> {
    let workload = &redis.workload;
    Keys::new(workload, 0)?;
    let mut setup = Connection::open(&redis.redis_socket).await?;
    let pid = setup.pid().await?;
    if !workload.no_fill {
        let value = vec![b'x'; workload.value_size];
        for index in 0..workload.keys {
            setup.set(&key(index), &value).await?;
        }
    }
    let before = procfs::usage(pid);
    let started = Instant::now();
    let tasks = (0..workload.clients)
        .map(|worker| tokio::spawn(client(redis.redis_socket.clone(), workload.clone(), worker)))
        .collect();
    let mut latency = Latency::default();
    for client in join_all("a redis client", tasks).await? {
        latency.add(&client);
    }
    let elapsed = started.elapsed();
    let after = procfs::usage(pid);
    Ok(BenchReport {
        label: redis.label.clone(),
        op: Op::Get,
        workload: workload.clone(),
        requests: latency.summary().count,
        elapsed,
        latency: Latencies::from(&latency),
        answered_by: Vec::new(),
        daemon: before.zip(after).map(|(before, after)| DaemonCost {
            cpu: after.cpu.saturating_sub(before.cpu),
            peak_rss_bytes: after.peak_rss_bytes,
        }),
    })
}

async fn client(path: PathBuf, workload: Workload, worker: usize) -> Result<Latency, LoadError> {
    let mut connection = Connection::open(&path).await?;
    let mut keys = Keys::new(&workload, worker as u64)?;
    let mut latency = Latency::default();
    for _ in 0..workload.requests {
        let key = keys.next_key();
        let sent = Instant::now();
        match connection.get(&key).await? {
            Some(value) if value.len() == workload.value_size => {}
            other => {
                return Err(LoadError::Answer(format!(
                    "redis answered GET {key} with {:?} bytes (is the key set filled?)",
                    other.map(|v| v.len())
                )));
            }
        }
        latency.record(sent.elapsed());
    }
    Ok(latency)
}

/// One RESP connection: commands out, replies parsed as far as a GET and a SET need.
struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    out: Vec<u8>,
    line: Vec<u8>,
    value: Vec<u8>,
}

impl Connection {
    async fn open(path: &Path) -> Result<Connection, LoadError> {
        let stream = tokio::time::timeout(TIMEOUT, UnixStream::connect(path))
            .await
            .map_err(|_| LoadError::Setup(format!("connecting to redis at {}", path.display())))?
            .map_err(|e| LoadError::Setup(format!("redis at {}: {e}", path.display())))?;
        let (reader, writer) = stream.into_split();
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, reader),
            writer,
            out: Vec::new(),
            line: Vec::new(),
            value: Vec::new(),
        })
    }

    /// The server's pid, from `INFO server`, for its CPU time and peak RSS.
    async fn pid(&mut self) -> Result<u32, LoadError> {
        self.command(&[b"INFO", b"server"]).await?;
        String::from_utf8_lossy(&self.value)
            .lines()
            .find_map(|line| line.strip_prefix("process_id:")?.trim().parse().ok())
            .ok_or_else(|| LoadError::Answer("redis's INFO server named no process_id".into()))
    }

    async fn set(&mut self, key: &str, value: &[u8]) -> Result<(), LoadError> {
        self.command(&[b"SET", key.as_bytes(), value])
            .await
            .map(drop)
    }

    async fn get(&mut self, key: &str) -> Result<Option<&[u8]>, LoadError> {
        Ok(self
            .command(&[b"GET", key.as_bytes()])
            .await?
            .map(|()| self.value.as_slice()))
    }

    /// Sends one command and reads its reply: `Some` with the bulk string in `self.value`,
    /// or `None` for a nil or a simple status.
    async fn command(&mut self, parts: &[&[u8]]) -> Result<Option<()>, LoadError> {
        self.out.clear();
        self.out
            .extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
        for part in parts {
            self.out
                .extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
            self.out.extend_from_slice(part);
            self.out.extend_from_slice(b"\r\n");
        }
        tokio::time::timeout(TIMEOUT, self.exchange())
            .await
            .map_err(|_| LoadError::Answer("no reply from redis in time".into()))?
    }

    async fn exchange(&mut self) -> Result<Option<()>, LoadError> {
        self.writer.write_all(&self.out).await?;
        self.line.clear();
        if self.reader.read_until(b'\n', &mut self.line).await? == 0 {
            return Err(LoadError::Answer("redis closed the connection".into()));
        }
        let line = String::from_utf8_lossy(&self.line);
        let line = line.trim_end();
        match line.as_bytes().first() {
            Some(b'+') => Ok(None),
            Some(b'$') if line == "$-1" => Ok(None),
            Some(b'$') => {
                let len: usize = line[1..]
                    .parse()
                    .map_err(|_| LoadError::Answer(format!("redis: a bad bulk length {line:?}")))?;
                self.value.resize(len + 2, 0);
                self.reader.read_exact(&mut self.value).await?;
                self.value.truncate(len);
                Ok(Some(()))
            }
            _ => Err(LoadError::Answer(format!("redis answered {line:?}"))),
        }
    }
}
