//! HTTP GETs over keep-alive HTTP/1.1 connections (hyper's client, one connection per
//! client): the registry listener, or any server beside it (nginx serving the same files),
//! measured the same way. Each client asks the paths in turn; every answer must be a 200 with
//! a body, else the run fails.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

use super::report::Latencies;
use super::workload::{LoadError, TIMEOUT, join_all};
use crate::latency::Latency;

#[derive(Debug, Clone, clap::Args)]
pub struct Http {
    /// `http://127.0.0.1:PORT`, the server's address
    #[arg(long)]
    pub addr: String,
    /// Paths to ask, comma-separated (`/r/styles/new-york-v4/button.json`); clients take them in turn
    #[arg(long, value_delimiter = ',', required = true)]
    pub paths: Vec<String>,
    #[arg(long, default_value_t = 1)]
    pub clients: usize,
    /// Requests per client, after one warm-up pass over the paths
    #[arg(long, default_value_t = 1000)]
    pub requests: u64,
    /// A name for the result row
    #[arg(long, default_value = "http")]
    pub label: String,
    /// The server's pid, for its CPU seconds and peak RSS in the row (nginx: its workers
    /// are summed by the script, so leave it out)
    #[arg(long)]
    pub pid: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct HttpReport {
    pub label: String,
    pub clients: usize,
    pub requests: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub latency: Latencies,
    /// The server's CPU time over the run and its peak RSS, when its pid was given.
    pub server: Option<(Duration, u64)>,
}

impl HttpReport {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The same columns as the socket benchmarks' rows.
    pub fn row(&self) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (cpu, rss) = match self.server {
            Some((cpu, rss)) => (
                format!("{:.2}", cpu.as_secs_f64()),
                format!("{:.1}", rss as f64 / (1024.0 * 1024.0)),
            ),
            None => ("-".into(), "-".into()),
        };
        format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {cpu} | {rss} |",
            self.label,
            self.clients,
            self.throughput(),
            us(self.latency.p50),
            us(self.latency.p95),
            us(self.latency.p99),
            us(self.latency.p999),
        )
    }
}

impl std::fmt::Display for HttpReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{}: {} requests from {} clients in {:.2} s: {:.0} req/s, {:.0} bytes an answer",
            self.label,
            self.requests,
            self.clients,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.bytes as f64 / self.requests.max(1) as f64
        )?;
        writeln!(f, "{}", self.row())
    }
}

pub async fn http(http: &Http) -> Result<HttpReport, LoadError> {
    let host = http
        .addr
        .strip_prefix("http://")
        .ok_or_else(|| LoadError::Setup(format!("{}: not http://HOST:PORT", http.addr)))?
        .trim_end_matches('/')
        .to_owned();
    let before = http.pid.and_then(crate::procfs::usage);
    let started = Instant::now();
    let tasks = (0..http.clients)
        .map(|worker| tokio::spawn(client(host.clone(), http.clone(), worker)))
        .collect();
    let mut latency = Latency::default();
    let mut bytes = 0;
    for (client, read) in join_all("an HTTP client", tasks).await? {
        latency.add(&client);
        bytes += read;
    }
    let elapsed = started.elapsed();
    let server = match (before, http.pid.and_then(crate::procfs::usage)) {
        (Some(before), Some(after)) => {
            Some((after.cpu.saturating_sub(before.cpu), after.peak_rss_bytes))
        }
        _ => None,
    };
    Ok(HttpReport {
        label: http.label.clone(),
        clients: http.clients,
        requests: latency.summary().count,
        bytes,
        elapsed,
        latency: Latencies::from(&latency),
        server,
    })
}

async fn client(host: String, http: Http, worker: usize) -> Result<(Latency, u64), LoadError> {
    let setup = |e: &dyn std::fmt::Display| LoadError::Setup(format!("{host}: {e}"));
    let stream = tokio::net::TcpStream::connect(&host)
        .await
        .map_err(|e| setup(&e))?;
    stream.set_nodelay(true).map_err(|e| setup(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| setup(&e))?;
    tokio::spawn(connection);
    let mut get = async |path: &str| -> Result<u64, LoadError> {
        let request = Request::get(path)
            .header("host", host.as_str())
            .header(
                "accept",
                "application/vnd.shadcn.v1+json, application/json;q=0.9",
            )
            .header("user-agent", "shadcn")
            .body(Empty::<bytes::Bytes>::new())
            .map_err(|e| setup(&e))?;
        let answer = tokio::time::timeout(TIMEOUT, sender.send_request(request))
            .await
            .map_err(|_| LoadError::Answer(format!("no answer for {path} within {TIMEOUT:?}")))?
            .map_err(|e| LoadError::Answer(format!("{path}: {e}")))?;
        let status = answer.status();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| LoadError::Answer(format!("{path}: {e}")))?
            .to_bytes();
        if status != hyper::StatusCode::OK || body.is_empty() {
            return Err(LoadError::Answer(format!(
                "{path}: {status}, {} bytes",
                body.len()
            )));
        }
        Ok(body.len() as u64)
    };
    // One pass first, so the measured requests find what they ask for cached.
    for path in &http.paths {
        get(path).await?;
    }
    let mut latency = Latency::default();
    let mut bytes = 0;
    for i in 0..http.requests {
        let path = &http.paths[(worker + i as usize) % http.paths.len()];
        let started = Instant::now();
        bytes += get(path).await?;
        latency.record(started.elapsed());
    }
    Ok((latency, bytes))
}
