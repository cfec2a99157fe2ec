//! `shadcache config`: the effective configuration as TOML, each key annotated with where its
//! value came from. Secrets are redacted by name so a pasted config never leaks a token.

use std::fmt::Write;

use toml::{Table, Value};

use super::load::{Loaded, Source};

const SECRET_WORDS: &[&str] = &["token", "password", "secret"];

pub fn render(loaded: &Loaded) -> String {
    let table = Table::try_from(&loaded.config).expect("config serialises to TOML");
    let mut out = String::new();
    let found = if loaded.file_found {
        ""
    } else {
        " (not found; defaults apply)"
    };
    let _ = writeln!(out, "# config file: {}{found}", loaded.file.display());
    let mut sections = Vec::new();
    for (key, value) in &table {
        match value {
            Value::Table(section) => sections.push((key, section)),
            _ => line(&mut out, loaded, key, key, value),
        }
    }
    for (name, section) in sections {
        let _ = writeln!(out, "\n[{name}]");
        for (key, value) in section {
            line(&mut out, loaded, &format!("{name}.{key}"), key, value);
        }
    }
    out
}

fn line(out: &mut String, loaded: &Loaded, dotted: &str, key: &str, value: &Value) {
    let shown = if SECRET_WORDS.iter().any(|w| key.contains(w)) && !is_empty(value) {
        "\"<redacted>\"".to_owned()
    } else {
        redact_headers(value.clone()).to_string()
    };
    let source = match loaded.source(dotted) {
        Source::Default => "default".to_owned(),
        Source::File => "file".to_owned(),
        Source::Env(var) => format!("env {var}"),
        Source::Flag => "flag".to_owned(),
    };
    let assignment = format!("{key} = {shown}");
    let _ = writeln!(out, "{assignment:<48} # {source}");
}

/// Header values of the namespaced registries (`registry.namespaces`) carry credentials.
fn redact_headers(value: Value) -> Value {
    match value {
        Value::Table(table) => Value::Table(
            table
                .into_iter()
                .map(|(key, value)| match value {
                    Value::Table(headers) if key == "headers" => {
                        let redacted = headers
                            .into_iter()
                            .map(|(name, _)| (name, Value::String("<redacted>".into())))
                            .collect();
                        (key, Value::Table(redacted))
                    }
                    other => (key, redact_headers(other)),
                })
                .collect(),
        ),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, load};

    #[test]
    fn shows_every_section_with_sources() {
        let overrides = Overrides {
            config: Some("/nonexistent.toml".into()),
            ..Overrides::default()
        };
        let env = [
            ("HOME".to_string(), "/h".to_string()),
            ("SHADCACHE_TTL_LIST".to_string(), "1h".to_string()),
            // A section whose name holds `_` itself.
            (
                "SHADCACHE_WRITE_BEHIND_CAPACITY".to_string(),
                "77".to_string(),
            ),
            ("SHADCACHE_L2_PASSWORD".to_string(), "pg-canary".to_string()),
        ];
        let text = render(&load(&overrides, env.clone()).unwrap());
        assert!(text.contains("not found; defaults apply"), "{text}");
        assert!(text.contains("[daemon]") && text.contains("[l1]") && text.contains("[ttl]"));
        assert!(!text.contains("pg-canary"), "{text}");
        let loaded = load(&overrides, env.clone()).unwrap();
        assert!(!format!("{:?}", loaded.config).contains("pg-canary"));
        assert_eq!(loaded.config.l2.password.get(), Some("pg-canary"));
        let ttl = &text[text.find("[ttl]").unwrap()..];
        let list = ttl.lines().find(|l| l.starts_with("list =")).unwrap();
        assert!(list.ends_with("# env SHADCACHE_TTL_LIST"), "{list}");
        let behind = &text[text.find("[write_behind]").unwrap()..];
        let capacity = behind
            .lines()
            .find(|l| l.starts_with("capacity ="))
            .unwrap();
        assert!(
            capacity.starts_with("capacity = 77")
                && capacity.ends_with("# env SHADCACHE_WRITE_BEHIND_CAPACITY"),
            "{capacity}"
        );
        let budget = text.lines().find(|l| l.starts_with("max_bytes")).unwrap();
        assert!(
            budget.contains("\"64MiB\"") && budget.ends_with("# default"),
            "{budget}"
        );
    }
}
