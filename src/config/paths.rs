//! Default locations (DESIGN.md): XDG directories when set, else the fallbacks a root CI
//! shell with no XDG variables needs.

use std::collections::HashMap;
use std::path::PathBuf;

fn var<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn home(env: &HashMap<String, String>) -> Result<PathBuf, String> {
    var(env, "HOME")
        .map(PathBuf::from)
        .ok_or_else(|| "HOME is not set; set it, or give the path explicitly".to_owned())
}

pub fn default_config_file(env: &HashMap<String, String>) -> Result<PathBuf, String> {
    let base = match var(env, "XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => home(env)?.join(".config"),
    };
    Ok(base.join("shadcache").join("config.toml"))
}

pub fn default_data_dir(env: &HashMap<String, String>) -> Result<PathBuf, String> {
    let base = match var(env, "XDG_STATE_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => home(env)
            .map_err(|e| format!("no data directory: {e} (or SHADCACHE_DATA_DIR / --data-dir)"))?
            .join(".local")
            .join("state"),
    };
    Ok(base.join("shadcache"))
}

pub fn default_socket(env: &HashMap<String, String>) -> PathBuf {
    match var(env, "XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("shadcache.sock"),
        // SAFETY: getuid has no preconditions and cannot fail.
        None => PathBuf::from(format!("/tmp/shadcache-{}", unsafe { libc::getuid() }))
            .join("shadcache.sock"),
    }
}
