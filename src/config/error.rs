//! What can be wrong with a configuration, each naming where: the file and line, the
//! environment variable, or the key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}, line {line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config ({path}): {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Paths(String),
}
