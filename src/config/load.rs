//! Builds the effective [`Config`] from four layers, highest first: command-line flags,
//! `SHADCACHE_*` environment variables, the TOML file, defaults. Records where each key came
//! from so `shadcache config` can say it. The environment is an iterator passed in, so tests
//! never touch the process environment.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

use super::env::{apply_env, apply_token};
pub use super::error::ConfigError;
use super::model::{Config, FileConfig};
use super::paths;
pub use super::source::Source;

/// Values given on the command line; they beat everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The file consulted, and whether it existed.
    pub file: PathBuf,
    pub file_found: bool,
    /// Dotted key (`l1.max_bytes`) to source; keys absent here are defaults.
    pub sources: BTreeMap<String, Source>,
}

impl Loaded {
    pub fn source(&self, key: &str) -> &Source {
        self.sources.get(key).unwrap_or(&Source::Default)
    }
}

pub fn load(
    overrides: &Overrides,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let env: HashMap<String, String> = env.into_iter().collect();
    let file = match (&overrides.config, env.get("SHADCACHE_CONFIG")) {
        (Some(flag), _) => flag.clone(),
        (None, Some(var)) if !var.is_empty() => PathBuf::from(var),
        _ => paths::default_config_file(&env).map_err(ConfigError::Paths)?,
    };
    let (table, file_found) = match read_file(&file)? {
        Some(text) => (parse_file(&file, &text)?, true),
        None => (Table::new(), false),
    };
    merge(file, table, file_found, overrides, &env)
}

/// What [`load`] makes of a config file at `file` holding `text`, with no flags: the same
/// checks without touching the disk (the config fuzz target drives this).
#[cfg(any(fuzzing, test))]
pub fn load_text(
    file: &Path,
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let env: HashMap<String, String> = env.into_iter().collect();
    let table = parse_file(file, text)?;
    merge(file.to_owned(), table, true, &Overrides::default(), &env)
}

/// The file's table with the environment and flags applied, validated.
fn merge(
    file: PathBuf,
    mut table: Table,
    file_found: bool,
    overrides: &Overrides,
    env: &HashMap<String, String>,
) -> Result<Loaded, ConfigError> {
    let mut sources = BTreeMap::new();
    for (key, value) in &table {
        match value {
            Value::Table(section) => {
                for name in section.keys() {
                    sources.insert(format!("{key}.{name}"), Source::File);
                }
            }
            _ => {
                sources.insert(key.clone(), Source::File);
            }
        }
    }

    apply_env(&mut table, env, &mut sources)?;
    apply_token(&mut table, env, &mut sources);

    let mut flags = |key: &str, value: &Option<PathBuf>| {
        if let Some(path) = value {
            table.insert(key.into(), Value::String(path.display().to_string()));
            sources.insert(key.into(), Source::Flag);
        }
    };
    flags("socket", &overrides.socket);
    flags("data_dir", &overrides.data_dir);

    let merged = FileConfig::deserialize(table).map_err(|e| ConfigError::Invalid {
        path: file.clone(),
        message: e.to_string(),
    })?;
    let config = Config {
        socket: match merged.socket {
            Some(path) => path,
            None => paths::default_socket(env),
        },
        data_dir: match merged.data_dir {
            Some(path) => path,
            None => paths::default_data_dir(env).map_err(ConfigError::Paths)?,
        },
        daemon: merged.daemon,
        l1: merged.l1,
        l2: merged.l2,
        github: merged.github,
        ttl: merged.ttl,
        strategy: merged.strategy,
        breaker: merged.breaker,
        write_behind: merged.write_behind,
        registry: merged.registry,
        prefetch: merged.prefetch,
        refresh_ahead: merged.refresh_ahead,
    };
    config.validate().map_err(|message| ConfigError::Invalid {
        path: file.clone(),
        message,
    })?;
    Ok(Loaded {
        config,
        file,
        file_found,
        sources,
    })
}

/// The file's text; `None` when there is no file (defaults apply).
fn read_file(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Checks the file on its own first, so its errors carry a line number and the offending
/// key; then returns it as a table for the other layers to merge into.
fn parse_file(path: &Path, text: &str) -> Result<Table, ConfigError> {
    let parse_error = |e: toml::de::Error| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            message: e.message().to_owned(),
        }
    };
    toml::from_str::<FileConfig>(text).map_err(parse_error)?;
    toml::from_str::<Table>(text).map_err(parse_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ByteSize;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![("HOME".to_string(), "/home/u".to_string())];
        all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        all
    }

    fn with_file(text: &str) -> (tempfile::TempDir, Overrides) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let overrides = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        (dir, overrides)
    }

    #[test]
    fn missing_file_means_defaults() {
        let overrides = Overrides {
            config: Some("/nonexistent/shadcache.toml".into()),
            ..Overrides::default()
        };
        let loaded = load(&overrides, env(&[])).unwrap();
        assert!(!loaded.file_found);
        assert_eq!(loaded.config.l1.max_bytes, ByteSize::mib(64));
        assert_eq!(
            loaded.config.data_dir,
            PathBuf::from("/home/u/.local/state/shadcache")
        );
        assert_eq!(loaded.source("l1.max_bytes"), &Source::Default);
    }

    #[test]
    fn file_values_and_sources() {
        let (_dir, overrides) = with_file(
            "socket = \"/run/x.sock\"\n[l1]\nmax_bytes = \"8MiB\"\n[ttl]\nlist = \"90s\"\n",
        );
        let loaded = load(&overrides, env(&[])).unwrap();
        assert_eq!(loaded.config.socket, PathBuf::from("/run/x.sock"));
        assert_eq!(loaded.config.l1.max_bytes, ByteSize::mib(8));
        assert_eq!(loaded.config.ttl.ttl("list"), Duration::from_secs(90));
        assert_eq!(loaded.source("l1.max_bytes"), &Source::File);
        assert_eq!(loaded.source("socket"), &Source::File);
        assert_eq!(loaded.source("ttl.block"), &Source::Default);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let (_dir, overrides) = with_file("[l1]\nmax_bytes = \"8MiB\"\nmax_bites = 3\n");
        let err = load(&overrides, env(&[])).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConfigError::Parse { line: 3, .. }), "{text}");
        assert!(text.contains("max_bites"), "{text}");
        assert!(text.contains("config.toml"), "{text}");
    }

    #[test]
    fn malformed_toml_and_bad_values_are_errors() {
        let (_dir, overrides) = with_file("[l1\n");
        assert!(matches!(
            load(&overrides, env(&[])),
            Err(ConfigError::Parse { line: 1, .. })
        ));
        let (_dir, overrides) = with_file("[ttl]\n\ncomponent = \"soon\"\n");
        assert!(matches!(
            load(&overrides, env(&[])),
            Err(ConfigError::Parse { line: 3, .. })
        ));
        let (_dir, overrides) = with_file("[daemon]\nmax_frame_size = \"1KiB\"\n");
        let err = load(&overrides, env(&[])).unwrap_err().to_string();
        assert!(err.contains("daemon.max_frame_size"), "{err}");
        let (_dir, overrides) = with_file("[daemon]\nlog_level = \"shadcache=loud\"\n");
        let err = load(&overrides, env(&[])).unwrap_err().to_string();
        assert!(err.contains("daemon.log_level"), "{err}");
    }

    #[test]
    fn env_beats_file_and_flags_beat_env() {
        let (_dir, mut overrides) = with_file("[l1]\nmax_bytes = \"8MiB\"\n");
        let vars = env(&[
            ("SHADCACHE_L1_MAX_BYTES", "2MiB"),
            ("SHADCACHE_DAEMON_MAX_CONNECTIONS", "7"),
            ("SHADCACHE_SOCKET", "/env.sock"),
            ("SHADCACHE_FIXTURES", "/somewhere"),
        ]);
        let loaded = load(&overrides, vars.clone()).unwrap();
        assert_eq!(loaded.config.l1.max_bytes, ByteSize::mib(2));
        assert_eq!(loaded.config.daemon.max_connections, 7);
        assert_eq!(loaded.config.socket, PathBuf::from("/env.sock"));
        assert_eq!(
            loaded.source("l1.max_bytes"),
            &Source::Env("SHADCACHE_L1_MAX_BYTES".into())
        );
        overrides.socket = Some("/flag.sock".into());
        let loaded = load(&overrides, vars).unwrap();
        assert_eq!(loaded.config.socket, PathBuf::from("/flag.sock"));
        assert_eq!(loaded.source("socket"), &Source::Flag);
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let overrides = Overrides {
            config: Some("/nonexistent".into()),
            ..Overrides::default()
        };
        for (var, value) in [
            ("SHADCACHE_DAEMON_MAX_CONNECTIONS", "many"),
            ("SHADCACHE_TTL_LIST", "a while"),
            ("SHADCACHE_L1_MAX_BYTEZ", "1MiB"),
        ] {
            let err = load(&overrides, env(&[(var, value)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Env { var: v, .. } if v == var),
                "{var}: {err}"
            );
        }
    }

    #[test]
    fn token_precedence() {
        let (_dir, overrides) = with_file("[github]\ntoken = \"from-file\"\n");
        let token = |pairs: &[(&str, &str)]| {
            let loaded = load(&overrides, env(pairs)).unwrap();
            (
                loaded.config.github.token.clone(),
                loaded.source("github.token").clone(),
            )
        };
        assert_eq!(token(&[]), ("from-file".into(), Source::File));
        assert_eq!(
            token(&[
                ("GITHUB_TOKEN", "gt"),
                ("GITHUB_PERSONAL_ACCESS_TOKEN", "pat")
            ]),
            (
                "pat".into(),
                Source::Env("GITHUB_PERSONAL_ACCESS_TOKEN".into())
            )
        );
        assert_eq!(
            token(&[("GITHUB_TOKEN", "gt"), ("SHADCACHE_GITHUB_TOKEN", "own")]),
            ("own".into(), Source::Env("SHADCACHE_GITHUB_TOKEN".into()))
        );
        assert_eq!(token(&[("GITHUB_TOKEN", "gt")]).0, "gt");
    }

    #[test]
    fn xdg_paths_are_used_when_set() {
        let overrides = Overrides {
            config: None,
            ..Overrides::default()
        };
        let loaded = load(
            &overrides,
            env(&[
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("XDG_STATE_HOME", "/st"),
                ("XDG_CONFIG_HOME", "/nonexistent-cfg"),
            ]),
        )
        .unwrap();
        assert_eq!(
            loaded.config.socket,
            PathBuf::from("/run/user/1000/shadcache.sock")
        );
        assert_eq!(loaded.config.data_dir, PathBuf::from("/st/shadcache"));
        assert_eq!(
            loaded.file,
            PathBuf::from("/nonexistent-cfg/shadcache/config.toml")
        );
    }
}
