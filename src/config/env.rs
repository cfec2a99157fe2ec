//! The environment layer: `SHADCACHE_<SECTION>_<KEY>` variables, each typed like its key's
//! default and checked on its own, and the GitHub token's other variables.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::{Table, Value};

use super::error::ConfigError;
use super::model::FileConfig;
use super::source::Source;

const PREFIX: &str = "SHADCACHE_";

/// `SHADCACHE_<SECTION>_<KEY>` for every key of every section. Variables whose section is not
/// one of ours (`SHADCACHE_FIXTURES`, used by the tests) are left alone; an unknown key in a
/// known section is an error, as it would be in the file.
pub(super) fn apply_env(
    table: &mut Table,
    env: &HashMap<String, String>,
    sources: &mut BTreeMap<String, Source>,
) -> Result<(), ConfigError> {
    let defaults = Table::try_from(FileConfig::default()).expect("defaults serialise to TOML");
    let mut vars: Vec<_> = env.iter().filter(|(k, _)| k.starts_with(PREFIX)).collect();
    vars.sort();
    for (var, raw) in vars {
        let rest = &var[PREFIX.len()..];
        let (section, key) = match rest {
            "SOCKET" => (None, "socket".to_owned()),
            "DATA_DIR" => (None, "data_dir".to_owned()),
            // The longest section that prefixes the name: section names may hold `_` too.
            _ => {
                let lower = rest.to_ascii_lowercase();
                let section = defaults
                    .iter()
                    .filter(|(_, v)| v.is_table())
                    .map(|(name, _)| name.as_str())
                    .filter(|name| {
                        lower.len() > name.len() + 1
                            && lower.starts_with(name)
                            && lower.as_bytes()[name.len()] == b'_'
                    })
                    .max_by_key(|name| name.len());
                match section {
                    Some(section) => (
                        Some(section.to_owned()),
                        lower[section.len() + 1..].to_owned(),
                    ),
                    None => match lower.split_once('_') {
                        Some((section, key)) => (Some(section.to_owned()), key.to_owned()),
                        None => continue,
                    },
                }
            }
        };
        if raw.is_empty() {
            continue;
        }
        let env_error = |message: String| ConfigError::Env {
            var: var.clone(),
            message,
        };
        let (target, default, dotted) = match &section {
            None => (&mut *table, &Value::String(String::new()), key.clone()),
            Some(section) => {
                let Some(Value::Table(section_defaults)) = defaults.get(section) else {
                    continue;
                };
                let default = section_defaults.get(&key).ok_or_else(|| {
                    let known: Vec<_> = section_defaults.keys().map(String::as_str).collect();
                    env_error(format!(
                        "section `{section}` has no key `{key}` (known: {})",
                        known.join(", ")
                    ))
                })?;
                let target = table
                    .entry(section.clone())
                    .or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(target) = target else {
                    return Err(env_error(format!("`{section}` in the file is not a table")));
                };
                (target, default, format!("{section}.{key}"))
            }
        };
        let value = typed_like(default, raw).map_err(env_error)?;
        target.insert(key, value);
        sources.insert(dotted, Source::Env(var.clone()));
        // Check after each variable so a bad value is blamed on the variable that carried it.
        FileConfig::deserialize(table.clone()).map_err(|e| env_error(e.message().to_owned()))?;
    }
    Ok(())
}

/// The token's precedence (DESIGN.md): `SHADCACHE_GITHUB_TOKEN` (already applied), then the
/// variables other GitHub tools use, then the file.
pub(super) fn apply_token(
    table: &mut Table,
    env: &HashMap<String, String>,
    sources: &mut BTreeMap<String, Source>,
) {
    const KEY: &str = "github.token";
    if matches!(sources.get(KEY), Some(Source::Env(_))) {
        return;
    }
    for var in ["GITHUB_PERSONAL_ACCESS_TOKEN", "GITHUB_TOKEN"] {
        if let Some(token) = env.get(var).filter(|t| !t.is_empty()) {
            let section = table
                .entry("github")
                .or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(section) = section {
                section.insert("token".into(), Value::String(token.clone()));
                sources.insert(KEY.into(), Source::Env(var.into()));
            }
            return;
        }
    }
}

/// Environment values are strings; give each the TOML type its default has.
fn typed_like(default: &Value, raw: &str) -> Result<Value, String> {
    match default {
        Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("`{raw}` is not an integer")),
        Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("`{raw}` is not a boolean")),
        },
        Value::Float(_) => raw
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("`{raw}` is not a number")),
        _ => Ok(Value::String(raw.to_owned())),
    }
}
