//! Upstream's resources and resource templates, under its URIs. The component list is the
//! cache's, for this server's framework (upstream's is a hard-coded 46 names); the theme
//! metadata is made from the tweakcn presets (upstream's reads a file its package does not
//! ship). The two templates give install commands for the framework's own CLI.

use rmcp::ErrorData as McpError;
use rmcp::model::{ListResourceTemplatesResult, ListResourcesResult, Resource, ResourceTemplate};
use serde_json::{Map, Value, json};

use crate::themes::Preset;

pub const COMPONENTS: &str = "resource:get_components";
pub const THEME_METADATA: &str = "resource:get_theme_metadata";
const INSTALL_SCRIPT: &str = "resource-template:get_install_script_for_component";
const INSTALLATION_GUIDE: &str = "resource-template:get_installation_guide";

pub fn list() -> ListResourcesResult {
    ListResourcesResult::with_all_items(vec![
        Resource::new(COMPONENTS, "get_components")
            .with_description(
                "List of available shadcn/ui components that can be used in the project",
            )
            .with_mime_type("application/json"),
        Resource::new(THEME_METADATA, "get_theme_metadata")
            .with_description("Returns metadata about the currently configured theme")
            .with_mime_type("application/json"),
    ])
}

pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(
            format!("{INSTALL_SCRIPT}?packageManager={{packageManager}}&component={{component}}"),
            "get_install_script_for_component",
        )
        .with_description(
            "Generate installation script for a specific shadcn/ui component based on package manager",
        )
        .with_mime_type("text/plain"),
        ResourceTemplate::new(
            format!("{INSTALLATION_GUIDE}?buildTool={{buildTool}}&packageManager={{packageManager}}"),
            "get_installation_guide",
        )
        .with_description(
            "Get the installation guide for shadcn/ui based on build tool and package manager",
        )
        .with_mime_type("text/plain"),
    ])
}

/// The theme metadata: each preset's name, date and primary colours, in source order.
pub fn theme_metadata(presets: &[Preset]) -> String {
    let mut themes = Map::new();
    for preset in presets {
        let colour = |mode: &str| {
            preset
                .tokens(mode)
                .into_iter()
                .find(|(k, _)| *k == "primary")
                .map(|(_, v)| v.to_owned())
        };
        let mut theme = Map::new();
        theme.insert("name".into(), json!(preset.label()));
        if let Some(date) = preset.created_at() {
            theme.insert("createdAt".into(), json!(date));
        }
        theme.insert("primaryColor".into(), json!(colour("light")));
        theme.insert("darkPrimaryColor".into(), json!(colour("dark")));
        themes.insert(preset.id.clone(), Value::Object(theme));
    }
    let metadata = json!({
        "themes": themes,
        "total_themes": presets.len(),
        "source": "https://github.com/jnsahaj/tweakcn/blob/main/utils/theme-presets.ts",
    });
    serde_json::to_string_pretty(&metadata).expect("JSON")
}

/// A template's answer for `uri`, or `None` when `uri` is not one of the templates.
pub fn template(uri: &str, framework: &str) -> Option<Result<String, McpError>> {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| {
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|v| !v.is_empty())
    };
    let missing =
        |name: &str| McpError::invalid_params(format!("{uri}: missing the {name} parameter"), None);
    match base {
        INSTALL_SCRIPT => Some((|| {
            let pm = package_manager(
                &param("packageManager").ok_or_else(|| missing("packageManager"))?,
            )?;
            let component = param("component").ok_or_else(|| missing("component"))?;
            if !component
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(McpError::invalid_params(
                    format!("`{component}` is not a component name"),
                    None,
                ));
            }
            Ok(format!(
                "{} add {component} --yes --overwrite",
                cli(framework, pm)
            ))
        })()),
        INSTALLATION_GUIDE => Some((|| {
            let tool = param("buildTool").ok_or_else(|| missing("buildTool"))?;
            let pm = package_manager(
                &param("packageManager").ok_or_else(|| missing("packageManager"))?,
            )?;
            guide(framework, &tool.to_lowercase(), pm)
        })()),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum PackageManager {
    Npm,
    Pnpm,
    Yarn,
    Bun,
}

fn package_manager(name: &str) -> Result<PackageManager, McpError> {
    Ok(match name.to_lowercase().as_str() {
        "npm" => PackageManager::Npm,
        "pnpm" => PackageManager::Pnpm,
        "yarn" => PackageManager::Yarn,
        "bun" => PackageManager::Bun,
        other => {
            return Err(McpError::invalid_params(
                format!("packageManager `{other}`: use npm, pnpm, yarn or bun"),
                None,
            ));
        }
    })
}

impl PackageManager {
    /// Runs a package's binary without installing it.
    fn exec(self) -> &'static str {
        match self {
            PackageManager::Npm => "npx",
            PackageManager::Pnpm => "pnpm dlx",
            PackageManager::Yarn => "yarn dlx",
            PackageManager::Bun => "bunx --bun",
        }
    }

    /// `npm create vite@latest`, `pnpm create vite@latest`, ...
    fn create(self, what: &str) -> String {
        let tool = match self {
            PackageManager::Npm => "npm",
            PackageManager::Pnpm => "pnpm",
            PackageManager::Yarn => "yarn",
            PackageManager::Bun => "bun",
        };
        format!("{tool} create {what}")
    }

    fn add(self, packages: &str) -> String {
        match self {
            PackageManager::Npm => format!("npm install {packages}"),
            PackageManager::Pnpm => format!("pnpm add {packages}"),
            PackageManager::Yarn => format!("yarn add {packages}"),
            PackageManager::Bun => format!("bun add {packages}"),
        }
    }
}

/// The framework's own CLI, run through the package manager.
fn cli(framework: &str, pm: PackageManager) -> String {
    let package = match framework {
        "svelte" => "shadcn-svelte@latest",
        "vue" => "shadcn-vue@latest",
        "react-native" => "@react-native-reusables/cli@latest",
        _ => "shadcn@latest",
    };
    format!("{} {package}", pm.exec())
}

fn guide(framework: &str, tool: &str, pm: PackageManager) -> Result<String, McpError> {
    let cli = cli(framework, pm);
    let (title, create, setup): (&str, String, Vec<String>) = match (framework, tool) {
        ("react" | "react-base" | "react:base", "next") => (
            "a Next.js project",
            pm.create("next-app@latest my-app"),
            vec![],
        ),
        ("react" | "react-base" | "react:base", "vite") => (
            "a Vite project (React, Tailwind CSS v4)",
            pm.create("vite@latest my-app -- --template react-ts"),
            vec![pm.add("tailwindcss @tailwindcss/vite")],
        ),
        ("react" | "react-base" | "react:base", "remix" | "react-router") => (
            "a React Router (Remix) project",
            pm.create("react-router@latest my-app"),
            vec![],
        ),
        ("svelte", "vite" | "sveltekit") => (
            "a SvelteKit project",
            format!("{} sv@latest create my-app", pm.exec()),
            vec![format!("{} sv@latest add tailwindcss", pm.exec())],
        ),
        ("vue", "vite") => (
            "a Vue project with Vite (Tailwind CSS v4)",
            pm.create("vite@latest my-app -- --template vue-ts"),
            vec![pm.add("tailwindcss @tailwindcss/vite")],
        ),
        ("vue", "nuxt") => (
            "a Nuxt project",
            format!("{} nuxi@latest init my-app", pm.exec()),
            vec![format!("{} nuxi@latest module add shadcn-nuxt", pm.exec())],
        ),
        ("react-native", "expo") => (
            "an Expo project (NativeWind)",
            format!("{} create-expo-app@latest my-app", pm.exec()),
            vec![],
        ),
        _ => {
            let tools = match framework {
                "svelte" => "vite",
                "vue" => "vite, nuxt",
                "react-native" => "expo",
                _ => "next, vite, remix",
            };
            return Err(McpError::invalid_params(
                format!("buildTool `{tool}` for {framework}: use one of {tools}"),
                None,
            ));
        }
    };
    let mut steps = vec![
        format!("# Installing shadcn/ui for {framework} in {title}"),
        String::new(),
        "Create the project, if you have none yet:".to_owned(),
        create,
        "cd my-app".to_owned(),
    ];
    if !setup.is_empty() {
        steps.push(String::new());
        steps.push("Add Tailwind CSS:".to_owned());
        steps.extend(setup);
    }
    steps.extend([
        String::new(),
        "Set up shadcn/ui (it asks for the style, the base colour and where components go):"
            .to_owned(),
        format!("{cli} init"),
        String::new(),
        "Then add components as you need them:".to_owned(),
        format!("{cli} add button"),
    ]);
    Ok(steps.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_scripts_use_each_frameworks_cli() {
        let script = |fw: &str, uri: &str| template(uri, fw).unwrap().unwrap();
        let uri = "resource-template:get_install_script_for_component?packageManager=pnpm&component=button";
        assert_eq!(
            script("react", uri),
            "pnpm dlx shadcn@latest add button --yes --overwrite"
        );
        assert_eq!(
            script("vue", uri),
            "pnpm dlx shadcn-vue@latest add button --yes --overwrite"
        );
        assert_eq!(
            script("react-native", uri.replace("pnpm", "bun").as_str()),
            "bunx --bun @react-native-reusables/cli@latest add button --yes --overwrite"
        );
        let bad =
            "resource-template:get_install_script_for_component?packageManager=npm&component=a%20b";
        assert!(template(bad, "react").unwrap().is_err());
        assert!(template("resource-template:nope", "react").is_none());
    }

    #[test]
    fn guides_fit_the_framework_and_refuse_a_build_tool_it_has_none_for() {
        let uri = |tool: &str| {
            format!("resource-template:get_installation_guide?buildTool={tool}&packageManager=npm")
        };
        let next = template(&uri("next"), "react").unwrap().unwrap();
        assert!(next.contains("npm create next-app@latest my-app"), "{next}");
        assert!(next.contains("npx shadcn@latest init"), "{next}");
        let svelte = template(&uri("vite"), "svelte").unwrap().unwrap();
        assert!(
            svelte.contains("npx shadcn-svelte@latest add button"),
            "{svelte}"
        );
        let err = template(&uri("webpack"), "svelte").unwrap().unwrap_err();
        assert!(err.message.contains("use one of vite"), "{}", err.message);
    }
}
