//! `shadcache themes`, `theme NAME` and `theme apply NAME`: the theme tools on the command
//! line, from the same cached presets and with the same answers as over MCP. `apply` writes
//! into the project in the current directory (or `--css PATH`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::exit::fail;
use crate::client::Client;
use crate::config::Config;
use crate::themes::{self, Preset, Tailwind};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ThemeArgs {
    #[command(subcommand)]
    action: Option<ThemeCmd>,
    /// The preset's id or label (`cosmic-night`, "Cosmic Night")
    #[arg(required = true)]
    name: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum ThemeCmd {
    /// Write a preset's CSS variables into the project's global CSS (a backup is kept)
    Apply {
        /// The preset's id, or words of its label or id
        name: String,
        /// Print what would be written instead of writing it
        #[arg(long)]
        dry_run: bool,
        /// The CSS file to write (default: the first of src/styles/globals.css,
        /// app/globals.css, src/index.css, ... that exists)
        #[arg(long, value_name = "PATH")]
        css: Option<PathBuf>,
        /// Tailwind CSS version, for the config shown by --dry-run
        #[arg(long, value_parser = ["3", "4"], default_value = "3")]
        tailwind: String,
    },
}

async fn presets(config: &Config) -> Result<Vec<Preset>, ExitCode> {
    let mut client = Client::connect(&config.socket, crate::client::deadline(config))
        .await
        .map_err(|e| fail(&e.to_string()))?;
    let response = client
        .request(&themes::request())
        .await
        .map_err(|e| fail(&e.to_string()))?;
    themes::from_answer(response).map_err(|e| fail(&e))
}

pub async fn list(config: &Config, query: Option<&str>) -> ExitCode {
    match presets(config).await {
        Ok(presets) => {
            println!("{}", themes::list(&presets, query));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

pub async fn run(config: &Config, args: ThemeArgs) -> ExitCode {
    let presets = match presets(config).await {
        Ok(presets) => presets,
        Err(code) => return code,
    };
    let Some(ThemeCmd::Apply {
        name,
        dry_run,
        css,
        tailwind,
    }) = args.action
    else {
        let name = args.name.expect("clap requires a name");
        return match themes::get(&presets, &name) {
            Ok(theme) => {
                println!("{theme}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("shadcache: {e}");
                ExitCode::from(1)
            }
        };
    };
    // A name that is a preset is that preset; anything else searches, as upstream's query.
    let found = themes::find_id(&presets, &name);
    let apply = themes::Apply {
        preset_id: found.clone(),
        query: found.is_none().then_some(name),
        tailwind: Some(if tailwind == "4" {
            Tailwind::V4
        } else {
            Tailwind::V3
        }),
        dry_run,
        css,
    };
    let root = match std::env::current_dir() {
        Ok(root) => root,
        Err(e) => return fail(&format!("cannot read the current directory: {e}")),
    };
    match themes::apply(&presets, &apply, &root) {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) if e.contains("No matching presets") => {
            eprintln!("shadcache: {e}");
            ExitCode::from(1)
        }
        Err(e) => fail(&e),
    }
}
