//! GitHub over HTTP: the shared client (`crate::http`) with GitHub's rules on top: which
//! host a path goes to, the token, conditional GETs by ETag, and the rate-limit headers (a
//! 403 is a rate limit only when they say so).

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, IF_NONE_MATCH};

use super::quota::Headers;
use crate::http::Client;
pub use crate::http::{Failure, FetchError};

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

/// How GitHub is named in errors.
pub const UPSTREAM: &str = crate::protocol::TierName::Github.upstream();

pub struct Http {
    client: Client,
    api_url: String,
    raw_url: String,
    authorization: Option<HeaderValue>,
}

impl Http {
    pub fn new(config: HttpConfig) -> Result<Http, String> {
        let client = Client::new(crate::http::HttpConfig {
            upstream: UPSTREAM,
            connect_timeout: config.connect_timeout,
            first_byte_timeout: config.first_byte_timeout,
            idle_timeout: config.idle_timeout,
            timeout: config.timeout,
            max_body: config.max_body,
        })?;
        let authorization = match &config.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| "the GitHub token holds characters a header cannot".to_owned())?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Http {
            client,
            api_url: config.api_url,
            raw_url: config.raw_url,
            authorization,
        })
    }

    /// `path` starts with `/` (`/repos/o/r/git/trees/sha?recursive=1`, `/o/r/main/file`).
    pub async fn get(
        &self,
        origin: Origin,
        path: &str,
        etag: Option<&str>,
    ) -> (Result<Fetched, FetchError>, Headers) {
        let base = match origin {
            Origin::Api => &self.api_url,
            Origin::Raw => &self.raw_url,
        };
        let mut headers = HeaderMap::new();
        if origin == Origin::Api {
            headers.insert(
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            );
        }
        if let Some(authorization) = &self.authorization {
            headers.insert(AUTHORIZATION, authorization.clone());
        }
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert(IF_NONE_MATCH, etag);
        }
        let answer = match self.client.get(&format!("{base}{path}"), headers).await {
            Ok(answer) => answer,
            Err(e) => return (Err(e), Headers::default()),
        };
        let headers = Headers::parse(
            answer
                .headers
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
        );
        let status = answer.status;
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
            Err(self.client.error(Failure::Status(status.as_u16())))
        } else {
            Ok(Fetched::Body {
                etag: answer.header("etag").map(str::to_owned),
                bytes: answer.body,
            })
        };
        (outcome, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::origin::{FakeOrigin, Fault};

    fn failure(outcome: Result<Fetched, FetchError>) -> Failure {
        outcome.expect_err("a failure").failure
    }

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
        assert_eq!(failure(get("/raw/f/5xx").await.0), Failure::Status(502));
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
        let cut = failure(get("/raw/f/cut").await.0);
        assert!(matches!(cut, Failure::Truncated(_)), "{cut:?}");
        assert!(matches!(
            failure(get("/raw/f/loop").await.0),
            Failure::Redirects(_)
        ));
        assert_eq!(
            failure(get("/raw/f/huge").await.0),
            Failure::TooLarge(1 << 20)
        );
        // Each budget names itself: no answer at all, silence mid-body, a body too slow.
        let ms = Duration::from_millis;
        assert_eq!(
            failure(get("/raw/f/slow").await.0),
            Failure::TooSlow(ms(800))
        );
        assert_eq!(
            failure(get("/raw/f/hang").await.0),
            Failure::NoAnswer(ms(400))
        );
        assert_eq!(
            failure(get("/raw/f/stall").await.0),
            Failure::Stalled(ms(300))
        );
        assert_eq!(
            failure(get("/raw/f/trickle").await.0),
            Failure::TooSlow(ms(800))
        );
        let error = |failure| FetchError {
            upstream: UPSTREAM,
            failure,
        };
        for budget in [Failure::NoAnswer(ms(400)), Failure::Stalled(ms(300))] {
            assert!(error(budget).is_upstream_failure());
        }
        assert_eq!(
            error(Failure::NoAnswer(Duration::from_secs(10))).to_string(),
            "GitHub did not answer within 10s"
        );
        assert!(!error(Failure::Status(404)).is_upstream_failure());
        assert!(error(Failure::Status(503)).is_upstream_failure());
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
        assert!(matches!(err.failure, Failure::Connect(_)), "{err:?}");
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
