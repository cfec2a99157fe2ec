//! Reads the registry index files upstream keeps beside the components (`ui/_registry.ts`,
//! `blocks/_registry.ts`): TypeScript exporting an array of object literals. Only the literal
//! subset they use is understood (objects with bare or quoted keys, arrays, strings, numbers,
//! booleans, trailing commas, comments); anything else inside an item is skipped, and input
//! that is not that shape is an error with the offset, never a panic.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Array(Vec<Literal>),
    Object(BTreeMap<String, Literal>),
    /// An identifier or expression we do not evaluate.
    Other,
}

/// One registry item with the fields shadcache serves.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RegistryItem {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub dependencies: Vec<String>,
    #[serde(rename = "registryDependencies")]
    pub registry_dependencies: Vec<String>,
    pub files: Vec<String>,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry file unreadable at byte {offset}: {reason}")]
pub struct ParseError {
    pub offset: usize,
    pub reason: String,
}

/// Items of the first exported array in the file.
pub fn parse_items(source: &str) -> Result<Vec<RegistryItem>, ParseError> {
    let start = source.find("= [").ok_or(ParseError {
        offset: 0,
        reason: "no exported array (`= [`)".into(),
    })?;
    let mut parser = Parser {
        text: source.as_bytes(),
        at: start + 2,
        depth: 0,
    };
    let Literal::Array(values) = parser.value()? else {
        return Err(parser.error("expected an array"));
    };
    Ok(values.iter().filter_map(item).collect())
}

fn strings(value: Option<&Literal>) -> Vec<String> {
    match value {
        Some(Literal::Array(values)) => values
            .iter()
            .filter_map(|v| match v {
                Literal::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn item(value: &Literal) -> Option<RegistryItem> {
    let Literal::Object(fields) = value else {
        return None;
    };
    let text = |key: &str| match fields.get(key) {
        Some(Literal::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let files = match fields.get("files") {
        Some(Literal::Array(files)) => files
            .iter()
            .filter_map(|f| match f {
                Literal::Str(path) => Some(path.clone()),
                Literal::Object(file) => match file.get("path") {
                    Some(Literal::Str(path)) => Some(path.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(RegistryItem {
        name: text("name")?,
        kind: text("type").unwrap_or_default(),
        description: text("description"),
        dependencies: strings(fields.get("dependencies")),
        registry_dependencies: strings(fields.get("registryDependencies")),
        files,
        categories: strings(fields.get("categories")),
    })
}

/// Deeper nesting than any registry file has is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> ParseError {
        ParseError {
            offset: self.at,
            reason: reason.to_owned(),
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_blank();
        self.text.get(self.at).copied()
    }

    fn skip_blank(&mut self) {
        loop {
            while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
                self.at += 1;
            }
            let rest = &self.text[self.at.min(self.text.len())..];
            if rest.starts_with(b"//") {
                self.at += rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            } else if rest.starts_with(b"/*") {
                self.at += rest
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(rest.len(), |p| p + 2);
            } else {
                return;
            }
        }
    }

    fn value(&mut self) -> Result<Literal, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let value = match self.peek() {
            Some(b'[') => self.array(),
            Some(b'{') => self.object(),
            Some(b'"' | b'\'' | b'`') => self.string().map(Literal::Str),
            Some(c) if c == b'-' || c.is_ascii_digit() => Ok(self.number()),
            Some(_) => self.other(),
            None => Err(self.error("unexpected end of file")),
        };
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Literal, ParseError> {
        self.at += 1;
        let mut values = Vec::new();
        loop {
            match self.peek() {
                Some(b']') => {
                    self.at += 1;
                    return Ok(Literal::Array(values));
                }
                Some(b',') => self.at += 1,
                Some(_) => values.push(self.value()?),
                None => return Err(self.error("unterminated array")),
            }
        }
    }

    fn object(&mut self) -> Result<Literal, ParseError> {
        self.at += 1;
        let mut fields = BTreeMap::new();
        loop {
            match self.peek() {
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Literal::Object(fields));
                }
                Some(b',') => self.at += 1,
                Some(b'"' | b'\'') => {
                    let key = self.string()?;
                    self.colon()?;
                    fields.insert(key, self.value()?);
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                    let key = self.identifier();
                    self.colon()?;
                    fields.insert(key, self.value()?);
                }
                Some(b'.') => {
                    // `...spread`: skip the expression.
                    while self.text.get(self.at) == Some(&b'.') {
                        self.at += 1;
                    }
                    self.other()?;
                }
                Some(_) => return Err(self.error("expected a key")),
                None => return Err(self.error("unterminated object")),
            }
        }
    }

    fn colon(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some(b':') => {
                self.at += 1;
                Ok(())
            }
            _ => Err(self.error("expected `:`")),
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$'))
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let quote = self.text[self.at];
        self.at += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.text.get(self.at) {
            self.at += 1;
            match c {
                b'\\' => self.escape(&mut out),
                c if c == quote => return Ok(String::from_utf8_lossy(&out).into_owned()),
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    /// The character after a `\` in a string, as JavaScript reads it. Unknown escapes stand
    /// for the character itself; a malformed `\x` or `\u` keeps its letter.
    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(&escaped) = self.text.get(self.at) else {
            return;
        };
        self.at += 1;
        let c = match escaped {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'v' => '\u{b}',
            b'0' => '\0',
            // A line continuation: the newline is not part of the string.
            b'\n' => return,
            b'x' => self.hex(2).and_then(char::from_u32).unwrap_or('x'),
            b'u' => self.unicode().unwrap_or('u'),
            other => {
                out.push(other);
                return;
            }
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    /// `XXXX`, a surrogate pair `XXXX\uXXXX`, or `{X…}`, after a `\u`.
    fn unicode(&mut self) -> Option<char> {
        if self.text.get(self.at) == Some(&b'{') {
            let start = self.at;
            self.at += 1;
            let digits = self.text[self.at..].iter().position(|b| *b == b'}');
            let code = digits
                .filter(|n| (1..=6).contains(n))
                .and_then(|n| self.hex(n))
                .filter(|_| self.text.get(self.at) == Some(&b'}'));
            let Some(code) = code else {
                self.at = start;
                return None;
            };
            self.at += 1;
            return Some(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        let high = self.hex(4)?;
        if !(0xd800..0xdc00).contains(&high) {
            return Some(char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        let rest = &self.text[self.at..];
        if rest.starts_with(b"\\u") {
            self.at += 2;
            match self.hex(4) {
                Some(low @ 0xdc00..0xe000) => {
                    let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                    return char::from_u32(code);
                }
                Some(_) => self.at -= 6,
                None => self.at -= 2,
            }
        }
        Some(char::REPLACEMENT_CHARACTER)
    }

    /// Exactly `n` hex digits, consumed only when they are all there.
    fn hex(&mut self, n: usize) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + n)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += n;
        u32::from_str_radix(text, 16).ok()
    }

    fn number(&mut self) -> Literal {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'e' | b'E' | b'+'))
        {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at])
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(Literal::Other, Literal::Num)
    }

    /// Skips an expression we do not evaluate, up to the next `,` `}` or `]` at this level.
    fn other(&mut self) -> Result<Literal, ParseError> {
        let start = self.at;
        let word = self.identifier();
        match word.as_str() {
            "true" => return Ok(Literal::Bool(true)),
            "false" => return Ok(Literal::Bool(false)),
            _ => {}
        }
        let mut nesting = 0usize;
        while let Some(&c) = self.text.get(self.at) {
            match c {
                b'(' | b'[' | b'{' => nesting += 1,
                b')' | b']' | b'}' if nesting == 0 => break,
                b')' | b']' | b'}' => nesting -= 1,
                b',' if nesting == 0 => break,
                _ => {}
            }
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("unexpected character"));
        }
        Ok(Literal::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"import { type Registry } from "shadcn/schema"

// The UI items.
export const ui: Registry["items"] = [
  {
    name: "alert-dialog",
    type: "registry:ui",
    dependencies: ["radix-ui"],
    registryDependencies: ["button"],
    files: [
      {
        path: "ui/alert-dialog.tsx",
        type: "registry:ui",
      },
    ],
  },
  {
    name: "login-01",
    description: "A simple login form.",
    type: "registry:block",
    meta: { iframeHeight: 800, flag: true, fn: call(1, [2]) },
    files: ["blocks/login-01/page.tsx"],
    categories: ["authentication", "login"],
  },
]
"#;

    #[test]
    fn reads_items_with_their_dependencies_files_and_categories() {
        let items = parse_items(SAMPLE).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name, "alert-dialog");
        assert_eq!(items[0].dependencies, vec!["radix-ui"]);
        assert_eq!(items[0].registry_dependencies, vec!["button"]);
        assert_eq!(items[0].files, vec!["ui/alert-dialog.tsx"]);
        assert_eq!(
            items[1].description.as_deref(),
            Some("A simple login form.")
        );
        assert_eq!(items[1].categories, vec!["authentication", "login"]);
        assert_eq!(items[1].files, vec!["blocks/login-01/page.tsx"]);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "export const x = [",
            "export const x = [{ name: \"a\"",
            "export const x = [{ name \"a\" }]",
            "export const x = [\"unterminated]",
            "export const x = [)]",
            "export const x = [{ a: ) }]",
            &format!("export const x = {}", "[".repeat(500)),
        ] {
            assert!(parse_items(bad).is_err(), "{bad:?} parsed");
        }
        // Items without a name are skipped, not fatal.
        assert!(
            parse_items("export const x = [{ type: \"a\" }, 3]")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn string_escapes_read_as_javascript_reads_them() {
        // Found by the `registry_file` fuzz target: a name holding a NUL, written back as JSON
        // (`"\u0000"`), read as `u0000`. Only `\n` and `\t` were understood.
        let items = parse_items("= [{name:\"\0\"}]").unwrap();
        let json = serde_json::to_string(&items).unwrap();
        assert_eq!(parse_items(&format!("x = {json}")).unwrap(), items);
        let items = parse_items(
            r#"x = [{ name: "\u0000\x41\r\b\f\v\0\u{1F600}\uD83D\uDE00\uD83D\u00e9\q\u12\x4", type: 'a\
b' }]"#,
        )
        .unwrap();
        assert_eq!(
            items[0].name,
            "\0A\r\u{8}\u{c}\u{b}\0\u{1F600}\u{1F600}\u{FFFD}\u{e9}qu12x4"
        );
        assert_eq!(items[0].kind, "ab");
    }

    #[test]
    fn the_real_registry_files_parse() {
        let dir = crate::testkit::fixtures::dir();
        let base =
            dir.join("raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4");
        let ui =
            parse_items(&std::fs::read_to_string(base.join("ui/_registry.ts")).unwrap()).unwrap();
        let button = ui.iter().find(|i| i.name == "button").expect("button");
        assert_eq!(button.files, vec!["ui/button.tsx"]);
        assert!(ui.len() >= 50, "{} ui items", ui.len());
        let blocks =
            parse_items(&std::fs::read_to_string(base.join("blocks/_registry.ts")).unwrap())
                .unwrap();
        let login = blocks
            .iter()
            .find(|i| i.name == "login-01")
            .expect("login-01");
        assert_eq!(login.categories, vec!["authentication", "login"]);
        assert_eq!(
            login.registry_dependencies,
            vec!["button", "card", "input", "label", "field"]
        );
        assert_eq!(login.files.len(), 2);
    }
}
