//! `shadcache warm`: prefetches registries through the daemon, with a progress bar on a
//! terminal and a summary line per framework.

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::exit::fail;
use crate::client::Client;
use crate::config::Config;
use crate::protocol::{ErrorCode, Request, Response, WireError};
use crate::registry::warm::{RegistryWarm, warm_registry};
use crate::shadcn::warm::{Progress, warm};
use crate::shadcn::{FRAMEWORKS, Framework};

#[derive(Debug, clap::Args)]
pub struct WarmArgs {
    /// react, react:base, svelte, vue or react-native (default: github.framework)
    #[arg(short, long, conflicts_with_all = ["all", "registry"])]
    framework: Option<String>,
    /// Every framework in the table
    #[arg(long, conflicts_with = "registry")]
    all: bool,
    /// A registry of the shadcn registry protocol instead: shadcn, svelte, vue or @namespace
    /// (its catalog and every item, so `shadcn add`/`view` work offline)
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,
    /// With --registry: this style (repeatable; default: the registry's own, new-york-v4 for
    /// shadcn and vue, vega for svelte)
    #[arg(long, requires = "registry")]
    style: Vec<String>,
    /// With --registry: every style the registry names
    #[arg(long, requires = "registry", conflicts_with = "style")]
    all_styles: bool,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&mut self, framework: &str, keys: u64) {
        self.0.reset();
        self.0.set_length(keys);
        self.0.set_prefix(framework.to_owned());
    }

    fn advance(&mut self, n: u64) {
        self.0.inc(n);
    }
}

pub async fn run(config: &Config, args: WarmArgs) -> ExitCode {
    if let Some(registry) = &args.registry {
        let plan = RegistryWarm {
            source: match registry.strip_prefix('@') {
                Some(ns) if ns != "shadcn" => ns.to_owned(),
                _ => registry.clone(),
            },
            styles: args.style.clone(),
            all_styles: args.all_styles,
        };
        return run_registry(config, plan).await;
    }
    let frameworks: Vec<&'static Framework> = if args.all {
        FRAMEWORKS.iter().collect()
    } else {
        let name = args
            .framework
            .as_deref()
            .unwrap_or(&config.github.framework);
        match crate::shadcn::framework(name) {
            Ok(fw) => vec![fw],
            Err(e) => return fail(&e),
        }
    };
    let client = match Client::connect(&config.socket, crate::client::deadline(config)).await {
        Ok(client) => client,
        Err(e) => return fail(&e.to_string()),
    };
    let bar = progress_bar("keys");
    let mut progress = Bar(bar.clone());
    let mut ask = asker(client);
    let mut failed = false;
    for fw in frameworks {
        match warm(&mut ask, fw, config.github.quota_reserve, &mut progress).await {
            Ok(report) => {
                bar.finish_and_clear();
                println!("{report}");
                failed |= report.stopped.is_some();
            }
            Err(e) => {
                bar.finish_and_clear();
                eprintln!("shadcache: warming {} failed: {e}", fw.id);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn progress_bar(unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let template = format!("{{prefix:>12}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{elapsed}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Requests through one connection, in turn; a broken one answers `Unavailable`.
fn asker(
    client: Client,
) -> impl FnMut(Request) -> std::pin::Pin<Box<dyn Future<Output = Response>>> {
    let client = std::rc::Rc::new(tokio::sync::Mutex::new(client));
    move |request: Request| {
        let client = client.clone();
        Box::pin(async move {
            let mut client = client.lock().await;
            client.request(&request).await.unwrap_or_else(|e| {
                Response::Error(WireError::new(ErrorCode::Unavailable, e.to_string()))
            })
        })
    }
}

async fn run_registry(config: &Config, plan: RegistryWarm) -> ExitCode {
    if !crate::registry::file::is_name(&plan.source) {
        return fail(&format!(
            "unknown registry `{}`: shadcn, svelte, vue, or a namespace such as @magicui",
            plan.source
        ));
    }
    let client = match Client::connect(&config.socket, crate::client::deadline(config)).await {
        Ok(client) => client,
        Err(e) => return fail(&e.to_string()),
    };
    let bar = progress_bar("files");
    let mut progress = Bar(bar.clone());
    let mut ask = asker(client);
    match warm_registry(&mut ask, &plan, &mut progress).await {
        Ok(report) => {
            bar.finish_and_clear();
            println!("{report}");
            if report.stopped.is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            bar.finish_and_clear();
            fail(&format!("warming {} failed: {e}", plan.source))
        }
    }
}
