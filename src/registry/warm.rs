//! Warming a registry of the shadcn registry protocol: its catalog, then every item it lists,
//! and the top-level files the CLI asks for (indexes, the base colours, the presets), so the
//! whole registry then answers offline. Requests go through the daemon like any client's, in
//! batches; the registry origin paces them (`registry.requests_per_second`,
//! `registry.max_concurrent`). An open breaker or a rate limit stops the warm.
//!
//! Runs in `shadcache warm --registry` through the socket, with a progress bar.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::file::{BUILT_IN, RegistryFile, is_name, item_names};
use crate::protocol::{ErrorCode, Request, Response};
use crate::shadcn::warm::{Batch, Progress, fetch_batch};

/// What to warm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryWarm {
    /// `shadcn`, `svelte`, `vue`, or a namespace without its `@`.
    pub source: String,
    /// The styles asked for; empty: the registry's default (and none for a namespace).
    pub styles: Vec<String>,
    /// Every style the registry names (`styles/index.json`, the presets of `config.json`),
    /// and its default.
    pub all_styles: bool,
}

/// How a registry warm went, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryReport {
    pub registry: String,
    pub styles: Vec<String>,
    pub files: u64,
    pub cached: u64,
    /// Files the registry does not have, or that failed.
    pub missing: u64,
    /// Bodies the origin downloaded for it, and 304s that confirmed a cached copy.
    pub fetched: Option<u64>,
    pub unchanged: Option<u64>,
    /// Catalogs the registry does not have (a style it lacks).
    pub no_catalog: Vec<String>,
    pub stopped: Option<String>,
    pub took: Duration,
}

impl std::fmt::Display for RegistryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.registry)?;
        if !self.styles.is_empty() {
            write!(f, " ({})", self.styles.join(", "))?;
        }
        write!(
            f,
            ": {} files, {} cached, {} not in the registry or failed",
            self.files, self.cached, self.missing
        )?;
        if let (Some(fetched), Some(unchanged)) = (self.fetched, self.unchanged) {
            write!(
                f,
                "; {fetched} downloaded, {unchanged} confirmed unchanged (304)"
            )?;
        }
        write!(f, "; took {:.1} s", self.took.as_secs_f64())?;
        if !self.no_catalog.is_empty() {
            write!(f, "; no catalog at {}", self.no_catalog.join(", "))?;
        }
        if let Some(why) = &self.stopped {
            write!(f, "; stopped early: {why}")?;
        }
        Ok(())
    }
}

const BATCH: usize = 32;

/// The style each built-in registry's CLI uses when a project names none.
fn default_style(source: &str) -> Option<&'static str> {
    match source {
        "shadcn" | "vue" => Some("new-york-v4"),
        "svelte" => Some("vega"),
        _ => None,
    }
}

/// The base colours `shadcn init` offers; the presets may name more.
const BASE_COLORS: [&str; 5] = ["neutral", "gray", "zinc", "stone", "slate"];

async fn get<A, F>(ask: &mut A, file: &RegistryFile) -> Result<Option<Vec<u8>>, String>
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
{
    match ask(Request::Get {
        key: file.key().to_string(),
    })
    .await
    {
        Response::Value(Some(found)) => Ok(Some(found.value.to_vec())),
        Response::Value(None) => Ok(None),
        Response::Error(e) if e.code == ErrorCode::NotFound => Ok(None),
        Response::Error(e) => Err(e.message),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

/// The registry's own counts for the origin, from `stats`.
async fn origin_counts<A, F>(ask: &mut A, registry: &str) -> Option<(u64, u64)>
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
{
    match ask(Request::Stats).await {
        Response::Stats(stats) => Some(
            stats
                .registries
                .iter()
                .find(|r| r.registry == registry)
                .map(|r| (r.fetched, r.unchanged))
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

pub async fn warm_registry<A, F, P>(
    ask: &mut A,
    plan: &RegistryWarm,
    progress: &mut P,
) -> Result<RegistryReport, String>
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
    P: Progress,
{
    let started = Instant::now();
    let source = plan.source.as_str();
    let built_in = BUILT_IN.contains(&source);
    let registry = super::sources::display(source);
    let before = origin_counts(ask, &registry).await;

    // The top-level files, which also say which styles and colours there are.
    let mut files: Vec<RegistryFile> = Vec::new();
    let mut styles: BTreeSet<String> = plan.styles.iter().cloned().collect();
    let mut colors: BTreeSet<String> = BTreeSet::new();
    if built_in {
        for name in ["index", "config", "registries"] {
            files.push(RegistryFile::top(source, name));
        }
        files.push(RegistryFile::in_dir(source, "icons", "index"));
        let style_index = RegistryFile::in_dir(source, "styles", "index");
        let config: serde_json::Value = get(ask, &RegistryFile::top(source, "config"))
            .await?
            .and_then(|body| serde_json::from_slice(&body).ok())
            .unwrap_or_default();
        let presets = config
            .get("presets")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        colors.extend(BASE_COLORS.iter().map(|c| c.to_string()));
        for preset in &presets {
            if let Some(color) = preset.get("baseColor").and_then(|c| c.as_str()) {
                colors.insert(color.to_owned());
            }
        }
        if plan.all_styles {
            if let Some(index) = get(ask, &style_index).await? {
                styles.extend(item_names(&index));
            }
            styles.extend(
                presets
                    .iter()
                    .filter_map(|p| p.get("name")?.as_str().map(str::to_owned)),
            );
        }
        files.push(style_index);
        for color in &colors {
            files.push(RegistryFile::in_dir(source, "colors", color));
        }
        // The registry's own default style, unless the user named styles.
        if plan.styles.is_empty() {
            styles.extend(default_style(source).map(str::to_owned));
        }
    }
    styles.retain(|s| is_name(s));

    // Each style's catalog, and every item it lists.
    let mut unlisted = Vec::new();
    let catalogs: Vec<(Option<String>, RegistryFile)> = if built_in || !styles.is_empty() {
        styles
            .iter()
            .map(|style| {
                let catalog = RegistryFile::catalog_of(source, Some(style));
                (Some(style.clone()), catalog)
            })
            .collect()
    } else {
        vec![(None, RegistryFile::catalog_of(source, None))]
    };
    for (style, catalog) in &catalogs {
        files.push(catalog.clone());
        let names = match get(ask, catalog).await? {
            Some(value) => item_names(&value),
            None => {
                unlisted.push(catalog.path());
                continue;
            }
        };
        if let Some(style) = style {
            files.push(RegistryFile::styled(source, style, "index"));
        }
        for name in names.iter().filter(|n| is_name(n)) {
            files.push(match style {
                Some(style) => RegistryFile::styled(source, style, name),
                None => RegistryFile::top(source, name),
            });
        }
    }
    if unlisted.len() == catalogs.len() {
        return Err(format!(
            "{registry} has no catalog to warm from ({})",
            unlisted.join(", ")
        ));
    }
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.key()));

    let mut report = RegistryReport {
        registry: registry.clone(),
        styles: styles.iter().cloned().collect(),
        files: files.len() as u64,
        no_catalog: unlisted,
        ..RegistryReport::default()
    };
    progress.start(&registry, files.len() as u64);
    for batch in files.chunks(BATCH) {
        let keys = batch.iter().map(|f| f.key().to_string()).collect();
        match fetch_batch(ask, keys).await? {
            Batch::Fetched { cached, missing } => {
                report.cached += cached;
                report.missing += missing;
            }
            Batch::Stopped(why) => {
                report.stopped = Some(why);
                break;
            }
        }
        progress.advance(batch.len() as u64);
    }
    if let (Some(before), Some(after)) = (before, origin_counts(ask, &registry).await) {
        report.fetched = Some(after.0.saturating_sub(before.0));
        report.unchanged = Some(after.1.saturating_sub(before.1));
    }
    report.took = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_and_indexes_list_their_items() {
        let dir = crate::testkit::fixtures::registry_dir();
        let read = |path: &str| std::fs::read(dir.join(path)).unwrap();
        let catalog = item_names(&read("ui.shadcn.com/r/styles/new-york-v4/registry.json"));
        assert_eq!(catalog.len(), 471);
        assert!(catalog.contains(&"button".to_owned()));
        let svelte = item_names(&read("shadcn-svelte.com/registry/styles/vega/index.json"));
        assert_eq!(svelte.len(), 258);
    }
}
