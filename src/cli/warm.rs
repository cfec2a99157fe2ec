//! `shadcache warm`: prefetches registries through the daemon, with a progress bar on a
//! terminal and a summary line per framework.

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::exit::fail;
use crate::client::Client;
use crate::config::Config;
use crate::protocol::{ErrorCode, Request, Response, WireError};
use crate::shadcn::warm::{Progress, warm};
use crate::shadcn::{FRAMEWORKS, Framework};

#[derive(Debug, clap::Args)]
pub struct WarmArgs {
    /// react, react:base, svelte, vue or react-native (default: github.framework)
    #[arg(short, long, conflicts_with = "all")]
    framework: Option<String>,
    /// Every framework in the table
    #[arg(long)]
    all: bool,
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
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} keys {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut progress = Bar(bar.clone());
    let client = std::rc::Rc::new(tokio::sync::Mutex::new(client));
    let mut ask = |request: Request| {
        let client = client.clone();
        async move {
            let mut client = client.lock().await;
            client.request(&request).await.unwrap_or_else(|e| {
                Response::Error(WireError::new(ErrorCode::Unavailable, e.to_string()))
            })
        }
    };
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
