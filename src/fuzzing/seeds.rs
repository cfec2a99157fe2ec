//! Writes the seed corpus in `fuzz/corpus/` from real data: encoded requests, DESIGN.md's
//! keys, README's config examples and the recorded GitHub content. Run by hand when a message
//! or a fixture changes: `cargo test --lib fuzzing::seeds -- --ignored`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::protocol::{MAGIC, MigrateAction, PROTOCOL_VERSION, SetEntry};
use crate::settings;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn requests() -> Vec<Request> {
    let key = |k: &str| k.to_owned();
    let shadcn = |fw: Option<&str>, query| Request::Shadcn {
        framework: fw.map(str::to_owned),
        query,
    };
    vec![
        Request::Ping,
        Request::Get {
            key: key("component:react:button"),
        },
        Request::Set {
            key: key("demo:react-base:accordion"),
            value: Bytes::from_static(b"export default function AccordionDemo() {}\n"),
            ttl: Some(Duration::from_secs(90)),
        },
        Request::Set {
            key: key("user:notes"),
            value: Bytes::from_static(b"\x00\xff binary"),
            ttl: None,
        },
        Request::Delete {
            key: key("block:react:dashboard-01"),
        },
        Request::Has {
            key: key("list:svelte:components"),
        },
        Request::Keys {
            pattern: Some("component:*:b?tton".into()),
        },
        Request::Keys { pattern: None },
        Request::MGet {
            keys: vec![key("component:react:card"), key("tree:vue"), key("a/b")],
        },
        Request::MSet {
            entries: vec![
                SetEntry {
                    key: key("a:1"),
                    value: Bytes::from_static(b"one"),
                    ttl: Some(Duration::from_millis(1500)),
                },
                SetEntry {
                    key: key("a:2"),
                    value: Bytes::new(),
                    ttl: None,
                },
            ],
        },
        Request::Clear { shared: false },
        Request::Size,
        Request::Metadata {
            key: key("metadata:github_rate_limit"),
        },
        Request::RefreshTtl {
            key: key("component:react:button"),
            ttl: Some(Duration::ZERO),
        },
        Request::Stats,
        Request::Migrate(MigrateAction::Status),
        Request::Migrate(MigrateAction::Up(None)),
        Request::Migrate(MigrateAction::Down(1)),
        Request::Maintenance,
        shadcn(
            None,
            Query::Component {
                name: "button".into(),
            },
        ),
        shadcn(
            Some("react:base"),
            Query::Demo {
                name: "accordion".into(),
            },
        ),
        shadcn(
            Some("svelte"),
            Query::Metadata {
                name: "card".into(),
            },
        ),
        shadcn(
            Some("react"),
            Query::Block {
                name: "login-01".into(),
                include_components: true,
            },
        ),
        shadcn(Some("vue"), Query::ListComponents),
        shadcn(
            None,
            Query::ListBlocks {
                category: Some("login".into()),
            },
        ),
        shadcn(
            Some("react-native"),
            Query::Structure {
                path: Some("apps/v4/registry/new-york-v4/ui".into()),
                owner: Some("shadcn-ui".into()),
                repo: Some("ui".into()),
                branch: Some("main".into()),
            },
        ),
    ]
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

/// With `selector` first: the framework byte the GitHub targets read.
fn selected(selector: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![selector];
    out.extend_from_slice(data);
    out
}

/// A recursive tree listing cut down to the entries whose path holds one of `keep`.
fn trimmed_tree(json: &[u8], keep: &[&str]) -> Vec<u8> {
    let mut listing: serde_json::Value = serde_json::from_slice(json).unwrap();
    listing["tree"]
        .as_array_mut()
        .unwrap()
        .retain(|n| keep.iter().any(|k| n["path"].as_str().unwrap().contains(k)));
    serde_json::to_vec(&listing).unwrap()
}

#[test]
#[ignore]
fn write_seed_corpus() {
    let all = requests();
    let mut pipelined = vec![13u8];
    for (i, request) in all.iter().enumerate() {
        let frame = codec::encode(request, MAX_FRAME).unwrap();
        write("frames", &format!("request-{i:02}"), &selected(64, &frame));
        pipelined.extend_from_slice(&frame);
    }
    write("frames", "pipelined", &pipelined);
    let mut oversized = vec![3u8];
    oversized.extend_from_slice(&(MAX_FRAME as u32 + 1).to_be_bytes());
    write("frames", "oversized", &oversized);

    let hello = |magic, protocol, client: &str| {
        let frame = codec::encode(
            &Hello {
                magic,
                protocol,
                client: client.into(),
            },
            MAX_FRAME,
        )
        .unwrap();
        frame[4..].to_vec()
    };
    write(
        "hello",
        "current",
        &hello(MAGIC, PROTOCOL_VERSION, "shadcache 0.1.0 (cli)"),
    );
    write("hello", "old-version", &hello(MAGIC, 1, "shadcache mcp"));
    write("hello", "bad-magic", &hello(*b"HTTP", PROTOCOL_VERSION, ""));

    for (i, raw) in [
        "component:react:button",
        "demo:react-base:accordion",
        "metadata:svelte:card",
        "block:react:dashboard-01",
        "list:vue:components",
        "list:react:blocks",
        "tree:react-native",
        "metadata:github_rate_limit",
        "a:b:c:d",
        "v1.2:x_y",
        "component:react:../x",
        "component:react:a/b?c#d%2e",
        "a::b",
        "react:base\0button",
        "svelte\0login-01",
        "vue\0alert-dialog",
    ]
    .iter()
    .enumerate()
    {
        write("key", &format!("key-{i:02}"), raw.as_bytes());
    }

    write(
        "config",
        "readme-example",
        b"[daemon]\nlog_level = \"info\"\n\n[l1]\nmax_bytes = \"128MiB\"\n\n[ttl]\nlist = \"2h\"\n",
    );
    write(
        "config",
        "readme-postgres",
        b"[l2]\nbackend = \"postgres\"\nurl = \"postgres://shadcache@db.internal:5432/shadcache\"\n\0SHADCACHE_L2_PASSWORD=pg-secret\n",
    );
    write(
        "config",
        "env-overrides",
        b"socket = \"/run/x.sock\"\n[github]\ntoken = \"from-file\"\n\0SHADCACHE_TTL_LIST=1h\nSHADCACHE_WRITE_BEHIND_CAPACITY=77\nSHADCACHE_STRATEGY_DEFAULT=write-behind\nGITHUB_TOKEN=gt\nSHADCACHE_FIXTURES=/x\n",
    );
    let defaults = settings::load_text(Path::new("/x"), "", [("HOME".into(), "/h".into())])
        .unwrap()
        .config;
    write(
        "config",
        "every-key",
        toml::to_string(&defaults).unwrap().as_bytes(),
    );

    let fixtures = crate::testkit::fixtures::dir();
    let api = fixtures.join("github-api/repos");
    let read = |path: PathBuf| std::fs::read(&path).unwrap();
    let react_tree = read(
        api.join("shadcn-ui/ui/git/trees/caca6af200dbc6cd12edcea4b6c0668c496cafa5.recursive.json"),
    );
    write("tree", "react", &selected(0, &react_tree));
    let base_tree = read(
        api.join("shadcn-ui/ui/git/trees/16300b518b0aa826b410019b898fa4108672951e.recursive.json"),
    );
    let keep = ["button", "accordion", "login-01", "blocks", "_registry"];
    write(
        "tree",
        "react-base-trimmed",
        &selected(1, &trimmed_tree(&base_tree, &keep)),
    );
    let svelte_tree = read(api.join(
        "huntabyte/shadcn-svelte/git/trees/a4d7bbd9ec965d7b6c3f4e65a67a8313d7184b0a.recursive.json",
    ));
    write(
        "tree",
        "svelte-trimmed",
        &selected(2, &trimmed_tree(&svelte_tree, &keep)),
    );

    write(
        "contents",
        "react",
        &selected(
            0,
            &read(api.join("shadcn-ui/ui/contents/apps/v4/registry.json")),
        ),
    );
    write(
        "contents",
        "react-base",
        &selected(
            1,
            &read(api.join("shadcn-ui/ui/contents/apps/v4/registry/bases.json")),
        ),
    );
    write(
        "contents",
        "svelte",
        &selected(
            2,
            &read(api.join("huntabyte/shadcn-svelte/contents/docs/src/lib.json")),
        ),
    );

    let raw = fixtures.join("raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry");
    let ui_index = read(raw.join("new-york-v4/ui/_registry.ts"));
    let blocks_index = read(raw.join("new-york-v4/blocks/_registry.ts"));
    write("registry_file", "new-york-v4-ui", &ui_index);
    write("registry_file", "new-york-v4-blocks", &blocks_index);
    write(
        "registry_file",
        "base-ui",
        &read(raw.join("bases/base/ui/_registry.ts")),
    );

    let limited: serde_json::Value = serde_json::from_slice(&read(
        fixtures.join("github-api/errors/rate-limit-403.json"),
    ))
    .unwrap();
    let mut lines = String::new();
    for (name, value) in limited["headers"].as_object().unwrap() {
        lines += &format!("{name}: {}\n", value.as_str().unwrap());
    }
    write("quota", "rate-limit-403", lines.as_bytes());
    write(
        "quota",
        "ok-200",
        b"X-RateLimit-Limit: 5000\nX-RateLimit-Remaining: 4987\nX-RateLimit-Used: 13\nX-RateLimit-Reset: 1767225600\nX-RateLimit-Resource: core\nnow: 1767222000000\n",
    );
    write(
        "quota",
        "retry-after",
        b"retry-after: 30\nx-ratelimit-remaining: 0\n",
    );

    let react = pick(0);
    let tree = tree::RegistryTree::parse(react, &react_tree).unwrap();
    let structure = values::from_tree(&ShadcnKey::Tree(react), &tree);
    let domain = |selector: u8, path: &str, category: &str, json: &[u8]| {
        let mut out = vec![selector, 0];
        out.extend_from_slice(path.as_bytes());
        out.push(0);
        out.extend_from_slice(category.as_bytes());
        out.push(0);
        out.extend_from_slice(json);
        out
    };
    let ui = format!("{}/ui", react.registry);
    write("domain_values", "structure", &domain(0, "", "", &structure));
    write(
        "domain_values",
        "structure-ui",
        &domain(0, &ui, "", &structure),
    );
    let blocks = values::from_index(&ShadcnKey::ListBlocks(react), None, &blocks_index)
        .unwrap()
        .unwrap();
    write(
        "domain_values",
        "blocks-login",
        &domain(0, "", "login", &blocks),
    );
    let block_dir = raw.join("new-york-v4/blocks/login-01");
    let block = values::block(
        "login-01",
        &[
            ("page.tsx".into(), read(block_dir.join("page.tsx")).into()),
            (
                "components/login-form.tsx".into(),
                read(block_dir.join("components/login-form.tsx")).into(),
            ),
        ],
    );
    write(
        "domain_values",
        "block-login-01",
        &domain(0, "", "", &block),
    );

    let presets = read(
        fixtures.join("raw.githubusercontent.com/jnsahaj/tweakcn/main/utils/theme-presets.ts"),
    );
    write("theme_presets", "tweakcn-9fb9c4c7", &presets);
    write(
        "theme_presets",
        "every-syntax",
        b"// comment\nexport const defaultPresets: Record<string, ThemePreset> = {\n  /* c */ a: { label: `b`, styles: { light: { x: 'oklch(0.5 0.1 30)', \"y-z\": \"rgb(1, 2, 3)\", }, dark: {}, }, n: -1.5e2, l: [true, null, undefined,], },\n  'q': { label: \"hsl(1, 2%, 3%)\" },\n};\n",
    );
}
