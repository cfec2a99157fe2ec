//! The shadcn domain in one place: the frameworks and where their registries live
//! (`framework.rs`), the keys of registry content (`key.rs`), the domain API that MCP clients and
//! the CLI ask (`answer.rs`, shaped by `shape.rs`), and warming whole registries (`warm.rs`).
//! Below the router and the origins in the layering: the origins read the framework table and
//! parse keys here; nothing here knows GitHub's HTTP or the socket.

mod answer;
pub mod framework;
mod key;
mod shape;
pub mod warm;

pub use answer::answer;
pub use framework::{FRAMEWORKS, Framework};
pub use key::ShadcnKey;
#[cfg(any(fuzzing, test))]
pub(crate) use shape::{blocks_by_category, components_used, metadata, structure};

/// A framework name as users write it: `react`, `react:base` (or `react-base`), `svelte`,
/// `vue`, `react-native`.
pub fn framework(name: &str) -> Result<&'static Framework, String> {
    let id = match name.trim().to_ascii_lowercase().as_str() {
        "react:base" | "react-base" | "base" => "react-base".to_owned(),
        "react:radix" | "radix" => "react".to_owned(),
        other => other.to_owned(),
    };
    Framework::find(&id).ok_or_else(|| {
        format!("unknown framework `{name}`: use react, react:base, svelte, vue or react-native")
    })
}

/// The framework upstream's `--framework` and `--ui-library` flags name.
pub fn framework_from_flags(name: &str, ui_library: Option<&str>) -> Result<String, String> {
    let base = name.trim().to_ascii_lowercase();
    match (
        base.as_str(),
        ui_library.map(|u| u.trim().to_ascii_lowercase()),
    ) {
        ("react", Some(lib)) if lib == "base" => Ok("react:base".into()),
        ("react", Some(lib)) if lib == "radix" => Ok("react".into()),
        ("react", Some(lib)) => Err(format!("unknown UI library `{lib}`: use radix or base")),
        (_, _) => framework(&base).map(|f| f.id.to_owned()),
    }
}

/// The frameworks `github.warm` names: comma-separated, or `all`.
pub fn frameworks(list: &str) -> Result<Vec<&'static Framework>, String> {
    if list.trim() == "all" {
        return Ok(FRAMEWORKS.iter().collect());
    }
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(framework)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_names_and_flags() {
        assert_eq!(framework("react:base").unwrap().id, "react-base");
        assert_eq!(framework("Svelte").unwrap().id, "svelte");
        assert!(
            framework("angular")
                .unwrap_err()
                .contains("unknown framework")
        );
        assert_eq!(
            framework_from_flags("react", Some("base")).unwrap(),
            "react:base"
        );
        assert_eq!(framework_from_flags("vue", None).unwrap(), "vue");
        assert!(framework_from_flags("react", Some("mui")).is_err());
    }

    #[test]
    fn warm_lists_name_frameworks_or_all() {
        assert_eq!(frameworks("all").unwrap().len(), FRAMEWORKS.len());
        let two = frameworks(" react , vue ").unwrap();
        assert_eq!(
            two.iter().map(|f| f.id).collect::<Vec<_>>(),
            ["react", "vue"]
        );
        assert!(frameworks("react,angular").is_err());
    }
}
