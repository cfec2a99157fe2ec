//! Cache keys: the one place that decides what a key may contain.
//!
//! Keys travel from untrusted clients into log lines, SQL parameters and (for the upstream
//! kinds) GitHub URLs, so they are validated once, at the edge, into a [`Key`] that the rest of
//! the daemon can trust. The grammar is DESIGN.md's: 2 to 4 segments joined by `:`, each
//! `[A-Za-z0-9._-]{1,128}`, never `.` or `..`, at most 512 bytes in all.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const MAX_KEY_LEN: usize = 512;
pub const MAX_SEGMENT_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("invalid key: empty")]
    Empty,
    #[error("invalid key: {len} bytes, the limit is {MAX_KEY_LEN}")]
    TooLong { len: usize },
    #[error("invalid key `{key}`: {segments} segment(s); a key has 2 to 4 segments joined by `:`")]
    SegmentCount { key: String, segments: usize },
    #[error("invalid key `{key}`: segment {index} is empty")]
    EmptySegment { key: String, index: usize },
    #[error("invalid key `{key}`: segment {index} is longer than {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong { key: String, index: usize },
    #[error("invalid key `{key}`: segment `{segment}` is a path component")]
    DotSegment { key: String, segment: String },
    #[error(
        "invalid key `{key}`: character {found:?} is not allowed (only A-Z a-z 0-9 . _ - and `:` between segments)"
    )]
    BadChar { key: String, found: char },
}

/// A validated cache key. Construct with [`Key::parse`]; the inner string is always valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key(String);

impl Key {
    pub fn parse(raw: &str) -> Result<Key, KeyError> {
        if raw.is_empty() {
            return Err(KeyError::Empty);
        }
        if raw.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong { len: raw.len() });
        }
        // Characters first, so that `a/b` is reported as a bad `/` and not as a segment count.
        if let Some(found) = raw.chars().find(|c| !is_key_char(*c) && *c != ':') {
            return Err(KeyError::BadChar {
                key: printable(raw),
                found,
            });
        }
        let segments = raw.split(':').count();
        if !(2..=4).contains(&segments) {
            return Err(KeyError::SegmentCount {
                key: raw.to_owned(),
                segments,
            });
        }
        for (index, segment) in raw.split(':').enumerate() {
            if segment.is_empty() {
                return Err(KeyError::EmptySegment {
                    key: raw.to_owned(),
                    index: index + 1,
                });
            }
            if segment.len() > MAX_SEGMENT_LEN {
                return Err(KeyError::SegmentTooLong {
                    key: raw.to_owned(),
                    index: index + 1,
                });
            }
            if segment == "." || segment == ".." {
                return Err(KeyError::DotSegment {
                    key: raw.to_owned(),
                    segment: segment.to_owned(),
                });
            }
        }
        Ok(Key(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split(':')
    }

    /// The first segment: `component`, `block`, `list`, `metadata`, or anything a client chose.
    pub fn kind(&self) -> &str {
        self.segments().next().unwrap_or_default()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Key::parse(&raw).map_err(serde::de::Error::custom)
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Error messages quote the key back; a hostile key must not smuggle control characters or
/// megabytes into a log line.
fn printable(raw: &str) -> String {
    let mut out: String = raw.chars().take(64).flat_map(char::escape_debug).collect();
    if raw.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_kinds() {
        for raw in [
            "component:react:button",
            "block:react:dashboard-01",
            "metadata:github_rate_limit",
            "list:svelte:components",
            "tree:vue",
            "demo:react-base:accordion",
            "a:b:c:d",
            "v1.2:x_y",
        ] {
            assert_eq!(Key::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn rejects_path_and_url_characters() {
        for raw in [
            "component:react:../x",
            "component:react:a/b",
            "component:react:%2e%2e",
            "component:react:a?b",
            "component:react:a#b",
            "component:react:a b",
            "component:react:a\nb",
            "component:react:ä",
            "component:react:a\\b",
        ] {
            assert!(
                matches!(Key::parse(raw), Err(KeyError::BadChar { .. })),
                "{raw:?} accepted"
            );
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(Key::parse(""), Err(KeyError::Empty));
        assert!(matches!(
            Key::parse("button"),
            Err(KeyError::SegmentCount { segments: 1, .. })
        ));
        assert!(matches!(
            Key::parse("a:b:c:d:e"),
            Err(KeyError::SegmentCount { segments: 5, .. })
        ));
        assert!(matches!(
            Key::parse("a::b"),
            Err(KeyError::EmptySegment { index: 2, .. })
        ));
        assert!(matches!(
            Key::parse("component:.."),
            Err(KeyError::DotSegment { .. })
        ));
        assert!(matches!(
            Key::parse("component:."),
            Err(KeyError::DotSegment { .. })
        ));
        let long_segment = format!("a:{}", "x".repeat(129));
        assert!(matches!(
            Key::parse(&long_segment),
            Err(KeyError::SegmentTooLong { index: 2, .. })
        ));
        let long_key = vec!["y".repeat(128); 4].join(":");
        assert!(matches!(
            Key::parse(&long_key),
            Err(KeyError::TooLong { .. })
        ));
    }

    #[test]
    fn error_text_escapes_control_characters() {
        let err = Key::parse("a:\u{1b}[31mred").unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
        assert!(err.contains("\\u{1b}"), "{err}");
    }

    #[test]
    fn deserialising_validates() {
        let bad: Result<Key, _> = serde_json::from_str("\"a/b:c\"");
        assert!(bad.is_err());
        let good: Key = serde_json::from_str("\"a:c\"").unwrap();
        assert_eq!(good.kind(), "a");
    }
}
