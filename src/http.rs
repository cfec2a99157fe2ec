//! HTTP to an origin: one reqwest client (rustls) with the budgets every upstream gets (to
//! connect, to the first byte, silence mid-body, the whole answer, the body's size), and every
//! way an answer can fail turned into a typed [`FetchError`] naming the upstream. Each origin
//! adds its own rules on top (GitHub's rate-limit headers, the registry's body checks); what
//! counts as the upstream failing, for a circuit breaker, is decided here: 5xx, timeouts and
//! connection errors do; 404s and refusals do not.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

#[derive(Clone)]
pub struct HttpConfig {
    /// How errors name the upstream (`GitHub`, `the shadcn registry`).
    pub upstream: &'static str,
    /// To open the connection.
    pub connect_timeout: Duration,
    /// From sending a request to the first byte of its answer, connecting included.
    pub first_byte_timeout: Duration,
    /// Silence in the middle of a body.
    pub idle_timeout: Duration,
    /// One request from start to its body's last byte.
    pub timeout: Duration,
    /// Larger bodies are refused.
    pub max_body: usize,
}

/// An answer whose head arrived. Only a 2xx answer's body is read (within the limits).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body of a 2xx answer; empty for any other.
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FetchError {
    pub upstream: &'static str,
    pub failure: Failure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Connected (or still connecting), and no answer began: a stalled proxy, a captive
    /// portal, a half-dead link.
    NoAnswer(Duration),
    /// Silence this long in the middle of a body.
    Stalled(Duration),
    /// The whole answer took longer than this.
    TooSlow(Duration),
    Connect(String),
    Status(u16),
    TooLarge(usize),
    Truncated(String),
    Redirects(String),
    Other(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let up = self.upstream;
        let time = humantime::format_duration;
        match &self.failure {
            Failure::NoAnswer(d) => write!(f, "{up} did not answer within {}", time(*d)),
            Failure::Stalled(d) => write!(
                f,
                "{up} stopped sending for {} in the middle of an answer",
                time(*d)
            ),
            Failure::TooSlow(d) => write!(f, "{up}'s answer did not complete within {}", time(*d)),
            Failure::Connect(why) => write!(f, "cannot reach {up}: {why}"),
            Failure::Status(code) => write!(f, "{up} answered {code}"),
            Failure::TooLarge(limit) => write!(f, "{up}'s answer is over the {limit}-byte limit"),
            Failure::Truncated(why) => write!(f, "{up}'s answer was cut off: {why}"),
            Failure::Redirects(why) => write!(f, "{up} redirected too often: {why}"),
            Failure::Other(why) => write!(f, "request to {up} failed: {why}"),
        }
    }
}

impl FetchError {
    /// Whether this says the upstream itself is failing (and so counts toward opening a breaker).
    pub fn is_upstream_failure(&self) -> bool {
        match self.failure {
            Failure::NoAnswer(_)
            | Failure::Stalled(_)
            | Failure::TooSlow(_)
            | Failure::Connect(_)
            | Failure::Truncated(_) => true,
            Failure::Status(code) => code >= 500,
            _ => false,
        }
    }
}

pub struct Client {
    client: reqwest::Client,
    config: HttpConfig,
}

impl Client {
    pub fn new(config: HttpConfig) -> Result<Client, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("shadcache/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client { client, config })
    }

    pub fn error(&self, failure: Failure) -> FetchError {
        FetchError {
            upstream: self.config.upstream,
            failure,
        }
    }

    /// GETs `url` with `headers`; a 2xx body is read whole, refused past `max_body`.
    pub async fn get(&self, url: &str, headers: HeaderMap) -> Result<Answer, FetchError> {
        let request = self.client.get(url).headers(headers);
        let response =
            match tokio::time::timeout(self.config.first_byte_timeout, request.send()).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => return Err(self.classify(e)),
                Err(_) => return Err(self.error(Failure::NoAnswer(self.config.first_byte_timeout))),
            };
        let status = response.status();
        let headers = response.headers().clone();
        let body = if status.is_success() {
            self.body(response).await?
        } else {
            Bytes::new()
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Reads a body, refusing it as soon as it passes `max_body`.
    async fn body(&self, response: reqwest::Response) -> Result<Bytes, FetchError> {
        let limit = self.config.max_body;
        if response
            .content_length()
            .is_some_and(|len| len as usize > limit)
        {
            return Err(self.error(Failure::TooLarge(limit)));
        }
        let mut body = BytesMut::new();
        let mut stream = response.bytes_stream();
        let idle = self.config.idle_timeout;
        loop {
            let chunk = match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => return Err(self.error(Failure::Stalled(idle))),
                Ok(None) => break,
                Ok(Some(chunk)) => chunk,
            };
            let chunk = chunk.map_err(|e| match self.classify(e) {
                FetchError {
                    failure: Failure::Other(reason),
                    upstream,
                } => FetchError {
                    upstream,
                    failure: Failure::Truncated(reason),
                },
                other => other,
            })?;
            if body.len() + chunk.len() > limit {
                return Err(self.error(Failure::TooLarge(limit)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        let reason = error_chain(&e);
        let failure = if e.is_timeout() && e.is_connect() {
            Failure::Connect(format!(
                "no connection within {}",
                humantime::format_duration(self.config.connect_timeout)
            ))
        } else if e.is_timeout() {
            Failure::TooSlow(self.config.timeout)
        } else if e.is_redirect() {
            Failure::Redirects(reason)
        } else if e.is_connect() || e.is_request() {
            // Refused, reset, or closed before answering: the transport failed.
            Failure::Connect(reason)
        } else if e.is_body() || e.is_decode() {
            Failure::Truncated(reason)
        } else {
            Failure::Other(reason)
        };
        self.error(failure)
    }
}

/// reqwest's Display stops at the outermost error; the cause is further down.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
