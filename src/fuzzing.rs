//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz), one per parser that reads bytes
//! from outside the daemon: client frames, keys, the config file and environment, and what
//! GitHub serves. Each feeds its input through the parser the way the daemon does and asserts
//! what must hold of any input it accepts, so a failed property is a crash libFuzzer keeps.
//!
//! The tests below replay the committed seed corpus and kept regressions on stable `cargo
//! test`, so every input that ever mattered is checked on each run, without nightly.

use std::path::Path;

use bytes::{Bytes, BytesMut};

use crate::config;
use crate::github::plan::{self, Plan};
use crate::github::quota::{Headers, Priority, Quota, QuotaState};
use crate::github::{registry_file, tree, values};
use crate::key::{Key, MAX_KEY_LEN, MAX_SEGMENT_LEN};
use crate::protocol::codec;
use crate::protocol::{Hello, Query, Request};
use crate::settings;
use crate::shadcn;
use crate::shadcn::ShadcnKey;
use crate::shadcn::{FRAMEWORKS, Framework};

/// A frame limit small enough that a fuzzed length is often over it.
const MAX_FRAME: usize = 1 << 20;

/// A byte stream from a client: the first byte sets how it arrives in pieces, the rest is what
/// it sends. Frames are cut as the connection cuts them, then decoded as requests.
pub fn frames(data: &[u8]) {
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let whole = cut(stream, stream.len().max(1));
    let pieces = cut(stream, usize::from(piece % 64) + 1);
    assert_eq!(whole, pieces, "frames depend on how the bytes arrived");
    for payload in &whole.0 {
        if let Ok(request) = codec::decode::<Request>(payload) {
            round_trips(&request);
            dispatch(request);
        }
    }
}

/// The frames cut from `stream` fed `piece` bytes at a time, and how it ended: the bytes left
/// over, or the error that closes the connection.
fn cut(stream: &[u8], piece: usize) -> (Vec<Bytes>, Result<usize, String>) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in stream.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match codec::take_frame(&mut buf, MAX_FRAME) {
                Ok(Some(payload)) => {
                    assert!(payload.len() <= MAX_FRAME);
                    frames.push(payload);
                }
                Ok(None) => break,
                Err(e) => return (frames, Err(e.to_string())),
            }
        }
    }
    (frames, Ok(buf.len()))
}

/// A decoded message encodes, decodes to itself, and encodes to the same bytes again.
fn round_trips<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let frame = codec::encode(value, usize::MAX).expect("a decoded message encodes");
    let back: T = codec::decode(&frame[4..]).expect("an encoded message decodes");
    assert_eq!(&back, value);
    assert_eq!(codec::encode(&back, usize::MAX).unwrap(), frame);
}

/// What the dispatcher does with a request before any actor sees it.
fn dispatch(request: Request) {
    match request {
        Request::Shadcn { framework, query } => {
            let Ok(fw) = shadcn::framework(framework.as_deref().unwrap_or("react")) else {
                return;
            };
            let (kind, name) = match &query {
                Query::Component { name } => ("component", name),
                Query::Demo { name } => ("demo", name),
                Query::Metadata { name } => ("metadata", name),
                Query::Block { name, .. } => ("block", name),
                _ => return,
            };
            item_key(kind, fw, name);
        }
        Request::Migrate(_) | Request::Maintenance => {}
        request => {
            let _ = crate::server::command(request);
        }
    }
}

/// The first frame of a connection, the handshake.
pub fn hello(data: &[u8]) {
    if let Ok(hello) = codec::decode::<Hello>(data) {
        round_trips(&hello);
    }
}

/// A key as a client sends it; with a NUL, `framework\0name` for a domain request's name.
pub fn key(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let expected = follows_grammar(raw);
    match Key::parse(raw) {
        Ok(key) => {
            assert!(expected, "{raw:?} accepted against the grammar");
            assert_eq!(key.as_str(), raw);
            assert_eq!(key.to_string(), raw);
            assert_eq!(Some(key.kind()), raw.split(':').next());
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(serde_json::from_str::<Key>(&json).unwrap(), key);
        }
        Err(e) => {
            assert!(!expected, "{raw:?} refused: {e}");
            // Errors go to logs and back to clients: bounded, and no control characters.
            let text = e.to_string();
            assert!(text.len() <= MAX_KEY_LEN + 300, "{} bytes", text.len());
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
    }
    if let Some((framework, name)) = raw.split_once('\0')
        && let Ok(fw) = shadcn::framework(framework)
    {
        for kind in ["component", "demo", "metadata", "block"] {
            item_key(kind, fw, name);
        }
    }
}

/// DESIGN.md's key grammar, written out again independently of `key.rs`.
fn follows_grammar(raw: &str) -> bool {
    let segments: Vec<&str> = raw.split(':').collect();
    raw.len() <= MAX_KEY_LEN
        && (2..=4).contains(&segments.len())
        && segments.iter().all(|s| {
            (1..=MAX_SEGMENT_LEN).contains(&s.len())
                && *s != "."
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

/// A name from a client makes the key of exactly that item, or none: never another kind's
/// key, a key with more segments, or a key with no upstream.
fn item_key(kind: &str, fw: &'static Framework, name: &str) {
    let item = match kind {
        "component" => ShadcnKey::Component(fw, name.to_owned()),
        "demo" => ShadcnKey::Demo(fw, name.to_owned()),
        "metadata" => ShadcnKey::Metadata(fw, name.to_owned()),
        _ => ShadcnKey::Block(fw, name.to_owned()),
    };
    let Ok(key) = item.key() else {
        return;
    };
    let segments: Vec<&str> = key.segments().collect();
    assert_eq!(segments, [kind, fw.id, name], "{key}");
    assert_eq!(ShadcnKey::parse(&key), Ok(Some(item)));
}

/// The config file's text, then optionally a NUL and `NAME=value` lines of environment.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file_text, env_text) = text.split_once('\0').unwrap_or((text, ""));
    let home = || ("HOME".to_owned(), "/home/fuzz".to_owned());
    let mut env = vec![home()];
    env.extend(
        env_text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let file = Path::new("/fuzz/config.toml");
    let loaded = match settings::load_text(file, file_text, env) {
        Ok(loaded) => loaded,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let shown = config::render(&loaded);
    if loaded.config.github.token().is_some() {
        let token = shown.lines().find(|l| l.starts_with("token = ")).unwrap();
        assert!(token.starts_with("token = \"<redacted>\""), "{token}");
    }
    // The effective config, written back as a file, loads to the same config.
    let written = toml::to_string(&loaded.config).expect("a loaded config serialises");
    let again =
        settings::load_text(file, &written, [home()]).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(again.config, loaded.config, "{written}");
}

fn pick(selector: u8) -> &'static Framework {
    &FRAMEWORKS[usize::from(selector) % FRAMEWORKS.len()]
}

/// A recursive git-trees listing of a registry; the first byte picks the framework.
pub fn tree(data: &[u8]) {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    let fw = pick(selector);
    let Ok(tree) = tree::RegistryTree::parse(fw, json) else {
        return;
    };
    // Every name the listing offers is served by the plan for its key.
    let items: [(_, _, shadcn::Named); 2] = [
        (tree.components(), fw.component, ShadcnKey::Component),
        (tree.demos(), fw.demo, ShadcnKey::Demo),
    ];
    for (names, template, item) in items {
        for name in names {
            let Ok(key) = item(fw, name.clone()).key() else {
                continue;
            };
            let upstream = ShadcnKey::parse(&key).unwrap().unwrap();
            match plan::plan(&upstream, &tree) {
                Plan::File(file) => {
                    assert!(tree.blob(&file.path).is_some(), "{key}: {}", file.path);
                    assert_eq!(fw.name_of(template, &file.path), Some(name));
                }
                other => panic!("{key} is listed but planned as {other:?}"),
            }
        }
    }
    for name in tree.blocks() {
        let Ok(key) = ShadcnKey::Block(fw, name.clone()).key() else {
            continue;
        };
        let upstream = ShadcnKey::parse(&key).unwrap().unwrap();
        if let Plan::Files { files, .. } = plan::plan(&upstream, &tree) {
            let root = format!("{}/{name}/", fw.path(fw.blocks));
            for (relative, file) in files {
                assert_eq!(file.path, format!("{root}{relative}"));
                assert!(tree.blob(&file.path).is_some());
            }
        }
    }
    for entry in tree.structure() {
        if !entry.ends_with('/') {
            let path = format!("{}/{entry}", fw.registry);
            assert!(tree.blob(&path).is_some(), "{entry}");
        }
    }
    for upstream in [
        ShadcnKey::ListComponents(fw),
        ShadcnKey::ListBlocks(fw),
        ShadcnKey::Tree(fw),
    ] {
        let value = values::from_tree(&upstream, &tree);
        serde_json::from_slice::<Vec<String>>(&value).expect("a listing is a JSON array");
    }
}

/// A contents listing of the registry's parent directory, which names the registry tree's
/// sha; the first byte picks the framework.
pub fn contents(data: &[u8]) {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    let fw = pick(selector);
    let dir = fw.registry.rsplit_once('/').map_or(fw.registry, |(_, d)| d);
    if let Ok(Some(sha)) = tree::dir_sha(json, dir) {
        // It becomes part of an API path: `/git/trees/{sha}`.
        assert!(tree::is_object_id(&sha), "{sha:?}");
    }
}

/// tweakcn's presets file: what parses reads back the same once written out as JSON (inside
/// the subset the parser reads), and every preset lists, converts to CSS and previews.
pub fn theme_presets(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(presets) = crate::themes::parse(text) else {
        return;
    };
    let json = |presets: &[crate::themes::Preset]| {
        let pairs: Vec<(&str, &crate::themes::Js)> =
            presets.iter().map(|p| (p.id.as_str(), &p.value)).collect();
        serde_json::to_string(&pairs).unwrap()
    };
    let object = presets
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                serde_json::to_string(&p.id).unwrap(),
                serde_json::to_string(&p.value).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let again = crate::themes::parse(&format!("export const defaultPresets = {{\n{object}\n}};"))
        .unwrap_or_else(|e| panic!("{e}: {object}"));
    assert_eq!(json(&again), json(&presets));
    serde_json::from_str::<serde_json::Value>(&crate::themes::list(&presets, None)).unwrap();
    for preset in &presets {
        let preview = crate::themes::Apply {
            preset_id: Some(preset.id.clone()),
            dry_run: true,
            ..crate::themes::Apply::default()
        };
        let answer = crate::themes::apply(&presets, &preview, Path::new("/nonexistent"));
        assert!(answer.unwrap().starts_with("Theme Preview:"));
    }
}

/// A registry index file (`ui/_registry.ts`).
pub fn registry_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(items) = registry_file::parse_items(text) else {
        return;
    };
    // JSON is inside the literal subset the parser reads: the items written as JSON read back.
    let json = serde_json::to_string(&items).unwrap();
    let again = registry_file::parse_items(&format!("export const items = {json}\n"))
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(again, items, "{json}");
    let react = pick(0);
    let listing = values::from_index(&ShadcnKey::ListBlocks(react), None, data)
        .unwrap()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&listing).unwrap();
    if let Some(item) = items.first() {
        let upstream = ShadcnKey::Metadata(react, item.name.clone());
        let value = values::from_index(&upstream, Some(&item.name), data)
            .unwrap()
            .expect("a listed item is found");
        let value: serde_json::Value = serde_json::from_slice(&value).unwrap();
        assert_eq!(value["name"], item.name.as_str());
    }
}

/// Rate-limit headers as `name: value` lines; a `now: <unix ms>` line sets the clock.
pub fn quota(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once(':')).collect();
    let now = pairs
        .iter()
        .find(|(name, _)| *name == "now")
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(1_700_000_000_000u64);
    let headers = Headers::parse(pairs.iter().copied());
    let hint = headers.wait_hint(now);
    if let Some(seconds) = headers.retry_after {
        assert_eq!(hint.as_secs(), seconds);
    }
    let mut quota = Quota::new(10);
    quota.observe(&headers);
    let wait = quota.rate_limited(&headers, now);
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    // Blocked for exactly the wait it announced: refused until then, allowed from then on.
    if wait_ms > 0 {
        let refusal = quota.check(Priority::Interactive, now).unwrap_err();
        assert!(refusal.retry_in() <= wait, "{refusal}");
    }
    if let Some(after) = now.checked_add(wait_ms) {
        quota.check(Priority::Interactive, after).unwrap();
        let _ = quota.check(Priority::Background, after);
    }
    let state = serde_json::to_vec(quota.state()).unwrap();
    let back: QuotaState = serde_json::from_slice(&state).unwrap();
    assert_eq!(&back, quota.state());
}

/// A cached value as the domain API reshapes it: `selector\0path\0category\0json`. Any client
/// can store any bytes under `tree:react` or `block:react:x`, so these read untrusted JSON.
pub fn domain_values(data: &[u8]) {
    let mut parts = data.splitn(4, |b| *b == 0);
    let (Some(selector), Some(path), Some(category), Some(json)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(path), Ok(category)) = (std::str::from_utf8(path), std::str::from_utf8(category))
    else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let fw = pick(selector.first().copied().unwrap_or(0));
    let path = (!path.is_empty()).then_some(path);
    if let Ok(tree) = shadcn::structure(fw, &value, path) {
        let root = tree["path"].as_str().unwrap().to_owned();
        check_node(&tree, &root);
    }
    let category = (!category.is_empty()).then_some(category);
    let blocks = shadcn::blocks_by_category(&value, category);
    if category.is_none() {
        let total = value.as_array().map_or(0, Vec::len);
        assert_eq!(blocks["totalBlocks"], total);
    }
    let _ = shadcn::metadata(&value);
    // The block answer fetches each used component by key, pairing names with answers.
    for name in shadcn::components_used(&value) {
        assert!(
            ShadcnKey::Component(fw, name.clone()).key().is_ok(),
            "`{name}` is not a component name"
        );
    }
}

/// Every node of a structure answer lies under `root`, and directories hold children.
fn check_node(node: &serde_json::Value, root: &str) {
    let path = node["path"].as_str().expect("every node has a path");
    assert!(
        path == root || path.starts_with(&format!("{root}/")),
        "{path}"
    );
    match node["type"].as_str() {
        Some("directory") => {
            for child in node["children"].as_object().expect("children").values() {
                check_node(child, root);
            }
        }
        Some("file") => assert!(node["name"].is_string()),
        other => panic!("node type {other:?}"),
    }
}

#[cfg(test)]
mod seeds;

#[cfg(test)]
mod tests;
