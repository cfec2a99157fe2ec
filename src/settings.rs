//! The configuration with every check: `config`'s own (syntax, types, ranges), then those that
//! need the module that gives a value its meaning: the frame ceiling the codec enforces, the
//! framework names the domain knows, the L2 URL the database connects to. `config` stays a leaf
//! that imports nothing of the crate; everything that runs on a configuration loads it here.

use crate::config::{self, ConfigError, L2Backend, Loaded, Overrides};
use crate::protocol::codec::MAX_FRAME_CEILING;

pub fn load(
    overrides: &Overrides,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    checked(config::load(overrides, env)?)
}

/// [`load`] on a file's text, without touching the disk (the config fuzz target drives this).
#[cfg(any(fuzzing, test))]
pub fn load_text(
    file: &std::path::Path,
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    checked(config::load_text(file, text, env)?)
}

fn checked(loaded: Loaded) -> Result<Loaded, ConfigError> {
    match check(&loaded.config) {
        Ok(()) => Ok(loaded),
        Err(message) => Err(ConfigError::Invalid {
            path: loaded.file,
            message,
        }),
    }
}

/// The first problem, naming its key.
fn check(config: &config::Config) -> Result<(), String> {
    let max_frame = config.daemon.max_frame_size;
    if max_frame.bytes() > MAX_FRAME_CEILING as u64 {
        return Err(format!(
            "daemon.max_frame_size = {max_frame}: must be at most {} MiB",
            MAX_FRAME_CEILING >> 20
        ));
    }
    if let Err(e) = crate::shadcn::framework(&config.github.framework) {
        return Err(format!("github.framework: {e}"));
    }
    if let Err(e) = crate::shadcn::frameworks(&config.github.warm) {
        return Err(format!("github.warm: {e}"));
    }
    if config.l2.backend == L2Backend::Postgres
        && let Err(e) = crate::database::tls::target(&config.l2.url, &config.l2.ca_file)
    {
        return Err(format!("l2.url: {e}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn load(text: &str) -> Result<Loaded, String> {
        let env = [("HOME".to_owned(), "/home/u".to_owned())];
        load_text(Path::new("/c/config.toml"), text, env).map_err(|e| e.to_string())
    }

    #[test]
    fn values_checked_by_the_module_that_gives_them_meaning() {
        assert!(load("").is_ok());
        for (text, says) in [
            ("[daemon]\nmax_frame_size = \"1GiB\"\n", "at most 64 MiB"),
            ("[github]\nframework = \"angular\"\n", "github.framework"),
            ("[github]\nwarm = \"react,angular\"\n", "github.warm"),
            (
                "[l2]\nbackend = \"postgres\"\nurl = \"host=h sslmode=verify-full\"\n",
                "l2.url",
            ),
        ] {
            let err = load(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(err.contains("/c/config.toml"), "{err}");
        }
    }
}
