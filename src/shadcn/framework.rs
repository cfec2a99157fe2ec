//! Every framework shadcache serves, as data: where its registry lives upstream and how a
//! name maps to files. The rest of the GitHub tier reads this table; nothing else branches on
//! the framework. Paths are resolved against the recursive tree listing, so a file that moved
//! upstream is a clear "not found", never a guessed URL fetched blindly.

/// A path template relative to the repository root. `{registry}` is the registry base path,
/// `{name}` the item name (`alert-dialog`), `{Pascal}` its PascalCase form (`AlertDialog`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framework {
    /// The `<fw>` segment of keys: `react`, `react-base`, `svelte`, `vue`, `react-native`.
    pub id: &'static str,
    pub owner: &'static str,
    pub repo: &'static str,
    pub branch: &'static str,
    /// The registry's base directory in the repository: `{registry}` in templates, and the
    /// directory structure that `tree:` keys describe.
    pub registry: &'static str,
    /// The directories listed (one recursive tree each, found through its parent's listing):
    /// the registry, and any other directory content lives in (Vue's demos).
    pub roots: &'static [&'static str],
    /// A component's source file.
    pub component: Template,
    /// Where components are folders (Vue): the listing names the folders, and a folder
    /// without the component's file is answered with what it holds, not a guessed URL.
    pub component_folder: Option<Template>,
    pub demo: Template,
    /// Where a demo may be a folder of variants instead of one file (React Native's button).
    pub demo_folder: Option<Template>,
    /// The directory holding one folder per block.
    pub blocks: Template,
    /// Where a block may also be one file beside the folders (React Native's sign-in-form).
    pub block_file: Option<Template>,
    /// Registry index files (dependencies, categories), when upstream has them.
    pub ui_index: Option<Template>,
    pub blocks_index: Option<Template>,
}

pub const FRAMEWORKS: &[Framework] = &[
    Framework {
        id: "react",
        owner: "shadcn-ui",
        repo: "ui",
        branch: "main",
        registry: "apps/v4/registry/new-york-v4",
        roots: &["apps/v4/registry/new-york-v4"],
        component: Template("{registry}/ui/{name}.tsx"),
        component_folder: None,
        demo: Template("{registry}/examples/{name}-demo.tsx"),
        demo_folder: None,
        blocks: Template("{registry}/blocks"),
        block_file: None,
        ui_index: Some(Template("{registry}/ui/_registry.ts")),
        blocks_index: Some(Template("{registry}/blocks/_registry.ts")),
    },
    Framework {
        id: "react-base",
        owner: "shadcn-ui",
        repo: "ui",
        branch: "main",
        registry: "apps/v4/registry/bases/base",
        roots: &["apps/v4/registry/bases/base"],
        component: Template("{registry}/ui/{name}.tsx"),
        component_folder: None,
        demo: Template("{registry}/examples/{name}-example.tsx"),
        demo_folder: None,
        blocks: Template("{registry}/blocks"),
        block_file: None,
        ui_index: Some(Template("{registry}/ui/_registry.ts")),
        blocks_index: Some(Template("{registry}/blocks/_registry.ts")),
    },
    Framework {
        id: "svelte",
        owner: "huntabyte",
        repo: "shadcn-svelte",
        branch: "main",
        registry: "docs/src/lib/registry",
        roots: &["docs/src/lib/registry"],
        component: Template("{registry}/ui/{name}/{name}.svelte"),
        component_folder: None,
        demo: Template("{registry}/examples/{name}-demo.svelte"),
        demo_folder: None,
        blocks: Template("{registry}/blocks"),
        block_file: None,
        // `docs/registry.json` was deleted upstream in 2026-03; there is no index to read.
        ui_index: None,
        blocks_index: None,
    },
    // Demos moved out of the registry to `apps/v4/components/demo` in 2025-11: a second root.
    // `InputOTP.vue` is matched to `input-otp` case-insensitively; `chart`, `form` and
    // `resizable` are folders of parts with no `{Pascal}.vue`.
    Framework {
        id: "vue",
        owner: "unovue",
        repo: "shadcn-vue",
        branch: "dev",
        registry: "apps/v4/registry/new-york-v4",
        roots: &["apps/v4/registry/new-york-v4", "apps/v4/components/demo"],
        component: Template("{registry}/ui/{name}/{Pascal}.vue"),
        component_folder: Some(Template("{registry}/ui/{name}")),
        demo: Template("apps/v4/components/demo/{Pascal}Demo.vue"),
        demo_folder: None,
        blocks: Template("{registry}/blocks"),
        block_file: None,
        ui_index: Some(Template("{registry}/ui/_registry.ts")),
        blocks_index: Some(Template("{registry}/blocks/_registry.ts")),
    },
    // Everything is under `packages/registry/src`: components in `nativewind/` (a `uniwind/`
    // twin beside it), demos in `examples/` (a file, or a folder of variants), blocks in
    // `blocks/` (single files, and folders such as `clerk/`). No registry index.
    Framework {
        id: "react-native",
        owner: "founded-labs",
        repo: "react-native-reusables",
        branch: "main",
        registry: "packages/registry/src",
        roots: &["packages/registry/src"],
        component: Template("{registry}/nativewind/components/ui/{name}.tsx"),
        component_folder: None,
        demo: Template("{registry}/examples/{name}.tsx"),
        demo_folder: Some(Template("{registry}/examples/{name}")),
        blocks: Template("{registry}/blocks"),
        block_file: Some(Template("{registry}/blocks/{name}.tsx")),
        ui_index: None,
        blocks_index: None,
    },
];

impl Framework {
    /// By key segment; `react:base` (as the CLI and MCP may spell it) means `react-base`.
    pub fn find(id: &str) -> Option<&'static Framework> {
        let id = if id == "react:base" { "react-base" } else { id };
        FRAMEWORKS.iter().find(|f| f.id == id)
    }

    pub fn ids() -> impl Iterator<Item = &'static str> {
        FRAMEWORKS.iter().map(|f| f.id)
    }

    /// The template with `{registry}` filled in.
    pub fn path(&self, template: Template) -> String {
        template.0.replace("{registry}", self.registry)
    }

    /// The file `template` names for item `name`.
    pub fn file(&self, template: Template, name: &str) -> String {
        self.path(template)
            .replace("{name}", name)
            .replace("{Pascal}", &pascal(name))
    }

    /// The item name a path stands for under `template`, if it is one.
    pub fn name_of(&self, template: Template, path: &str) -> Option<String> {
        let pattern = self.path(template);
        let pattern: Vec<&str> = pattern.split('/').collect();
        let parts: Vec<&str> = path.split('/').collect();
        if pattern.len() != parts.len() {
            return None;
        }
        let mut name: Option<String> = None;
        let mut pascal_seen: Option<String> = None;
        for (want, got) in pattern.iter().zip(&parts) {
            let Some(open) = want.find('{') else {
                if want != got {
                    return None;
                }
                continue;
            };
            let close = want.find('}')?;
            let (prefix, placeholder, suffix) =
                (&want[..open], &want[open + 1..close], &want[close + 1..]);
            let captured = got.strip_prefix(prefix)?.strip_suffix(suffix)?;
            if captured.is_empty() {
                return None;
            }
            match placeholder {
                "name" => match &name {
                    Some(seen) if seen != captured => return None,
                    _ => name = Some(captured.to_owned()),
                },
                "Pascal" => pascal_seen = Some(captured.to_owned()),
                _ => return None,
            }
        }
        match (name, pascal_seen) {
            // `InputOTP.vue` is `input-otp`: acronyms keep their capitals upstream.
            (Some(name), Some(p)) if !pascal(&name).eq_ignore_ascii_case(&p) => None,
            (Some(name), _) => Some(name),
            // Only a PascalCase part: the kebab-case name is derived from it.
            (None, Some(p)) => Some(kebab(&p)),
            (None, None) => None,
        }
    }
}

/// `alert-dialog` → `AlertDialog`.
pub fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `AlertDialog` → `alert-dialog`; an acronym stays one word (`InputOTP` → `input-otp`).
pub fn kebab(pascal: &str) -> String {
    let chars: Vec<char> = pascal.chars().collect();
    let mut out = String::with_capacity(pascal.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let previous = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let starts_word = previous.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
            if starts_word {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

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
    fn every_key_framework_is_in_the_table_once() {
        let ids: Vec<&str> = Framework::ids().collect();
        assert_eq!(
            ids,
            ["react", "react-base", "svelte", "vue", "react-native"]
        );
        assert_eq!(Framework::find("react:base").unwrap().id, "react-base");
        assert!(Framework::find("angular").is_none());
    }

    #[test]
    fn names_map_to_files_and_back() {
        let react = Framework::find("react").unwrap();
        let path = react.file(react.component, "alert-dialog");
        assert_eq!(path, "apps/v4/registry/new-york-v4/ui/alert-dialog.tsx");
        assert_eq!(
            react.name_of(react.component, &path).as_deref(),
            Some("alert-dialog")
        );
        assert_eq!(
            react.name_of(react.component, "apps/v4/registry/new-york-v4/ui/x/y.tsx"),
            None
        );
        assert_eq!(
            react.name_of(
                react.demo,
                "apps/v4/registry/new-york-v4/examples/card-demo.tsx"
            ),
            Some("card".into())
        );

        let vue = Framework::find("vue").unwrap();
        let path = vue.file(vue.component, "alert-dialog");
        assert_eq!(
            path,
            "apps/v4/registry/new-york-v4/ui/alert-dialog/AlertDialog.vue"
        );
        assert_eq!(
            vue.name_of(vue.component, &path).as_deref(),
            Some("alert-dialog")
        );
        // Other files in a component's folder are not the component.
        assert_eq!(
            vue.name_of(
                vue.component,
                "apps/v4/registry/new-york-v4/ui/accordion/AccordionContent.vue"
            ),
            None
        );
        assert_eq!(
            vue.name_of(vue.demo, "apps/v4/components/demo/AlertDialogDemo.vue")
                .as_deref(),
            Some("alert-dialog")
        );
        assert_eq!(
            vue.name_of(
                vue.component,
                "apps/v4/registry/new-york-v4/ui/input-otp/InputOTP.vue"
            )
            .as_deref(),
            Some("input-otp")
        );

        let svelte = Framework::find("svelte").unwrap();
        assert_eq!(
            svelte.name_of(
                svelte.component,
                "docs/src/lib/registry/ui/button/button.svelte"
            ),
            Some("button".into())
        );
        assert_eq!(
            svelte.name_of(svelte.component, "docs/src/lib/registry/ui/button/index.ts"),
            None
        );
    }

    #[test]
    fn case_conversions() {
        assert_eq!(pascal("alert-dialog"), "AlertDialog");
        assert_eq!(pascal("button"), "Button");
        assert_eq!(kebab("AlertDialog"), "alert-dialog");
        assert_eq!(kebab("InputOTP"), "input-otp");
        assert_eq!(kebab("OTPInput"), "otp-input");
        assert_eq!(kebab("Sidebar07"), "sidebar07");
    }

    #[test]
    fn every_root_is_listed_once_and_the_registry_is_one_of_them() {
        for fw in FRAMEWORKS {
            assert!(fw.roots.contains(&fw.registry), "{}", fw.id);
            for template in [
                Some(fw.component),
                Some(fw.demo),
                fw.block_file,
                fw.demo_folder,
            ]
            .into_iter()
            .flatten()
            {
                let path = fw.path(template);
                assert!(
                    fw.roots
                        .iter()
                        .any(|root| path.starts_with(&format!("{root}/"))),
                    "{}: {path} is under no root",
                    fw.id
                );
            }
        }
    }

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
