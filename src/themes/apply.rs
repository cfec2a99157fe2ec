//! Writing a theme into a project, as upstream's `apply_theme` does: the first global CSS file
//! that exists among the usual places (else `src/styles/globals.css`, created), a backup of it
//! beside it, then the CSS between `/* MCP-TWEAKCN-START */` and `/* MCP-TWEAKCN-END */`:
//! replaced where the markers are, appended where they are not. Unlike upstream, applying
//! again leaves the blank lines around the block as they are, so the file does not grow.

use std::path::{Path, PathBuf};

const START: &str = "/* MCP-TWEAKCN-START */";
const END: &str = "/* MCP-TWEAKCN-END */";

/// Where upstream looks, in order, under the project root.
const COMMON_PATHS: [&str; 7] = [
    "src/styles/globals.css",
    "src/styles/global.css",
    "app/globals.css",
    "src/global.css",
    "src/index.css",
    "src/styles.css",
    "globals.css",
];

/// The global CSS file of the project at `root`, or where one will be created.
pub fn target(root: &Path) -> PathBuf {
    COMMON_PATHS
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.exists())
        .unwrap_or_else(|| root.join("src/styles/globals.css"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: PathBuf,
    pub backup: PathBuf,
}

/// Writes `css` into `file` (see the module's comment); `now` names the backup.
pub fn write(file: &Path, css: &str, now: std::time::SystemTime) -> std::io::Result<Written> {
    if !file.exists() {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(file, "")?;
    }
    let backup = backup_path(file, now);
    std::fs::copy(file, &backup)?;
    let original = std::fs::read_to_string(file)?;
    let updated = with_block(&original, css);
    std::fs::write(file, updated)?;
    Ok(Written {
        file: file.to_owned(),
        backup,
    })
}

/// `<dir>/.mcp-backup-<name>.<ISO time with ':' and '.' as '-'>`, as upstream names it.
fn backup_path(file: &Path, now: std::time::SystemTime) -> PathBuf {
    let stamp = humantime::format_rfc3339_millis(now)
        .to_string()
        .replace([':', '.'], "-");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!(".mcp-backup-{name}.{stamp}"))
}

fn with_block(original: &str, css: &str) -> String {
    match (original.find(START), original.find(END)) {
        (Some(start), Some(end)) if end > start => format!(
            "{}{START}\n{css}\n{END}{}",
            &original[..start],
            &original[end + END.len()..]
        ),
        _ => format!("{original}\n\n{START}\n{css}\n{END}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_write_appends_as_upstream_and_the_next_replace_in_place() {
        let first = with_block("@import \"tailwindcss\";\n", ":root {}");
        assert_eq!(
            first,
            "@import \"tailwindcss\";\n\n\n/* MCP-TWEAKCN-START */\n:root {}\n/* MCP-TWEAKCN-END */\n"
        );
        let second = with_block(&first, ":root { --a: 1; }");
        assert_eq!(second, first.replace(":root {}", ":root { --a: 1; }"));
        assert_eq!(with_block(&second, ":root {}"), first);
        // A lone END before a START is not a block: append.
        let odd = format!("{END}\n{START}\n");
        assert!(with_block(&odd, "x").ends_with(&format!("{START}\nx\n{END}\n")));
    }

    #[test]
    fn the_target_is_the_first_common_path_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            target(dir.path()),
            dir.path().join("src/styles/globals.css")
        );
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/globals.css"), "").unwrap();
        std::fs::write(dir.path().join("globals.css"), "").unwrap();
        assert_eq!(target(dir.path()), dir.path().join("app/globals.css"));
    }

    #[test]
    fn backups_are_named_as_upstream_names_them() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_134_560_991);
        let path = backup_path(Path::new("/p/app/globals.css"), at);
        assert_eq!(
            path,
            Path::new("/p/app/.mcp-backup-globals.css.2026-12-01T14-16-00-991Z")
        );
    }
}
