//! tweakcn's `utils/theme-presets.ts`, read without running it: the object literal after
//! `export const defaultPresets ... =`, parsed as a small subset of JavaScript (objects,
//! arrays, strings in any of the three quotes, numbers, `true`/`false`/`null`/`undefined`,
//! bare or quoted keys, trailing commas, comments). Upstream evaluates the file; this parser
//! refuses anything outside that subset with the line it stopped at, so a changed file is a
//! clear error and the last good copy keeps serving.

use super::literal::{self, Js, ParseError};

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

/// Every preset in the file, in source order.
pub fn parse(text: &str) -> Result<Vec<Preset>, ParseError> {
    let start = find_presets(text).ok_or(ParseError::NoPresets)?;
    let value = literal::read(text.as_bytes(), start)?;
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
