//! What `list_themes`, `get_theme` and `apply_theme` answer, with upstream's texts: the MCP
//! tools and the CLI's `themes`/`theme` commands both call these. `Err` is a tool error.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::css::{self, Tailwind};
use super::preset::Preset;

#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    label: &'a str,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a str>,
}

/// `[{id, label, createdAt?}]` in source order; a query keeps those whose id or label
/// contains it, ignoring case.
pub fn list(presets: &[Preset], query: Option<&str>) -> String {
    let query = query.unwrap_or_default().to_lowercase();
    let listed: Vec<Listed> = presets
        .iter()
        .filter(|p| {
            query.is_empty()
                || p.id.to_lowercase().contains(&query)
                || p.label().to_lowercase().contains(&query)
        })
        .map(|p| Listed {
            id: &p.id,
            label: p.label(),
            created_at: p.created_at(),
        })
        .collect();
    serde_json::to_string_pretty(&listed).expect("a listing serialises")
}

/// By id, exactly; else the first whose label or id equals `name` ignoring case.
pub fn find<'a>(presets: &'a [Preset], name: &str) -> Option<&'a Preset> {
    presets.iter().find(|p| p.id == name).or_else(|| {
        presets
            .iter()
            .find(|p| p.label().eq_ignore_ascii_case(name) || p.id.eq_ignore_ascii_case(name))
    })
}

/// The id of the preset `name` names (see [`find`]).
pub fn find_id(presets: &[Preset], name: &str) -> Option<String> {
    find(presets, name).map(|p| p.id.clone())
}

/// The preset's own object, keys in source order.
pub fn get(presets: &[Preset], name: &str) -> Result<String, String> {
    let preset = find(presets, name).ok_or_else(|| format!("Theme not found: {name}"))?;
    Ok(serde_json::to_string_pretty(&preset.value).expect("a preset serialises"))
}

/// `apply_theme`'s arguments.
#[derive(Debug, Clone, Default)]
pub struct Apply {
    pub query: Option<String>,
    pub preset_id: Option<String>,
    pub tailwind: Option<Tailwind>,
    pub dry_run: bool,
    /// Where to write; upstream's lookup under `root` when absent.
    pub css: Option<PathBuf>,
}

/// Upstream's choice: `presetId` exactly, else the first preset whose label, description or
/// id contains the query, ignoring case.
fn choose<'a>(presets: &'a [Preset], args: &Apply) -> Result<&'a Preset, String> {
    let id = match (args.preset_id.as_deref(), args.query.as_deref()) {
        (Some(id), _) if !id.is_empty() => id.to_owned(),
        (_, Some(query)) if !query.is_empty() => {
            let query = query.to_lowercase();
            let description = |p: &Preset| {
                p.value
                    .get("description")
                    .and_then(super::literal::Js::as_str)
                    .unwrap_or(p.label())
                    .to_lowercase()
            };
            presets
                .iter()
                .find(|p| {
                    p.label().to_lowercase().contains(&query)
                        || description(p).contains(&query)
                        || p.id.to_lowercase().contains(&query)
                })
                .map(|p| p.id.clone())
                .ok_or("Failed to apply theme: No matching presets")?
        }
        _ => return Err("Failed to apply theme: No presetId or query provided".into()),
    };
    presets
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| format!("Failed to apply theme: Preset not found: {id}"))
}

/// Previews or writes the chosen preset into the project at `root`.
pub fn apply(presets: &[Preset], args: &Apply, root: &Path) -> Result<String, String> {
    let preset = choose(presets, args)?;
    let tailwind = args.tailwind.unwrap_or(Tailwind::V3);
    if args.dry_run {
        return Ok(css::preview(preset, tailwind));
    }
    let file = args
        .css
        .clone()
        .unwrap_or_else(|| super::apply::target(root));
    let file = if file.is_absolute() {
        file
    } else {
        root.join(file)
    };
    let written = super::apply::write(&file, &css::css(preset), std::time::SystemTime::now())
        .map_err(|e| format!("Error applying theme: {}: {e}", file.display()))?;
    Ok(format!(
        "Successfully applied theme to {} (Backup created at {})",
        written.file.display(),
        written.backup.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::themes::css::tests::upstream;
    use crate::themes::preset::parse;

    fn presets() -> Vec<Preset> {
        let path = crate::testkit::fixtures::dir()
            .join("raw.githubusercontent.com/jnsahaj/tweakcn/main/utils/theme-presets.ts");
        parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn list_and_get_answer_as_upstream_does() {
        let presets = presets();
        let cases: [(&str, Result<String, String>); 8] = [
            ("### tools/call list_themes {}", Ok(list(&presets, None))),
            (
                r#"### tools/call list_themes {"query":"NIGHT"}"#,
                Ok(list(&presets, Some("NIGHT"))),
            ),
            (
                r#"### tools/call list_themes {"query":"zzz-none"}"#,
                Ok(list(&presets, Some("zzz-none"))),
            ),
            (
                r#"### tools/call get_theme {"themeName":"modern-minimal"}"#,
                get(&presets, "modern-minimal"),
            ),
            (
                r#"### tools/call get_theme {"themeName":"cosmic night"}"#,
                get(&presets, "cosmic night"),
            ),
            (
                r#"### tools/call get_theme {"themeName":"MONO"}"#,
                get(&presets, "MONO"),
            ),
            (
                r#"### tools/call get_theme {"themeName":"no-such-theme"}"#,
                get(&presets, "no-such-theme"),
            ),
            (
                r#"### tools/call apply_theme {"presetId":"no-such"}"#,
                apply(
                    &presets,
                    &Apply {
                        preset_id: Some("no-such".into()),
                        ..Apply::default()
                    },
                    Path::new("/nonexistent"),
                ),
            ),
        ];
        for (header, ours) in cases {
            let ours = ours.unwrap_or_else(|e| e);
            assert_eq!(ours, upstream(header), "{header}");
        }
        let none = apply(&presets, &Apply::default(), Path::new("/x")).unwrap_err();
        assert_eq!(none, upstream("### tools/call apply_theme {}   "));
        let query = Apply {
            query: Some("zzz-none".into()),
            ..Apply::default()
        };
        assert_eq!(
            apply(&presets, &query, Path::new("/x")).unwrap_err(),
            upstream(r#"### tools/call apply_theme {"query":"zzz-none"}"#)
        );
    }

    #[test]
    fn apply_writes_the_block_once_and_keeps_a_backup() {
        let presets = presets();
        let project = tempfile::tempdir().unwrap();
        let app = project.path().join("app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(
            app.join("globals.css"),
            "@import \"tailwindcss\";\n\nbody { margin: 0; }\n",
        )
        .unwrap();
        let args = Apply {
            preset_id: Some("mono".into()),
            ..Apply::default()
        };
        let said = apply(&presets, &args, project.path()).unwrap();
        assert!(said.starts_with(&format!(
            "Successfully applied theme to {}/app/globals.css (Backup created at {}/app/.mcp-backup-globals.css.",
            project.path().display(),
            project.path().display()
        )), "{said}");
        let written = std::fs::read_to_string(app.join("globals.css")).unwrap();
        // Upstream's file after its first write, byte for byte.
        let recorded = crate::testkit::fixtures::dir().join("theme-tools-upstream-outputs.txt");
        let recorded = std::fs::read_to_string(recorded).unwrap();
        let marker = "--- first write: app/globals.css after the call (exact, 2872 bytes) ---\n";
        let at = recorded.find(marker).unwrap() + marker.len();
        assert_eq!(written.len(), 2872);
        assert_eq!(&recorded[at..at + 2872], written);
        // Again: still one block, the same bytes.
        apply(&presets, &args, project.path()).unwrap();
        let again = std::fs::read_to_string(app.join("globals.css")).unwrap();
        assert_eq!(again, written);
        assert_eq!(again.matches("MCP-TWEAKCN-START").count(), 1);
        let backups = std::fs::read_dir(&app)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".mcp-backup-globals.css.")
            })
            .count();
        assert!(backups >= 1);
    }
}
