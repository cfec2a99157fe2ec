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
    /// The registry's base directory in the repository.
    pub registry: &'static str,
    pub component: Template,
    pub demo: Template,
    /// The directory holding one folder per block.
    pub blocks: Template,
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
        component: Template("{registry}/ui/{name}.tsx"),
        demo: Template("{registry}/examples/{name}-demo.tsx"),
        blocks: Template("{registry}/blocks"),
        ui_index: Some(Template("{registry}/ui/_registry.ts")),
        blocks_index: Some(Template("{registry}/blocks/_registry.ts")),
    },
    Framework {
        id: "react-base",
        owner: "shadcn-ui",
        repo: "ui",
        branch: "main",
        registry: "apps/v4/registry/bases/base",
        component: Template("{registry}/ui/{name}.tsx"),
        demo: Template("{registry}/examples/{name}-example.tsx"),
        blocks: Template("{registry}/blocks"),
        ui_index: Some(Template("{registry}/ui/_registry.ts")),
        blocks_index: Some(Template("{registry}/blocks/_registry.ts")),
    },
    Framework {
        id: "svelte",
        owner: "huntabyte",
        repo: "shadcn-svelte",
        branch: "main",
        registry: "docs/src/lib/registry",
        component: Template("{registry}/ui/{name}/{name}.svelte"),
        demo: Template("{registry}/examples/{name}-demo.svelte"),
        blocks: Template("{registry}/blocks"),
        // `docs/registry.json` was deleted upstream in 2026-03; there is no index to read.
        ui_index: None,
        blocks_index: None,
    },
    Framework {
        id: "vue",
        owner: "unovue",
        repo: "shadcn-vue",
        branch: "dev",
        registry: "apps/v4/registry/new-york-v4",
        component: Template("{registry}/ui/{name}/{Pascal}.vue"),
        demo: Template("apps/v4/components/{Pascal}Demo.vue"),
        blocks: Template("{registry}/blocks"),
        ui_index: None,
        blocks_index: None,
    },
    // Upstream moved its components into `nativewind/` and `uniwind/` in 2026-03. No fixture
    // covers it: the layout below is resolved against the live tree, and a miss says so.
    Framework {
        id: "react-native",
        owner: "founded-labs",
        repo: "react-native-reusables",
        branch: "main",
        registry: "packages/registry/src/nativewind",
        component: Template("{registry}/components/ui/{name}.tsx"),
        demo: Template("{registry}/components/demos/{name}-demo.tsx"),
        blocks: Template("{registry}/blocks"),
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
            (Some(name), Some(p)) if pascal(&name) != p => None,
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

/// `AlertDialog` → `alert-dialog`.
pub fn kebab(pascal: &str) -> String {
    let mut out = String::with_capacity(pascal.len() + 4);
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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
            vue.name_of(vue.demo, "apps/v4/components/AlertDialogDemo.vue")
                .as_deref(),
            Some("alert-dialog")
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
    }
}
