//! GitHub over HTTP: one reqwest client (rustls), conditional GETs, rate-limit headers, and
//! every way an answer can be wrong turned into a typed outcome with its reason. What counts
//! as GitHub failing (for the circuit breaker) is decided here: 5xx, timeouts and connection
//! errors do; 404s and rate-limit answers do not.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::StatusCode;

use super::quota::Headers;

#[derive(Clone)]
pub struct HttpConfig {
    /// `https://api.github.com`, or a test origin / GitHub Enterprise.
    pub api_url: String,
    /// `https://raw.githubusercontent.com`.
    pub raw_url: String,
    pub token: Option<String>,
    /// To open the connection.
    pub connect_timeout: Duration,
    /// From sending a request to the first byte of its answer, connecting included.
    pub first_byte_timeout: Duration,
    /// Silence in the middle of a body.
    pub idle_timeout: Duration,
    /// One request from start to its body's last byte (a backstop: the read task's budget
    /// for a whole key is `github.timeout` too).
    pub timeout: Duration,
    /// Larger bodies are refused (a 7 MB tree listing is GitHub's own maximum).
    pub max_body: usize,
}

impl HttpConfig {
    pub fn from_config(config: &crate::config::GithubConfig) -> HttpConfig {
        HttpConfig {
            api_url: config.api_url.clone(),
            raw_url: config.raw_url.clone(),
            token: config.token().map(str::to_owned),
            connect_timeout: config.connect_timeout,
            first_byte_timeout: config.first_byte_timeout,
            idle_timeout: config.idle_timeout,
            timeout: config.timeout,
            max_body: config.max_body.bytes() as usize,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Api,
    Raw,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Body {
        bytes: Bytes,
        etag: Option<String>,
    },
    /// 304 to our `If-None-Match`: what we have is current.
    NotModified,
    NotFound,
    /// 403/429 with the rate-limit headers; see `Quota::rate_limited`.
    RateLimited,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Connected (or still connecting), and no answer began: a stalled proxy, a captive
    /// portal, a half-dead link.
    #[error("GitHub did not answer within {}", humantime::format_duration(*.0))]
    NoAnswer(Duration),
    #[error("GitHub stopped sending for {} in the middle of an answer", humantime::format_duration(*.0))]
    Stalled(Duration),
    #[error("GitHub's answer did not complete within {}", humantime::format_duration(*.0))]
    TooSlow(Duration),
    #[error("cannot reach GitHub: {0}")]
    Connect(String),
    #[error("GitHub answered {0}")]
    Status(u16),
    #[error("GitHub's answer is over the {0}-byte limit")]
    TooLarge(usize),
    #[error("GitHub's answer was cut off: {0}")]
    Truncated(String),
    #[error("GitHub redirected too often: {0}")]
    Redirects(String),
    #[error("request to GitHub failed: {0}")]
    Other(String),
}

impl FetchError {
    /// Whether this says GitHub itself is failing (and so counts toward opening a breaker).
    pub fn is_upstream_failure(&self) -> bool {
        match self {
            FetchError::NoAnswer(_)
            | FetchError::Stalled(_)
            | FetchError::TooSlow(_)
            | FetchError::Connect(_)
            | FetchError::Truncated(_) => true,
            FetchError::Status(code) => *code >= 500,
            _ => false,
        }
    }
}

pub struct Http {
    client: reqwest::Client,
    config: HttpConfig,
}

impl Http {
    pub fn new(config: HttpConfig) -> Result<Http, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("shadcache/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http { client, config })
    }

    /// `path` starts with `/` (`/repos/o/r/git/trees/sha?recursive=1`, `/o/r/main/file`).
    pub async fn get(
        &self,
        origin: Origin,
        path: &str,
        etag: Option<&str>,
    ) -> (Result<Fetched, FetchError>, Headers) {
        let base = match origin {
            Origin::Api => &self.config.api_url,
            Origin::Raw => &self.config.raw_url,
        };
        let mut request = self.client.get(format!("{base}{path}"));
        if origin == Origin::Api {
            request = request.header("accept", "application/vnd.github+json");
        }
        if let Some(token) = &self.config.token {
            request = request.bearer_auth(token);
        }
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        let response =
            match tokio::time::timeout(self.config.first_byte_timeout, request.send()).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => return (Err(self.classify(e)), Headers::default()),
                Err(_) => {
                    let waited = self.config.first_byte_timeout;
                    return (Err(FetchError::NoAnswer(waited)), Headers::default());
                }
            };
        let headers = Headers::parse(
            response
                .headers()
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
        );
        let status = response.status();
        // A 403 is a rate limit only when the headers say so (it can also mean no access).
        let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
            || (status == StatusCode::FORBIDDEN
                && (headers.retry_after.is_some() || headers.remaining == Some(0)));
        let outcome = if rate_limited {
            Ok(Fetched::RateLimited)
        } else if status == StatusCode::NOT_MODIFIED {
            Ok(Fetched::NotModified)
        } else if status == StatusCode::NOT_FOUND {
            Ok(Fetched::NotFound)
        } else if !status.is_success() {
            Err(FetchError::Status(status.as_u16()))
        } else {
            let etag = response
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            self.body(response)
                .await
                .map(|bytes| Fetched::Body { bytes, etag })
        };
        (outcome, headers)
    }

    /// Reads a body, refusing it as soon as it passes `max_body`.
    async fn body(&self, response: reqwest::Response) -> Result<Bytes, FetchError> {
        let limit = self.config.max_body;
        if response
            .content_length()
            .is_some_and(|len| len as usize > limit)
        {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = BytesMut::new();
        let mut stream = response.bytes_stream();
        let idle = self.config.idle_timeout;
        loop {
            let chunk = match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => return Err(FetchError::Stalled(idle)),
                Ok(None) => break,
                Ok(Some(chunk)) => chunk,
            };
            let chunk = chunk.map_err(|e| match self.classify(e) {
                FetchError::Other(reason) => FetchError::Truncated(reason),
                other => other,
            })?;
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        let reason = error_chain(&e);
        if e.is_timeout() && e.is_connect() {
            FetchError::Connect(format!(
                "no connection within {}",
                humantime::format_duration(self.config.connect_timeout)
            ))
        } else if e.is_timeout() {
            FetchError::TooSlow(self.config.timeout)
        } else if e.is_redirect() {
            FetchError::Redirects(reason)
        } else if e.is_connect() || e.is_request() {
            // Refused, reset, or closed before answering: the transport failed.
            FetchError::Connect(reason)
        } else if e.is_body() || e.is_decode() {
            FetchError::Truncated(reason)
        } else {
            FetchError::Other(reason)
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::origin::{FakeOrigin, Fault};

    fn http(origin: &FakeOrigin, max_body: usize) -> Http {
        Http::new(HttpConfig {
            api_url: origin.api_url(),
            raw_url: origin.raw_url(),
            token: None,
            connect_timeout: Duration::from_secs(2),
            first_byte_timeout: Duration::from_millis(400),
            idle_timeout: Duration::from_millis(300),
            timeout: Duration::from_millis(800),
            max_body,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn bodies_etags_and_conditional_requests() {
        let origin = FakeOrigin::start().await.unwrap();
        origin.set("/raw/o/r/main/a.tsx", 200, b"export const A = 1".to_vec());
        let http = http(&origin, 1 << 20);
        let (fetched, _) = http.get(Origin::Raw, "/o/r/main/a.tsx", None).await;
        let Ok(Fetched::Body { bytes, etag }) = fetched else {
            panic!("{fetched:?}");
        };
        assert_eq!(bytes, Bytes::from_static(b"export const A = 1"));
        let etag = etag.expect("etag");
        let (again, _) = http.get(Origin::Raw, "/o/r/main/a.tsx", Some(&etag)).await;
        assert_eq!(again, Ok(Fetched::NotModified));
        let (missing, _) = http.get(Origin::Raw, "/o/r/main/nope.tsx", None).await;
        assert_eq!(missing, Ok(Fetched::NotFound));
        assert_eq!(origin.count("/raw/o/r/main/a.tsx"), 2);
    }

    #[tokio::test]
    async fn api_answers_carry_rate_limit_headers_and_304s_cost_nothing() {
        let origin = FakeOrigin::start().await.unwrap();
        origin.set("/api/repos/o/r/contents/x", 200, b"[]".to_vec());
        let http = http(&origin, 1 << 20);
        let (first, headers) = http.get(Origin::Api, "/repos/o/r/contents/x", None).await;
        assert_eq!(headers.remaining, Some(4999));
        let Ok(Fetched::Body { etag, .. }) = first else {
            panic!()
        };
        let (_, headers) = http
            .get(Origin::Api, "/repos/o/r/contents/x", etag.as_deref())
            .await;
        assert_eq!(headers.remaining, Some(4999), "a 304 spent quota");
    }

    #[tokio::test]
    async fn every_fault_is_a_typed_outcome() {
        let origin = FakeOrigin::start().await.unwrap();
        let body = vec![b'a'; 4096];
        for path in [
            "/raw/f/5xx",
            "/raw/f/limit",
            "/raw/f/reset",
            "/raw/f/cut",
            "/raw/f/loop",
            "/raw/f/huge",
            "/raw/f/slow",
            "/raw/f/hang",
            "/raw/f/stall",
            "/raw/f/trickle",
            "/raw/f/limit-headers",
        ] {
            origin.set(path, 200, body.clone());
        }
        origin.fault("/raw/f/5xx", Fault::Status(502));
        origin.fault(
            "/raw/f/limit",
            Fault::RateLimit {
                status: 429,
                retry_after: Some(30),
                reset_in: Duration::from_secs(60),
            },
        );
        origin.fault(
            "/raw/f/limit-headers",
            Fault::RateLimit {
                status: 403,
                retry_after: None,
                reset_in: Duration::from_secs(60),
            },
        );
        origin.fault("/raw/f/reset", Fault::Reset);
        origin.fault("/raw/f/cut", Fault::Truncate);
        origin.fault("/raw/f/loop", Fault::RedirectLoop);
        origin.fault("/raw/f/huge", Fault::Huge(2 << 20));
        origin.fault("/raw/f/slow", Fault::Slow(Duration::from_millis(50)));
        origin.fault("/raw/f/hang", Fault::Hang);
        origin.fault("/raw/f/stall", Fault::StallBody);
        origin.fault("/raw/f/trickle", Fault::Trickle(Duration::from_millis(100)));
        let http = http(&origin, 1 << 20);
        let get = |p: &'static str| {
            let http = &http;
            async move { http.get(Origin::Raw, &p["/raw".len()..], None).await }
        };
        assert_eq!(get("/raw/f/5xx").await.0, Err(FetchError::Status(502)));
        let (limited, headers) = get("/raw/f/limit").await;
        assert_eq!(limited, Ok(Fetched::RateLimited));
        assert_eq!(headers.retry_after, Some(30));
        assert_eq!(
            get("/raw/f/limit-headers").await.0,
            Ok(Fetched::RateLimited)
        );
        assert!(
            get("/raw/f/reset")
                .await
                .0
                .unwrap_err()
                .is_upstream_failure()
        );
        let cut = get("/raw/f/cut").await.0.unwrap_err();
        assert!(matches!(cut, FetchError::Truncated(_)), "{cut:?}");
        assert!(matches!(
            get("/raw/f/loop").await.0,
            Err(FetchError::Redirects(_))
        ));
        assert_eq!(
            get("/raw/f/huge").await.0,
            Err(FetchError::TooLarge(1 << 20))
        );
        // Each budget names itself: no answer at all, silence mid-body, a body too slow.
        let ms = Duration::from_millis;
        assert_eq!(
            get("/raw/f/slow").await.0,
            Err(FetchError::TooSlow(ms(800)))
        );
        assert_eq!(
            get("/raw/f/hang").await.0,
            Err(FetchError::NoAnswer(ms(400)))
        );
        assert_eq!(
            get("/raw/f/stall").await.0,
            Err(FetchError::Stalled(ms(300)))
        );
        assert_eq!(
            get("/raw/f/trickle").await.0,
            Err(FetchError::TooSlow(ms(800)))
        );
        for budget in [FetchError::NoAnswer(ms(400)), FetchError::Stalled(ms(300))] {
            assert!(budget.is_upstream_failure());
        }
        assert_eq!(
            FetchError::NoAnswer(Duration::from_secs(10)).to_string(),
            "GitHub did not answer within 10s"
        );
        assert!(!FetchError::Status(404).is_upstream_failure());
        assert!(FetchError::Status(503).is_upstream_failure());
    }

    #[tokio::test]
    async fn an_origin_that_is_not_there_is_a_connection_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let http = Http::new(HttpConfig {
            api_url: format!("http://{addr}"),
            raw_url: format!("http://{addr}"),
            token: None,
            connect_timeout: Duration::from_secs(2),
            first_byte_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            max_body: 1024,
        })
        .unwrap();
        let err = http.get(Origin::Api, "/x", None).await.0.unwrap_err();
        assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
        assert!(err.is_upstream_failure());
    }

    #[tokio::test]
    async fn the_recorded_fixtures_are_served() {
        let dir = crate::testkit::fixtures::dir();
        let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
        let http = http(&origin, 8 << 20);
        let path = "/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx";
        let (fetched, _) = http.get(Origin::Raw, path, None).await;
        let Ok(Fetched::Body { bytes, .. }) = fetched else {
            panic!("{fetched:?}");
        };
        let expected = std::fs::read(dir.join(format!("raw.githubusercontent.com{path}"))).unwrap();
        assert_eq!(bytes.as_ref(), expected.as_slice());
        let (missing, _) = http
            .get(
                Origin::Raw,
                "/shadcn-ui/ui/main/apps/v4/registry/registry-ui.ts",
                None,
            )
            .await;
        assert_eq!(missing, Ok(Fetched::NotFound));
    }
}
