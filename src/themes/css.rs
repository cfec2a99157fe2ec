//! A preset as CSS variables, as upstream's `apply_theme` writes it: the preset's own tokens
//! in source order, the ones it lacks filled in (upstream's defaults, in upstream's order),
//! every value through the colour conversion, then `:root { … }` and `.dark { … }`.

use super::color;
use super::literal::Js;
use super::preset::Preset;

/// Filled in, in this order, when a mode lacks them.
const FALLBACK: [(&str, &str); 13] = [
    ("background", "#ffffff"),
    ("foreground", "#111827"),
    ("card", "#ffffff"),
    ("card-foreground", "#111827"),
    ("border", "#e5e7eb"),
    ("input", "#f9fafb"),
    ("ring", "#eef2ff"),
    ("primary", "#3b82f6"),
    ("primary-foreground", "#ffffff"),
    ("radius", "0.375rem"),
    (
        "font-sans",
        "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto",
    ),
    ("font-serif", "Georgia, 'Times New Roman', Times, serif"),
    (
        "font-mono",
        "ui-monospace, SFMono-Regular, Menlo, Monaco, 'Roboto Mono'",
    ),
];

const SHADOW: [(&str, &str); 6] = [
    ("shadow-offset-x", "0px"),
    ("shadow-offset-y", "1px"),
    ("shadow-blur", "3px"),
    ("shadow-spread", "0px"),
    ("shadow-opacity", "0.08"),
    ("shadow-color", "0,0,0"),
];

/// One of a mode's variables. A string value goes through the colour conversion; anything
/// else is written as JavaScript prints it (`null`).
struct Token {
    key: String,
    value: String,
    string: bool,
}

/// One mode's variables, in order.
#[derive(Default)]
struct Mode(Vec<Token>);

impl Mode {
    fn of(styles: &Js, name: &str) -> Mode {
        let fields = styles.get(name).map(Js::fields).unwrap_or_default();
        Mode(
            fields
                .iter()
                .filter_map(|(key, value)| {
                    let printed = match value {
                        Js::Str(s) => s.clone(),
                        Js::Null => "null".to_owned(),
                        Js::Bool(b) => b.to_string(),
                        Js::Num(n) => n
                            .parse::<f64>()
                            .map_or_else(|_| n.clone(), |n| format!("{n}")),
                        Js::Array(_) | Js::Object(_) => return None,
                    };
                    Some(Token {
                        key: key.clone(),
                        value: printed,
                        string: matches!(value, Js::Str(_)),
                    })
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Adds `key` at the end unless the mode has it.
    fn ensure(&mut self, key: &str, value: &str) {
        if !self.0.iter().any(|t| t.key == key) {
            self.0.push(Token {
                key: key.to_owned(),
                value: value.to_owned(),
                string: true,
            });
        }
    }

    fn converted(self) -> Variables {
        self.0
            .into_iter()
            .map(|t| {
                let value = if t.string {
                    color::to_hsl(&t.value)
                } else {
                    t.value
                };
                (t.key, value)
            })
            .collect()
    }
}

/// A mode's variables as written: name (without `--`) and value, in order.
pub type Variables = Vec<(String, String)>;

/// The light and dark variables of a preset, converted.
pub fn theme_styles(preset: &Preset) -> (Variables, Variables) {
    let styles = preset.value.get("styles").unwrap_or(&preset.value);
    let mut light = Mode::of(styles, "light");
    let mut dark = Mode::of(styles, "dark");
    if dark.0.is_empty() {
        dark.ensure("background", light.get("background").unwrap_or("#0b1220"));
        dark.ensure("foreground", light.get("foreground").unwrap_or("#e6eef8"));
    }
    for (key, value) in FALLBACK {
        light.ensure(key, value);
        dark.ensure(key, value);
    }
    for i in 1..=5 {
        let key = format!("chart-{i}");
        // Upstream makes up a random colour here; every preset has its charts, and a
        // missing one takes the primary colour instead, the same on every call.
        let light_chart = light
            .get(&key)
            .or_else(|| light.get("primary"))
            .unwrap_or("#3b82f6")
            .to_owned();
        light.ensure(&key, &light_chart);
        let dark_chart = dark.get(&key).unwrap_or(&light_chart).to_owned();
        dark.ensure(&key, &dark_chart);
    }
    for (key, value) in SHADOW {
        light.ensure(key, value);
        dark.ensure(key, value);
    }
    (light.converted(), dark.converted())
}

/// `:root { … }` and `.dark { … }`, each variable on a line of its own.
pub fn css(preset: &Preset) -> String {
    let (light, dark) = theme_styles(preset);
    let lines = |tokens: &[(String, String)]| {
        tokens
            .iter()
            .map(|(k, v)| format!("  --{k}: {v};"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        ":root {{\n{}\n}}\n\n.dark {{\n{}\n}}",
        lines(&light),
        lines(&dark)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tailwind {
    V3,
    V4,
}

/// The Tailwind config upstream shows beside the CSS: a fixed one for v3, none for v4.
pub fn tailwind_config(version: Tailwind) -> Option<&'static str> {
    (version == Tailwind::V3).then_some(
        "/** @type {import('tailwindcss').Config} */\nmodule.exports = {\n  darkMode: ['class'],\n  theme: { extend: {} },\n}",
    )
}

/// What `apply_theme` with `dryRun` answers: the config (JSON-quoted, or `undefined`) and the
/// first 500 characters of the CSS.
pub fn preview(preset: &Preset, version: Tailwind) -> String {
    let config = match tailwind_config(version) {
        Some(config) => serde_json::to_string(config).expect("a string serialises"),
        None => "undefined".to_owned(),
    };
    let css = css(preset);
    // JavaScript counts UTF-16 units; the presets' CSS is ASCII.
    let head: String = css.chars().take(500).collect();
    format!("Theme Preview:\n\nTailwind Config:\n{config}\n\nCSS:\n{head}... (truncated)")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::themes::preset::parse;

    fn presets() -> Vec<Preset> {
        let path = crate::testkit::fixtures::dir()
            .join("raw.githubusercontent.com/jnsahaj/tweakcn/main/utils/theme-presets.ts");
        parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The text between `--- text (exact, between markers) ---` and `--- end ---` of the
    /// recorded call whose header line starts with `header`.
    pub(crate) fn upstream(header: &str) -> String {
        let path = crate::testkit::fixtures::dir().join("theme-tools-upstream-outputs.txt");
        let all = std::fs::read_to_string(path).unwrap();
        let at = all.find(header).unwrap_or_else(|| panic!("no {header}"));
        let rest = &all[at..];
        let start = rest
            .find("--- text (exact, between markers) ---\n")
            .unwrap()
            + "--- text (exact, between markers) ---\n".len();
        let end = rest[start..].find("\n--- end ---").unwrap();
        rest[start..start + end].to_owned()
    }

    #[test]
    fn previews_are_upstreams_byte_for_byte() {
        let presets = presets();
        let modern = presets.iter().find(|p| p.id == "modern-minimal").unwrap();
        assert_eq!(
            preview(modern, Tailwind::V3),
            upstream(r#"### tools/call apply_theme {"presetId":"modern-minimal","dryRun":true}"#)
        );
        let cyber = presets.iter().find(|p| p.id.contains("cyber")).unwrap();
        assert_eq!(
            preview(cyber, Tailwind::V4),
            upstream(
                r#"### tools/call apply_theme {"query":"cyber","dryRun":true,"tailwindVersion":"4"}"#
            )
        );
    }

    #[test]
    fn every_preset_converts_with_upstreams_tokens() {
        for preset in presets() {
            let (light, dark) = theme_styles(&preset);
            for tokens in [&light, &dark] {
                for key in ["background", "chart-5", "shadow-color", "font-mono"] {
                    assert!(tokens.iter().any(|(k, _)| k == key), "{}: {key}", preset.id);
                }
                let background = &tokens.iter().find(|(k, _)| k == "background").unwrap().1;
                assert!(background.ends_with('%'), "{}: {background}", preset.id);
            }
        }
    }
}
