//! Vue and React Native on their recorded content, tool by tool, through the CLI's domain
//! commands (the daemon's domain answers, which `shadcache mcp`'s tools forward to): a whole
//! `warm` and its API calls first, then components and demos byte for byte, a demo that is a
//! folder of variants, folder and single-file blocks, metadata, the listings, the directory
//! structure, and names that do not exist or do not map to one file.

use std::path::{Path, PathBuf};

use serde_json::Value;
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::FakeOrigin;

use crate::harness::TestDaemon;
use crate::runner::tests;

tests![
    vue_is_served_from_its_registry_and_its_demo_folder,
    react_native_is_served_with_variant_demos_and_file_blocks,
];

fn daemon_for(origin: &FakeOrigin) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.github_section()
    ))
}

/// Runs a domain command for `fw`; its stdout, or the failure with stderr.
fn run(d: &TestDaemon, fw: &str, args: &[&str]) -> Result<Vec<u8>, (Option<i32>, String)> {
    let mut all = args.to_vec();
    all.extend(["-f", fw]);
    let out = d.cli(&all, None);
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

fn ok(d: &TestDaemon, fw: &str, args: &[&str]) -> Vec<u8> {
    run(d, fw, args).unwrap_or_else(|e| panic!("{fw} {args:?}: {e:?}"))
}

fn json(d: &TestDaemon, fw: &str, args: &[&str]) -> Value {
    serde_json::from_slice(&ok(d, fw, args)).unwrap()
}

/// Exit 1 with a message that contains `says`.
fn not_found(d: &TestDaemon, fw: &str, args: &[&str], says: &str) {
    match run(d, fw, args) {
        Err((Some(1), stderr)) => assert!(stderr.contains(says), "{args:?}: {stderr}"),
        other => panic!("{fw} {args:?}: expected not found, got {other:?}"),
    }
}

fn raw(repo_branch: &str) -> PathBuf {
    fixtures()
        .join("raw.githubusercontent.com")
        .join(repo_branch)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Warms the registry on a fresh daemon: the API calls are the discovery of its roots.
fn warm(d: &TestDaemon, fw: &str, origin: &FakeOrigin, api_calls: u64) {
    let out = d.cli(&["warm", "--framework", fw], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Files the fixtures do not record are 404s, so some keys stay missing: that is the
    // recording's extent, not a failure of the warm.
    assert!(
        stdout.contains(&format!("; {api_calls} API calls")),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(origin.totals().1, api_calls, "{:?}", origin.requests());
}

/// A block's files, as `block NAME` answers them (upstream's shape: a map by path).
fn block_files(block: &Value) -> Vec<(String, String)> {
    block["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, file)| (path.clone(), file["content"].as_str().unwrap().to_owned()))
        .collect()
}

async fn vue_is_served_from_its_registry_and_its_demo_folder() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let d = daemon_for(&origin);
    // Two roots (the registry and the demos), two API calls each.
    warm(&d, "vue", &origin, 4);

    let repo = raw("unovue/shadcn-vue/dev/apps/v4");
    for (name, pascal) in [
        ("accordion", "Accordion"),
        ("badge", "Badge"),
        ("button", "Button"),
        ("card", "Card"),
        ("dialog", "Dialog"),
    ] {
        let source = ok(&d, "vue", &["component", name]);
        let file = repo.join(format!("registry/new-york-v4/ui/{name}/{pascal}.vue"));
        assert_eq!(source, read(&file), "component {name}");
        let demo = ok(&d, "vue", &["demo", name]);
        let file = repo.join(format!("components/demo/{pascal}Demo.vue"));
        assert_eq!(demo, read(&file), "demo {name}");
    }
    let components = json(&d, "vue", &["components"]);
    let names: Vec<&str> = components["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names.len(), 60, "{names:?}");
    for name in ["chart", "input-otp", "button", "form"] {
        assert!(names.contains(&name), "{name} is not listed");
    }

    // Metadata from the registry index Vue publishes in React's shape.
    let meta = json(&d, "vue", &["metadata", "button"]);
    assert_eq!(meta["name"], "button", "{meta}");

    let block = json(&d, "vue", &["block", "login-01"]);
    let files = block_files(&block);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["components/LoginForm.vue", "page.vue"], "{block}");
    for (path, content) in &files {
        let file = repo.join("registry/new-york-v4/blocks/login-01").join(path);
        assert_eq!(content.as_bytes(), read(&file), "{path}");
    }
    let blocks = json(&d, "vue", &["blocks"]);
    assert!(blocks["totalBlocks"].as_u64().unwrap() >= 30, "{blocks}");
    assert!(blocks["categories"]["login"].is_array(), "{blocks}");

    let structure = String::from_utf8(ok(&d, "vue", &["structure"])).unwrap();
    assert!(structure.contains("\"ui\""), "{structure}");

    not_found(&d, "vue", &["component", "buton"], "did you mean `button`?");
    // A folder of parts with no file of its own: said so, with what it holds.
    not_found(
        &d,
        "vue",
        &["component", "chart"],
        "has no single source file upstream (no Chart.vue); its folder holds ChartContainer.vue",
    );
    // Everything above came from the warm's listings: no API call since.
    assert_eq!(origin.totals().1, 4, "{:?}", origin.requests());
}

async fn react_native_is_served_with_variant_demos_and_file_blocks() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let d = daemon_for(&origin);
    warm(&d, "react-native", &origin, 2);

    let src = raw("founded-labs/react-native-reusables/main/packages/registry/src");
    for name in ["accordion", "badge", "button", "card", "dialog"] {
        let source = ok(&d, "react-native", &["component", name]);
        let file = src.join(format!("nativewind/components/ui/{name}.tsx"));
        assert_eq!(source, read(&file), "component {name}");
    }
    for name in ["accordion", "badge", "card", "tabs"] {
        let demo = ok(&d, "react-native", &["demo", name]);
        assert_eq!(
            demo,
            read(&src.join(format!("examples/{name}.tsx"))),
            "{name}"
        );
    }
    // A demo that is a folder: every variant, each under its path, in path order.
    let demo = String::from_utf8(ok(&d, "react-native", &["demo", "button"])).unwrap();
    let mut variants: Vec<PathBuf> = std::fs::read_dir(src.join("examples/button"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    variants.sort();
    assert_eq!(variants.len(), 10);
    let mut at = 0;
    for file in &variants {
        let name = file.file_name().unwrap().to_string_lossy();
        let header = format!("// packages/registry/src/examples/button/{name}\n");
        let found = demo[at..]
            .find(&header)
            .unwrap_or_else(|| panic!("{name} missing or out of order in:\n{demo}"));
        let start = at + found + header.len();
        let content = String::from_utf8(read(file)).unwrap();
        assert!(demo[start..].starts_with(&content), "{name}");
        at = start + content.len();
    }

    let components = json(&d, "react-native", &["components"]);
    assert_eq!(components["total"], 32, "{components}");

    // A folder block and a single-file block.
    let clerk = json(&d, "react-native", &["block", "clerk"]);
    let files = block_files(&clerk);
    assert_eq!(files.len(), 7, "{clerk}");
    for (path, content) in &files {
        assert_eq!(
            content.as_bytes(),
            read(&src.join("blocks/clerk").join(path))
        );
    }
    let sign_in = json(&d, "react-native", &["block", "sign-in-form"]);
    let files = block_files(&sign_in);
    assert_eq!(files.len(), 1, "{sign_in}");
    assert_eq!(files[0].0, "sign-in-form.tsx");
    assert_eq!(
        files[0].1.as_bytes(),
        read(&src.join("blocks/sign-in-form.tsx"))
    );
    let blocks = json(&d, "react-native", &["blocks"]);
    let listed = blocks.to_string();
    for name in ["clerk", "sign-in-form", "user-menu"] {
        assert!(listed.contains(name), "{name} not in {blocks}");
    }
    assert!(!listed.contains("\"index\""), "{blocks}");

    not_found(
        &d,
        "react-native",
        &["component", "buton"],
        "did you mean `button`?",
    );
    not_found(
        &d,
        "react-native",
        &["demo", "accordian"],
        "did you mean `accordion`?",
    );
    not_found(
        &d,
        "react-native",
        &["metadata", "button"],
        "publishes no registry index",
    );
    assert_eq!(origin.totals().1, 2, "{:?}", origin.requests());
}
