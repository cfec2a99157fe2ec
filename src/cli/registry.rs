//! `shadcache registry url|env|components-json`: what to point the `shadcn` CLI, `shadcn mcp`,
//! shadcn-svelte and shadcn-vue at. The port and secret come from the running daemon (its
//! listener may have had to take another port); nothing machine-specific goes into
//! `components.json`, which teams commit: it names `${SHADCACHE_REGISTRY}`, which
//! `registry env` exports.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::exit::{fail, unexpected};
use crate::client::{self, Client};
use crate::config::Config;
use crate::protocol::{RegistryInfo, Request, Response};
use crate::registry::file::BUILT_IN;

/// The variable components.json blocks name; `registry env` exports it.
pub const VAR: &str = "SHADCACHE_REGISTRY";

#[derive(Debug, clap::Subcommand)]
pub enum RegistryCmd {
    /// Print the URL a client should use for SOURCE: shadcn (default), svelte, vue or @namespace
    Url { source: Option<String> },
    /// Print shell lines exporting REGISTRY_URL (for SOURCE, default shadcn), SHADCACHE_REGISTRY
    /// and NO_PROXY: `eval "$(shadcache registry env)"`
    Env { source: Option<String> },
    /// Print a components.json `registries` block pointing every namespace of this project
    /// (./components.json) and of the config at shadcache, through ${SHADCACHE_REGISTRY}
    ComponentsJson,
}

pub async fn run(config: &Config, command: RegistryCmd) -> ExitCode {
    let info = match info(config).await {
        Ok(info) => info,
        Err(code) => return code,
    };
    let Some(base) = info.base_url.clone() else {
        return fail(&format!(
            "the daemon serves no registry: {}",
            info.problem.as_deref().unwrap_or("no reason given")
        ));
    };
    match command {
        RegistryCmd::Url { source } => match source_url(&base, source.as_deref()) {
            Ok(url) => {
                println!("{url}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        RegistryCmd::Env { source } => {
            let url = match source.as_deref().unwrap_or("shadcn") {
                s if BUILT_IN.contains(&s) => format!("{base}/{s}"),
                other => {
                    return fail(&format!(
                        "REGISTRY_URL is for shadcn, svelte or vue, not {other}"
                    ));
                }
            };
            println!("export REGISTRY_URL={url}");
            println!("export {VAR}={base}");
            // Loopback must not go through a proxy the environment names.
            println!("export NO_PROXY=\"127.0.0.1,localhost${{NO_PROXY:+,$NO_PROXY}}\"");
            println!("export no_proxy=\"127.0.0.1,localhost${{no_proxy:+,$no_proxy}}\"");
            ExitCode::SUCCESS
        }
        RegistryCmd::ComponentsJson => components_json(&base, &info).await,
    }
}

async fn info(config: &Config) -> Result<RegistryInfo, ExitCode> {
    let mut client = Client::connect(&config.socket, client::deadline(config))
        .await
        .map_err(|e| fail(&e.to_string()))?;
    match client.request(&Request::Registry).await {
        Ok(Response::Registry(info)) => Ok(info),
        Ok(Response::Error(e)) => Err(fail(&e.message)),
        Ok(other) => Err(unexpected(other)),
        Err(e) => Err(fail(&e.to_string())),
    }
}

/// A built-in's base URL (what `REGISTRY_URL` takes), or a namespace's URL template (what
/// components.json takes).
fn source_url(base: &str, source: Option<&str>) -> Result<String, String> {
    match source.unwrap_or("shadcn") {
        s if BUILT_IN.contains(&s) => Ok(format!("{base}/{s}")),
        ns => match ns.strip_prefix('@') {
            Some(name) if crate::registry::file::is_name(name) => {
                Ok(format!("{base}/{name}/{{name}}.json"))
            }
            _ => Err(format!(
                "unknown registry `{ns}`: shadcn, svelte, vue, or a namespace such as @magicui"
            )),
        },
    }
}

async fn components_json(base: &str, info: &RegistryInfo) -> ExitCode {
    // The namespaces this project names, and the daemon's own.
    let mut namespaces: Vec<String> = info.namespaces.iter().map(|(ns, _)| ns.clone()).collect();
    match std::fs::read("components.json") {
        Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(json) => {
                if let Some(registries) = json.get("registries").and_then(|r| r.as_object()) {
                    namespaces.extend(registries.keys().cloned());
                }
            }
            Err(e) => return fail(&format!("./components.json is not JSON: {e}")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return fail(&format!("./components.json: {e}")),
    }
    namespaces.sort();
    namespaces.dedup();
    // Which namespaces take a style, from the directory as the daemon serves it.
    let mut directory = styled_namespaces(base).await;
    for (ns, styled) in &info.namespaces {
        directory.insert(ns.trim_start_matches('@').to_owned(), *styled);
    }
    let mut block = BTreeMap::new();
    for ns in &namespaces {
        let Some(name) = ns
            .strip_prefix('@')
            .filter(|n| crate::registry::file::is_name(n))
        else {
            eprintln!("shadcache: skipping `{ns}`: not a namespace (@name)");
            continue;
        };
        let known = directory.contains_key(name);
        if !known {
            eprintln!(
                "shadcache: {ns} is neither in the shadcn directory nor in registry.namespaces; \
                 add its URL there so the daemon can fetch it"
            );
        }
        let styled = directory.get(name).copied().unwrap_or(false);
        let path = if styled {
            "{style}/{name}.json"
        } else {
            "{name}.json"
        };
        block.insert(ns.clone(), format!("${{{VAR}}}/{name}/{path}"));
    }
    if block.is_empty() {
        eprintln!(
            "shadcache: no namespaces in ./components.json or registry.namespaces; for @shadcn \
             itself set REGISTRY_URL (shadcache registry env)"
        );
    }
    let json = serde_json::json!({ "registries": block });
    println!(
        "{}",
        serde_json::to_string_pretty(&json).expect("serialises")
    );
    ExitCode::SUCCESS
}

/// Namespace → whether its URL takes `{style}`, from `registries.json` through the listener.
async fn styled_namespaces(base: &str) -> BTreeMap<String, bool> {
    let url = format!("{base}/shadcn/registries.json");
    let body = match reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(20))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => response.bytes().await.ok(),
        _ => None,
    };
    let Some(body) = body else {
        eprintln!(
            "shadcache: the shadcn directory could not be read; namespaces are shown as {{name}}.json"
        );
        return BTreeMap::new();
    };
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
    entries
        .iter()
        .filter_map(|e| {
            let name = e.get("name")?.as_str()?.strip_prefix('@')?;
            let url = e.get("url")?.as_str()?;
            Some((name.to_owned(), url.contains("{style}")))
        })
        .collect()
}
