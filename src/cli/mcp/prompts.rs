//! Upstream's five prompts, under its names and with its arguments (only the first of each
//! required), so a client that shows prompts as commands keeps them. The texts are written for
//! shadcache: each points the model at the tools this server answers from the cache.

use rmcp::ErrorData as McpError;
use rmcp::model::{
    GetPromptResult, JsonObject, ListPromptsResult, Prompt, PromptArgument, PromptMessage, Role,
};

struct Definition {
    name: &'static str,
    description: &'static str,
    /// Name and description; the first is required.
    arguments: &'static [(&'static str, &'static str)],
}

const PROMPTS: [Definition; 5] = [
    Definition {
        name: "build-shadcn-page",
        description: "Generate a complete shadcn/ui page using v4 components and blocks",
        arguments: &[
            (
                "pageType",
                "Type of page to build (dashboard, login, calendar, sidebar, products, custom)",
            ),
            (
                "features",
                "Specific features or components needed (comma-separated)",
            ),
            (
                "layout",
                "Layout preference (sidebar, header, full-width, centered)",
            ),
            (
                "style",
                "Design style (minimal, modern, enterprise, creative)",
            ),
        ],
    },
    Definition {
        name: "create-dashboard",
        description: "Create a comprehensive dashboard using shadcn/ui v4 blocks and components",
        arguments: &[
            (
                "dashboardType",
                "Type of dashboard (analytics, admin, user, project, sales)",
            ),
            (
                "widgets",
                "Dashboard widgets needed (charts, tables, cards, metrics)",
            ),
            (
                "navigation",
                "Navigation style (sidebar, top-nav, breadcrumbs)",
            ),
        ],
    },
    Definition {
        name: "create-auth-flow",
        description: "Generate authentication pages using shadcn/ui v4 login blocks",
        arguments: &[
            (
                "authType",
                "Authentication type (login, register, forgot-password, two-factor)",
            ),
            ("providers", "Auth providers (email, google, github, apple)"),
            (
                "features",
                "Additional features (remember-me, social-login, validation)",
            ),
        ],
    },
    Definition {
        name: "optimize-shadcn-component",
        description: "Optimize or enhance existing shadcn/ui components with best practices",
        arguments: &[
            ("component", "Component name to optimize"),
            (
                "optimization",
                "Type of optimization (performance, accessibility, responsive, animations)",
            ),
            ("useCase", "Specific use case or context for the component"),
        ],
    },
    Definition {
        name: "create-data-table",
        description: "Create advanced data tables with shadcn/ui components",
        arguments: &[
            (
                "dataType",
                "Type of data to display (users, products, orders, analytics)",
            ),
            (
                "features",
                "Table features (sorting, filtering, pagination, search, selection)",
            ),
            ("actions", "Row actions (edit, delete, view, custom)"),
        ],
    },
];

pub fn list() -> ListPromptsResult {
    let prompts = PROMPTS
        .iter()
        .map(|p| {
            let arguments = p
                .arguments
                .iter()
                .enumerate()
                .map(|(i, (name, description))| {
                    let mut argument = PromptArgument::new(*name).with_description(*description);
                    // Upstream marks the first required and leaves the key out of the others.
                    if i == 0 {
                        argument = argument.with_required(true);
                    }
                    argument
                })
                .collect();
            Prompt::new(p.name, Some(p.description), Some(arguments))
        })
        .collect();
    ListPromptsResult::with_all_items(prompts)
}

/// The prompt's text for `framework` (`react`, `vue`, ...), from the arguments given.
pub fn get(
    name: &str,
    arguments: Option<&JsonObject>,
    framework: &str,
) -> Result<GetPromptResult, McpError> {
    let definition = PROMPTS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| McpError::invalid_params(format!("Prompt not found: {name}"), None))?;
    let arg = |key: &str| {
        arguments
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (first, _) = definition.arguments[0];
    let subject = arg(first).ok_or_else(|| {
        McpError::invalid_params(format!("prompt {name} needs the argument `{first}`"), None)
    })?;
    let or = |key: &str, default: &str| arg(key).unwrap_or_else(|| default.to_owned());
    let text = match name {
        "build-shadcn-page" => page(
            framework,
            &subject,
            &or("features", "what this page type usually has"),
            &or("layout", "sidebar"),
            &or("style", "modern"),
        ),
        "create-dashboard" => dashboard(
            framework,
            &subject,
            &or("widgets", "charts, tables, cards"),
            &or("navigation", "sidebar"),
        ),
        "create-auth-flow" => auth(
            framework,
            &subject,
            &or("providers", "email"),
            &or("features", "validation"),
        ),
        "optimize-shadcn-component" => optimize(
            framework,
            &subject,
            &or("optimization", "performance"),
            &or("useCase", "general use"),
        ),
        _ => data_table(
            framework,
            &subject,
            &or("features", "sorting, filtering, pagination"),
            &or("actions", "edit, delete"),
        ),
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        text,
    )]))
}

fn native_note(framework: &str) -> &'static str {
    if framework == "react-native" {
        "\nThis is React Native (react-native-reusables): style with NativeWind classes, use \
         React Native primitives (View, Text, Pressable) rather than DOM elements, and keep \
         touch targets large enough to tap.\n"
    } else {
        ""
    }
}

fn page(framework: &str, page: &str, features: &str, layout: &str, style: &str) -> String {
    format!(
        "Build a complete {page} page with shadcn/ui for {framework}.\n\n\
         Requirements: features: {features}; layout: {layout}; style: {style}.\n\n\
         Work from the real registry, through this server's tools (answered from a local \
         cache, so calling them is cheap):\n\
         1. `list_blocks` to see which blocks exist for this kind of page, then `get_block` \
         for the closest one: start from its files rather than from scratch.\n\
         2. `list_components`, then `get_component` for each component the page needs and \
         `get_component_demo` to see how it is meant to be used.\n\
         3. For colours and fonts, `list_themes` and `apply_theme` (with `dryRun` first).\n\n\
         Write typed, accessible, responsive code, import the components from where the \
         project keeps them, and say which components to add with the shadcn CLI.\n{}",
        native_note(framework)
    )
}

fn dashboard(framework: &str, kind: &str, widgets: &str, navigation: &str) -> String {
    format!(
        "Create a {kind} dashboard with shadcn/ui for {framework}.\n\n\
         Widgets: {widgets}. Navigation: {navigation}.\n\n\
         1. `list_blocks` with category `dashboard` (and `sidebar` for the navigation), then \
         `get_block` on the closest ones (`dashboard-01` has charts, cards and a data table).\n\
         2. `get_component` and `get_component_demo` for each component the widgets need \
         (card, chart, table, tabs, badge, ...).\n\
         3. Lay the widgets out in a responsive grid, fill them with realistic sample data \
         behind a typed data layer the user can replace, and keep every chart labelled for \
         screen readers.\n{}",
        native_note(framework)
    )
}

fn auth(framework: &str, kind: &str, providers: &str, features: &str) -> String {
    format!(
        "Create a {kind} flow with shadcn/ui for {framework}.\n\n\
         Providers: {providers}. Features: {features}.\n\n\
         1. `list_blocks` with category `login` (and `signup` where it exists), then \
         `get_block` on the closest (`login-01` to `login-05`).\n\
         2. `get_component` for the form parts it uses (input, label, button, card, field).\n\
         3. Validate on the client with clear messages beside each field, show loading and \
         error states, never log credentials, and keep the provider buttons in one place so \
         one can be added or removed.\n{}",
        native_note(framework)
    )
}

fn optimize(framework: &str, component: &str, optimization: &str, use_case: &str) -> String {
    format!(
        "Improve the shadcn/ui `{component}` component for {framework}: {optimization}, for \
         {use_case}.\n\n\
         1. `get_component` for the current upstream source, `get_component_demo` for its \
         intended use, and `get_component_metadata` for its dependencies.\n\
         2. Compare the project's copy with upstream's, keep what the project changed on \
         purpose, and make the {optimization} changes with the reason for each.\n\
         3. Keep its public props compatible, and say how to check the result (a test, a \
         screen reader pass, a profile) for each change.\n"
    )
}

fn data_table(framework: &str, data: &str, features: &str, actions: &str) -> String {
    format!(
        "Create a data table of {data} with shadcn/ui for {framework}.\n\n\
         Features: {features}. Row actions: {actions}.\n\n\
         1. `get_component` for `table` and `get_component_demo` for `table`; where the \
         framework has it, `get_block` for `dashboard-01`, whose data table shows sorting, \
         filtering, pagination and row selection together.\n\
         2. Type the columns, keep the data, sorting and filter state in one place, and put \
         each row action behind a menu with a confirmation for anything destructive.\n\
         3. Handle the empty, loading and error states, and keep the table usable by \
         keyboard.\n{}",
        native_note(framework)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arguments_are_upstreams() {
        let listed = serde_json::to_value(list()).unwrap();
        let prompts = listed["prompts"].as_array().unwrap();
        let names: Vec<&str> = prompts
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "build-shadcn-page",
                "create-dashboard",
                "create-auth-flow",
                "optimize-shadcn-component",
                "create-data-table"
            ]
        );
        let first = &prompts[0]["arguments"];
        assert_eq!(first[0]["name"], "pageType");
        assert_eq!(first[0]["required"], true);
        assert!(first[1].get("required").is_none(), "{first}");
    }

    #[test]
    fn texts_name_the_tools_and_need_the_first_argument() {
        let args: JsonObject = serde_json::from_str(r#"{"pageType": "login"}"#).unwrap();
        let prompt = get("build-shadcn-page", Some(&args), "vue").unwrap();
        let text = serde_json::to_string(&prompt).unwrap();
        assert!(
            text.contains("login page") && text.contains("for vue"),
            "{text}"
        );
        assert!(text.contains("get_block"), "{text}");
        assert!(get("build-shadcn-page", None, "vue").is_err());
        let err = get("nope", None, "vue").unwrap_err();
        assert!(err.message.contains("Prompt not found: nope"));
    }
}
