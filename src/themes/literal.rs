//! The JavaScript literal reader behind the presets file: one value from a byte offset, in
//! the subset `preset.rs` describes, failing with the line it stopped at.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JavaScript value from the literal, objects keeping their source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Js {
    Str(String),
    /// The number as written (`0.5`, `-1e3`): only ever printed back.
    Num(String),
    Bool(bool),
    /// `null`, or `undefined` (which upstream turns into `null`).
    Null,
    Array(Vec<Js>),
    Object(Vec<(String, Js)>),
}

impl Js {
    pub fn get(&self, key: &str) -> Option<&Js> {
        match self {
            Js::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Js::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn fields(&self) -> &[(String, Js)] {
        match self {
            Js::Object(fields) => fields,
            _ => &[],
        }
    }
}

impl Serialize for Js {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Js::Str(s) => serializer.serialize_str(s),
            Js::Num(n) => match n.parse::<f64>() {
                Ok(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => serializer.serialize_i64(n as i64),
                Ok(n) if n.is_finite() => serializer.serialize_f64(n),
                _ => serializer.serialize_none(),
            },
            Js::Bool(b) => serializer.serialize_bool(*b),
            Js::Null => serializer.serialize_none(),
            Js::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Js::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("theme-presets.ts has no `export const defaultPresets = {{`")]
    NoPresets,
    #[error("theme-presets.ts, line {line}: {message}")]
    At { line: usize, message: String },
    #[error("theme-presets.ts: `defaultPresets` is not an object of presets")]
    NotPresets,
}

/// Nesting deeper than this is not a preset file (and would exhaust the stack).
const MAX_DEPTH: usize = 32;

/// The value that starts at `at` in `text`.
pub(super) fn read(text: &[u8], at: usize) -> Result<Js, ParseError> {
    Parser { text, at }.value(0)
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        let line = self.text[..self.at.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ParseError::At {
            line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skips whitespace and comments.
    fn skip(&mut self) -> Result<(), ParseError> {
        loop {
            match (self.peek(), self.text.get(self.at + 1)) {
                (Some(b' ' | b'\t' | b'\n' | b'\r'), _) => self.at += 1,
                (Some(b'/'), Some(b'/')) => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.at += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let end = self.text[self.at + 2..]
                        .windows(2)
                        .position(|w| w == b"*/")
                        .ok_or_else(|| self.error("a comment that never ends"))?;
                    self.at += 2 + end + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ParseError> {
        self.skip()?;
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", byte as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Js, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip()?;
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"' | b'\'' | b'`') => self.string().map(Js::Str),
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => self.number(),
            Some(b) if is_ident_start(b) => match self.ident().as_str() {
                "true" => Ok(Js::Bool(true)),
                "false" => Ok(Js::Bool(false)),
                "null" | "undefined" => Ok(Js::Null),
                other => Err(self.error(format!("`{other}` is not a value this file may hold"))),
            },
            Some(b) => Err(self.error(format!("unexpected `{}`", b as char))),
            None => Err(self.error("the file ends inside `defaultPresets`")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Js, ParseError> {
        self.expect(b'{')?;
        let mut fields: Vec<(String, Js)> = Vec::new();
        loop {
            self.skip()?;
            if self.peek() == Some(b'}') {
                self.at += 1;
                return Ok(Js::Object(fields));
            }
            let key = match self.peek() {
                Some(b'"' | b'\'' | b'`') => self.string()?,
                Some(b) if is_ident_start(b) || b.is_ascii_digit() => self.ident(),
                _ => return Err(self.error("expected a key")),
            };
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            // A repeated key takes the later value, in the first one's place, as in JS.
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(field) => field.1 = value,
                None => fields.push((key, value)),
            }
            self.skip()?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Js, ParseError> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        loop {
            self.skip()?;
            if self.peek() == Some(b']') {
                self.at += 1;
                return Ok(Js::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip()?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {}
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let quote = self.peek().expect("called on a quote");
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("a string that never ends"));
            };
            self.at += 1;
            match b {
                _ if b == quote => break,
                b'\n' if quote != b'`' => {
                    self.at -= 1;
                    return Err(self.error("a line break inside a string"));
                }
                b'$' if quote == b'`' && self.peek() == Some(b'{') => {
                    return Err(self.error("a template string with `${`"));
                }
                b'\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(self.error("a string that never ends"));
                    };
                    self.at += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'v' => out.push(0x0b),
                        b'0' => out.push(0),
                        b'\n' => {}
                        b'x' | b'u' => {
                            let c = self.code_point(escaped)?;
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("a string that is not UTF-8"))
    }

    /// After `\x` (two hex digits) or `\u` (four, or `{...}`): the character. A surrogate pair
    /// makes one; a lone surrogate, which a Rust string cannot hold, becomes U+FFFD.
    fn code_point(&mut self, kind: u8) -> Result<char, ParseError> {
        let unit = match (kind, self.peek()) {
            (b'u', Some(b'{')) => {
                self.at += 1;
                let digits = self.hex_digits(1, 6)?;
                if self.peek() != Some(b'}') {
                    return Err(self.error("an escape `\\u{` without its `}`"));
                }
                self.at += 1;
                return char::from_u32(digits).ok_or_else(|| self.error("an escape past U+10FFFF"));
            }
            (b'x', _) => self.hex_digits(2, 2)?,
            _ => self.hex_digits(4, 4)?,
        };
        if (0xD800..0xDC00).contains(&unit) && self.text.get(self.at..self.at + 2) == Some(b"\\u") {
            let before = self.at;
            self.at += 2;
            match self.hex_digits(4, 4) {
                Ok(low) if (0xDC00..0xE000).contains(&low) => {
                    let combined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return Ok(char::from_u32(combined).expect("a valid pair"));
                }
                _ => self.at = before,
            }
        }
        Ok(char::from_u32(unit).unwrap_or('\u{fffd}'))
    }

    fn hex_digits(&mut self, least: usize, most: usize) -> Result<u32, ParseError> {
        let start = self.at;
        while self.at - start < most && self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.at += 1;
        }
        if self.at - start < least {
            return Err(self.error("an escape with too few hex digits"));
        }
        let digits = std::str::from_utf8(&self.text[start..self.at]).expect("hex digits");
        u32::from_str_radix(digits, 16).map_err(|_| self.error("an escape out of range"))
    }

    fn number(&mut self) -> Result<Js, ParseError> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).expect("ASCII");
        if text.replace('_', "").parse::<f64>().is_err() {
            return Err(self.error(format!("`{text}` is not a number")));
        }
        Ok(Js::Num(text.to_owned()))
    }

    fn ident(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| is_ident_start(b) || b.is_ascii_digit())
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}
