//! tweakcn's `utils/theme-presets.ts`, read without running it: the object literal after
//! `export const defaultPresets ... =`, parsed as a small subset of JavaScript (objects,
//! arrays, strings in any of the three quotes, numbers, `true`/`false`/`null`/`undefined`,
//! bare or quoted keys, trailing commas, comments). Upstream evaluates the file; this parser
//! refuses anything outside that subset with the line it stopped at, so a changed file is a
//! clear error and the last good copy keeps serving.

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

/// One preset: its id (the key in `defaultPresets`) and its object
/// (`{label, createdAt?, styles: {light, dark}}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub id: String,
    pub value: Js,
}

impl Preset {
    /// `preset.label || preset.name || id`, as upstream labels it.
    pub fn label(&self) -> &str {
        ["label", "name"]
            .iter()
            .filter_map(|k| self.value.get(k).and_then(Js::as_str))
            .find(|s| !s.is_empty())
            .unwrap_or(&self.id)
    }

    pub fn created_at(&self) -> Option<&str> {
        self.value.get("createdAt").and_then(Js::as_str)
    }

    /// The tokens of one mode (`light`, `dark`), in source order, strings only.
    pub fn tokens(&self, mode: &str) -> Vec<(&str, &str)> {
        self.value
            .get("styles")
            .and_then(|s| s.get(mode))
            .map(Js::fields)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
            .collect()
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

/// Every preset in the file, in source order.
pub fn parse(text: &str) -> Result<Vec<Preset>, ParseError> {
    let start = find_presets(text).ok_or(ParseError::NoPresets)?;
    let mut parser = Parser {
        text: text.as_bytes(),
        at: start,
    };
    let value = parser.value(0)?;
    let Js::Object(fields) = value else {
        return Err(ParseError::NotPresets);
    };
    fields
        .into_iter()
        .map(|(id, value)| match value {
            Js::Object(_) => Ok(Preset { id, value }),
            _ => Err(ParseError::NotPresets),
        })
        .collect()
}

/// The offset of the `{` that opens `defaultPresets`: after `export const defaultPresets`,
/// an optional type annotation and `=`.
fn find_presets(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("defaultPresets") {
        let name_end = from + found + "defaultPresets".len();
        let before = text[..from + found].trim_end();
        from = name_end;
        if !(before.ends_with("const") && before[..before.len() - 5].trim_end().ends_with("export"))
        {
            continue;
        }
        let rest = &text[name_end..];
        let equals = rest.find('=')?;
        let after = &rest[equals + 1..];
        let brace = after.len() - after.trim_start().len();
        if after[brace..].starts_with('{') {
            return Some(name_end + equals + 1 + brace);
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn presets_file() -> String {
        let path = crate::testkit::fixtures::dir()
            .join("raw.githubusercontent.com/jnsahaj/tweakcn/main/utils/theme-presets.ts");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn the_recorded_presets_parse_in_source_order() {
        let presets = parse(&presets_file()).unwrap();
        assert_eq!(presets.len(), 42);
        assert_eq!(presets[0].id, "modern-minimal");
        assert_eq!(presets[41].id, "sage-garden");
        assert_eq!(presets[0].label(), "Modern Minimal");
        assert_eq!(presets[0].created_at(), None);
        assert_eq!(presets[1].created_at(), Some("2025-06-26"));
        let light = presets[0].tokens("light");
        assert_eq!(light[0], ("background", "#ffffff"));
        assert_eq!(light[3], ("card-foreground", "#333333"));
        // Single-quoted values that hold double quotes.
        let lora = presets
            .iter()
            .flat_map(|p| p.tokens("light"))
            .find(|(_, v)| v.starts_with("\"Lora\""))
            .unwrap();
        assert_eq!(lora.1, "\"Lora\", Georgia, serif");
        assert!(
            presets
                .iter()
                .all(|p| p.created_at().is_none() || p.label() != p.id)
        );
    }

    #[test]
    fn what_a_later_file_may_hold_also_parses() {
        let text = r#"
            import { ThemePreset } from "../types/theme";
            // A comment before.
            export const defaultPresets: Record<string, ThemePreset> = {
              /* a block comment */ plain: { label: `Back ticks`, styles: { light: { a: 'x', "b-c": "y", }, dark: {}, }, n: -1.5, list: [1, 2,], u: undefined, },
              'quoted-id': { label: "Q", },
            };
            export const other = { x: 1 };
        "#;
        let presets = parse(text).unwrap();
        assert_eq!(presets.len(), 2);
        assert_eq!(presets[0].id, "plain");
        assert_eq!(presets[0].label(), "Back ticks");
        assert_eq!(presets[0].tokens("light"), [("a", "x"), ("b-c", "y")]);
        assert_eq!(presets[0].value.get("u"), Some(&Js::Null));
        assert_eq!(presets[1].id, "quoted-id");
        let json = serde_json::to_string(&presets[0].value).unwrap();
        assert!(json.starts_with(r#"{"label":"Back ticks","styles":{"light":{"a":"x","b-c":"y"},"dark":{}},"n":-1.5,"list":[1,2],"u":null}"#), "{json}");
    }

    #[test]
    fn escapes_read_as_javascript_reads_them() {
        let text = r#"export const defaultPresets = { a: { label: "\x41\u0042\u{43}\ud83d\ude00\b\f\v\ud800x" } };"#;
        let presets = parse(text).unwrap();
        assert_eq!(presets[0].label(), "ABC\u{1f600}\u{8}\u{c}\u{b}\u{fffd}x");
        // Control characters round-trip through JSON's `\u00XX` (a fuzzer found this).
        let json = serde_json::to_string(&presets[0].value).unwrap();
        let again = parse(&format!("export const defaultPresets = {{ a: {json} }};")).unwrap();
        assert_eq!(again, presets);
        assert!(parse(r#"export const defaultPresets = { a: { label: "\u12" } };"#).is_err());
    }

    #[test]
    fn anything_else_is_an_error_with_its_line() {
        let bad = [
            (
                "export const defaultPresets = { a: { b: someCall() } };",
                "line 1",
            ),
            (
                "export const defaultPresets = {\n a: { label: \"open \n",
                "line 2",
            ),
            ("export const defaultPresets = { a: `${x}` };", "template"),
            ("export const defaultPresets = { a: 1 };", "not an object"),
            ("const nothing = {};", "no `export const defaultPresets"),
        ];
        for (text, says) in bad {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        let deep = format!(
            "export const defaultPresets = {}{}",
            "{ a: ".repeat(100),
            "}".repeat(100)
        );
        assert!(
            parse(&deep)
                .unwrap_err()
                .to_string()
                .contains("nested too deeply")
        );
    }
}
