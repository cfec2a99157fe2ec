//! A fake GitHub for tests and benchmarks: a real HTTP/1.1 server on 127.0.0.1 that serves
//! recorded content (`tests/fixtures/github`) or bodies a test sets. It answers conditional
//! requests with 304, sends rate-limit headers on API answers, can inject faults per path, and
//! counts the requests it saw per path, so a test can assert what a flow cost.
//!
//! API URLs are served under `/api`, raw-file URLs under `/raw`: point `github.api_url` at
//! [`FakeOrigin::api_url`] and `github.raw_url` at [`FakeOrigin::raw_url`]. The shadcn
//! registry protocol's recorded files (`tests/fixtures/registry`) are served under `/shadcn`
//! (`ui.shadcn.com/r`) and `/svelte` (`shadcn-svelte.com/registry`): see
//! [`FakeOrigin::registry_section`].

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A misbehaviour to inject for a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer this status with a short body.
    Status(u16),
    /// A rate-limit answer (403), with `retry-after` if given, remaining 0 and a reset
    /// `reset_in` from now.
    RateLimit {
        status: u16,
        retry_after: Option<u64>,
        reset_in: Duration,
    },
    /// Close the connection without answering.
    Reset,
    /// Promise the whole body, send half, close.
    Truncate,
    /// Send the body in 16-byte pieces with this pause between them.
    Slow(Duration),
    /// 200 with bytes that are not what the path should hold.
    Garbage,
    /// Redirect to itself, forever.
    RedirectLoop,
    /// 200 with a body of this many bytes.
    Huge(usize),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Read the request and never answer, holding the connection open (a captive portal,
    /// a stalled proxy).
    Hang,
    /// Send the head and half the body, then go silent, holding the connection open.
    StallBody,
    /// Send the body one byte at a time with this pause between bytes.
    Trickle(Duration),
    /// 304 Not Modified with no ETag, whatever the request asked.
    NotModifiedWithoutEtag,
    /// This status with the request's own head (credentials included) as the body, as a
    /// careless proxy might answer.
    Reflect(u16),
}

#[derive(Debug, Clone)]
struct Route {
    status: u16,
    body: Arc<Vec<u8>>,
    etag: String,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    faults: HashMap<String, Fault>,
    counts: HashMap<String, u64>,
    /// API answers sent (304s excluded), for the `x-ratelimit-*` headers.
    api_used: u64,
    /// Every `Authorization` header value seen.
    authorizations: std::collections::BTreeSet<String>,
    /// Every request head, with its path, in order.
    heads: Vec<(String, String)>,
}

pub struct FakeOrigin {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

const RATE_LIMIT: u64 = 5000;

impl FakeOrigin {
    pub async fn start() -> std::io::Result<FakeOrigin> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Ok(FakeOrigin { addr, state, task })
    }

    /// Serves every entry of a fixtures directory's `index.json`.
    pub async fn with_fixtures(dir: &Path) -> std::io::Result<FakeOrigin> {
        let origin = FakeOrigin::start().await?;
        origin.add_fixtures(dir)?;
        Ok(origin)
    }

    /// Serves every entry of another fixtures directory's `index.json` too (the registry
    /// protocol's beside GitHub's).
    pub fn add_fixtures(&self, dir: &Path) -> std::io::Result<()> {
        let origin = self;
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)
                .map_err(std::io::Error::other)?;
        let entries = index["entries"].as_array().cloned().unwrap_or_default();
        for entry in entries {
            let (Some(url), Some(file)) = (entry["url"].as_str(), entry["file"].as_str()) else {
                continue;
            };
            let status = entry["status"].as_u64().unwrap_or(200) as u16;
            let body = std::fs::read(dir.join(file))?;
            if let Some(path) = local_path(url) {
                origin.set(&path, status, body);
            }
        }
        Ok(())
    }

    /// Every `Authorization` header value the origin has seen.
    pub fn authorizations(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.authorizations.iter().cloned().collect()
    }

    /// The value of header `name` in every request for `path` (case-insensitive name).
    pub fn header_values(&self, path: &str, name: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .heads
            .iter()
            .filter(|(p, _)| p == path)
            .filter_map(|(_, head)| {
                head.split("\r\n")
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .collect()
    }

    /// Every request head seen, whatever its path.
    pub fn heads(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().heads.clone()
    }

    /// A registry's base URL here: `shadcn` (`ui.shadcn.com/r`), `svelte`, or any prefix a
    /// test serves files under.
    pub fn registry_url(&self, source: &str) -> String {
        format!("http://{}/{source}", self.addr)
    }

    /// A config's `[registry]` section pointing the three built-in registries here (more
    /// `[registry]` keys may follow it).
    pub fn registry_section(&self) -> String {
        format!(
            "[registry]\nshadcn_url = \"{}\"\nsvelte_url = \"{}\"\nvue_url = \"{}\"\n",
            self.registry_url("shadcn"),
            self.registry_url("svelte"),
            self.registry_url("vue")
        )
    }

    /// Stops listening: from now on every connection is refused.
    pub fn close(&self) {
        self.task.abort();
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn raw_url(&self) -> String {
        format!("http://{}/raw", self.addr)
    }

    /// The start of a config file's `[github]` section that points the daemon here; more
    /// `[github]` keys may follow it.
    pub fn github_section(&self) -> String {
        format!(
            "[github]\napi_url = \"{}\"\nraw_url = \"{}\"\n",
            self.api_url(),
            self.raw_url()
        )
    }

    /// Serves `body` with `status` at a path (`/api/repos/...` or `/raw/...`, query included).
    pub fn set(&self, path: &str, status: u16, body: Vec<u8>) {
        let etag = format!("\"{:016x}\"", hash(&body));
        let route = Route {
            status,
            body: Arc::new(body),
            etag,
        };
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_owned(), route);
    }

    pub fn fault(&self, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.to_owned(), fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Requests seen for one path.
    pub fn count(&self, path: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests seen, all paths, and API ones (under `/api`).
    pub fn totals(&self) -> (u64, u64) {
        let state = self.state.lock().unwrap();
        let all = state.counts.values().sum();
        let api = state
            .counts
            .iter()
            .filter(|(p, _)| p.starts_with("/api/"))
            .map(|(_, n)| n)
            .sum();
        (all, api)
    }

    /// Primary API quota spent: API answers other than 304s, as GitHub counts them.
    pub fn quota_used(&self) -> u64 {
        self.state.lock().unwrap().api_used
    }

    /// Every path asked for, with counts (for asserting nothing unexpected was requested).
    pub fn requests(&self) -> Vec<(String, u64)> {
        let mut all: Vec<_> = self
            .state
            .lock()
            .unwrap()
            .counts
            .clone()
            .into_iter()
            .collect();
        all.sort();
        all
    }
}

impl Drop for FakeOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `https://api.github.com/X` → `/api/X`; `https://raw.githubusercontent.com/X` → `/raw/X`.
pub fn local_path(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("https://api.github.com") {
        return Some(format!("/api{rest}"));
    }
    if let Some(rest) = url.strip_prefix("https://ui.shadcn.com/r") {
        return Some(format!("/shadcn{rest}"));
    }
    if let Some(rest) = url.strip_prefix("https://shadcn-svelte.com/registry") {
        return Some(format!("/svelte{rest}"));
    }
    url.strip_prefix("https://raw.githubusercontent.com")
        .map(|rest| format!("/raw{rest}"))
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut head = Vec::with_capacity(1024);
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .split("\r\n")
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let header = |name: &str| {
        text.split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let if_none_match = header("if-none-match");
    if let Some(authorization) = header("authorization") {
        state.lock().unwrap().authorizations.insert(authorization);
    }

    let (route, fault, api_used) = {
        let mut s = state.lock().unwrap();
        *s.counts.entry(path.clone()).or_default() += 1;
        s.heads.push((path.clone(), text.to_string()));
        let route = s.routes.get(&path).cloned();
        let fault = s.faults.get(&path).cloned();
        let not_modified = route
            .as_ref()
            .is_some_and(|r| if_none_match.as_deref() == Some(r.etag.as_str()));
        // A 304 costs no primary quota, as on GitHub.
        if path.starts_with("/api/") && !not_modified {
            s.api_used += 1;
        }
        (route, fault, s.api_used)
    };
    let mut headers = vec![("connection", "close".to_owned())];
    if path.starts_with("/api/") {
        headers.push(("x-ratelimit-limit", RATE_LIMIT.to_string()));
        headers.push((
            "x-ratelimit-remaining",
            RATE_LIMIT.saturating_sub(api_used).to_string(),
        ));
        headers.push(("x-ratelimit-used", api_used.to_string()));
        headers.push(("x-ratelimit-reset", (unix_now() + 3600).to_string()));
        headers.push(("x-ratelimit-resource", "core".to_owned()));
    }

    let (status, body, etag) = match &route {
        Some(r) => (r.status, r.body.as_slice().to_vec(), Some(r.etag.clone())),
        None => (404, b"404: Not Found".to_vec(), None),
    };
    match fault {
        Some(Fault::Reset) => return,
        Some(Fault::Delay(pause)) => tokio::time::sleep(pause).await,
        Some(Fault::Status(code)) => {
            let _ = respond(&mut stream, code, &headers, b"injected failure").await;
            return;
        }
        Some(Fault::RateLimit {
            status,
            retry_after,
            reset_in,
        }) => {
            headers.retain(|(k, _)| {
                !k.starts_with("x-ratelimit-remaining") && !k.starts_with("x-ratelimit-reset")
            });
            headers.push(("x-ratelimit-remaining", "0".to_owned()));
            headers.push((
                "x-ratelimit-reset",
                (unix_now() + reset_in.as_secs()).to_string(),
            ));
            if let Some(seconds) = retry_after {
                headers.push(("retry-after", seconds.to_string()));
            }
            let body = br#"{"message":"API rate limit exceeded"}"#;
            let _ = respond(&mut stream, status, &headers, body).await;
            return;
        }
        Some(Fault::RedirectLoop) => {
            headers.push(("location", path.clone()));
            let _ = respond(&mut stream, 302, &headers, b"").await;
            return;
        }
        Some(Fault::Reflect(code)) => {
            let _ = respond(&mut stream, code, &headers, text.as_bytes()).await;
            return;
        }
        Some(Fault::NotModifiedWithoutEtag) => {
            let _ = respond(&mut stream, 304, &headers, b"").await;
            return;
        }
        Some(Fault::Garbage) => {
            let _ = respond(&mut stream, 200, &headers, b"\x00\xff<html>not it</html>").await;
            return;
        }
        Some(Fault::Huge(size)) => {
            let _ = respond(&mut stream, 200, &headers, &vec![b'x'; size]).await;
            return;
        }
        Some(Fault::Truncate) => {
            let head = head_bytes(status, &headers, body.len());
            let _ = stream.write_all(&head).await;
            let _ = stream.write_all(&body[..body.len() / 2]).await;
            return;
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::StallBody) => {
            let head = head_bytes(status, &headers, body.len());
            let _ = stream.write_all(&head).await;
            let _ = stream.write_all(&body[..body.len() / 2]).await;
            let _ = stream.flush().await;
            std::future::pending().await
        }
        Some(Fault::Trickle(pause)) => {
            let head = head_bytes(status, &headers, body.len());
            let _ = stream.write_all(&head).await;
            for byte in body.chunks(1) {
                if stream.write_all(byte).await.is_err() {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
            return;
        }
        Some(Fault::Slow(pause)) => {
            let head = head_bytes(status, &headers, body.len());
            let _ = stream.write_all(&head).await;
            for chunk in body.chunks(16) {
                if stream.write_all(chunk).await.is_err() {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
            return;
        }
        None => {}
    }
    if let Some(etag) = &etag {
        if if_none_match.as_deref() == Some(etag.as_str()) && status == 200 {
            headers.push(("etag", etag.clone()));
            let _ = respond(&mut stream, 304, &headers, b"").await;
            return;
        }
        headers.push(("etag", etag.clone()));
    }
    let _ = respond(&mut stream, status, &headers, &body).await;
}

fn head_bytes(status: u16, headers: &[(&str, String)], len: usize) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {len}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    stream
        .write_all(&head_bytes(status, headers, body.len()))
        .await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}
