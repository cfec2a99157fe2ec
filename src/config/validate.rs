//! The range checks serde cannot express, run on the merged configuration before anything
//! starts on it.

use super::model::{Config, L2Backend, RegistryConfig};

impl Config {
    /// Range checks serde cannot express. Returns the first problem, naming the key.
    pub(super) fn validate(&self) -> Result<(), String> {
        let d = &self.daemon;
        if d.max_frame_size.bytes() < 4096 {
            return Err(format!(
                "daemon.max_frame_size = {}: must be at least 4KiB",
                d.max_frame_size
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&d.log_level) {
            return Err(format!("daemon.log_level = {:?}: {e}", d.log_level));
        }
        if d.max_connections == 0 {
            return Err("daemon.max_connections must be at least 1".into());
        }
        if d.max_pipeline == 0 {
            return Err("daemon.max_pipeline must be at least 1".into());
        }
        if self.l1.max_bytes.bytes() < 64 * 1024 {
            return Err(format!(
                "l1.max_bytes = {}: must be at least 64KiB",
                self.l1.max_bytes
            ));
        }
        let durations = [
            ("daemon.frame_timeout", d.frame_timeout),
            ("daemon.request_timeout", d.request_timeout),
            ("daemon.restart_window", d.restart_window),
            ("l1.sweep_interval", self.l1.sweep_interval),
            ("l2.maintenance_interval", self.l2.maintenance_interval),
            ("l2.access_flush_interval", self.l2.access_flush_interval),
            ("l2.sync_interval", self.l2.sync_interval),
            ("breaker.window", self.breaker.window),
            ("breaker.cooldown", self.breaker.cooldown),
            ("write_behind.max_age", self.write_behind.max_age),
            ("github.connect_timeout", self.github.connect_timeout),
            ("github.first_byte_timeout", self.github.first_byte_timeout),
            ("github.idle_timeout", self.github.idle_timeout),
            ("github.timeout", self.github.timeout),
            ("refresh_ahead.interval", self.refresh_ahead.interval),
        ];
        for (key, value) in durations {
            if value.is_zero() {
                return Err(format!("{key} must be longer than zero"));
            }
        }
        if !(1..=8).contains(&self.prefetch.depth) {
            return Err(format!(
                "prefetch.depth = {}: must be 1 to 8 (set prefetch.enabled = false for none)",
                self.prefetch.depth
            ));
        }
        if let Some(bad) = self
            .prefetch
            .base_colors()
            .find(|c| c.len() > 64 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(format!(
                "prefetch.base_colors: `{bad}` is not a color name (letters, digits and `-`)"
            ));
        }
        for (kind, ttl) in self.ttl.iter() {
            if ttl.0.is_zero() {
                return Err(format!("ttl.{kind} must be longer than zero"));
            }
        }
        // A client must hear the daemon's reason, so the daemon gives up on GitHub first.
        if self.github.enabled && d.request_timeout <= self.github.timeout {
            return Err(format!(
                "daemon.request_timeout = {} must be longer than github.timeout = {}, so that \
                 a client hears why GitHub failed rather than a timeout",
                humantime::format_duration(d.request_timeout),
                humantime::format_duration(self.github.timeout)
            ));
        }
        check_url("github.api_url", &self.github.api_url)?;
        check_url("github.raw_url", &self.github.raw_url)?;
        if self.github.max_concurrent == 0 || self.github.requests_per_second == 0 {
            return Err(
                "github.max_concurrent and github.requests_per_second must be at least 1".into(),
            );
        }
        if self.l2.pool_size == 0 || self.l2.pool_size > 64 {
            return Err(format!(
                "l2.pool_size = {}: must be between 1 and 64",
                self.l2.pool_size
            ));
        }
        if self.l2.backend == L2Backend::Postgres && self.l2.url.is_empty() {
            return Err("l2.backend = \"postgres\" needs l2.url".into());
        }
        let b = &self.breaker;
        if !(b.failure_rate > 0.0 && b.failure_rate <= 1.0) {
            return Err(format!(
                "breaker.failure_rate = {}: must be above 0 and at most 1",
                b.failure_rate
            ));
        }
        if b.min_failures == 0 || b.probes == 0 {
            return Err("breaker.min_failures and breaker.probes must be at least 1".into());
        }
        let w = &self.write_behind;
        if w.capacity == 0 || w.batch == 0 {
            return Err("write_behind.capacity and write_behind.batch must be at least 1".into());
        }
        self.registry.validate()?;
        if self.socket.as_os_str().is_empty() || self.data_dir.as_os_str().is_empty() {
            return Err("socket and data_dir must not be empty".into());
        }
        Ok(())
    }
}

/// The names the built-in registries take in URLs and keys; a namespace may not take them.
pub const BUILT_IN_REGISTRIES: [&str; 3] = ["shadcn", "svelte", "vue"];

impl RegistryConfig {
    /// `registry.timeout`, kept under `daemon.request_timeout` so a client hears why the
    /// registry failed rather than a timeout (a config that lowered the one need not lower
    /// the other).
    pub fn budget(&self, request_timeout: std::time::Duration) -> std::time::Duration {
        self.timeout.min(request_timeout.mul_f64(0.8))
    }

    fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        match self.listen.parse::<std::net::SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => {}
            Ok(addr) => {
                return Err(format!(
                    "registry.listen = {:?}: {} is not a loopback address; the listener \
                     serves this user's cache and must not be reachable from other machines",
                    self.listen,
                    addr.ip()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "registry.listen = {:?}: must be 127.0.0.1:PORT or [::1]:PORT",
                    self.listen
                ));
            }
        }
        for (key, url) in [
            ("registry.shadcn_url", &self.shadcn_url),
            ("registry.svelte_url", &self.svelte_url),
            ("registry.vue_url", &self.vue_url),
        ] {
            check_url(key, url)?;
        }
        for (namespace, config) in &self.namespaces {
            let name = namespace.strip_prefix('@').unwrap_or_default();
            let well_formed = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'-'
                        || b == b'_'
                        || b == b'.'
                })
                && !name.starts_with('.');
            if !well_formed {
                return Err(format!(
                    "registry.namespaces.{namespace:?}: a namespace is `@` and 1 to 64 of a-z 0-9 - _ ."
                ));
            }
            if BUILT_IN_REGISTRIES.contains(&name) {
                return Err(format!(
                    "registry.namespaces.{namespace:?}: `{name}` is a built-in registry (registry.{name}_url)"
                ));
            }
            let key = format!("registry.namespaces.{namespace:?}");
            check_url(&key, config.url())?;
            if !config.url().contains("{name}") {
                return Err(format!("{key}: the URL must contain `{{name}}`"));
            }
            for (header, _) in config.headers() {
                if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
                    return Err(format!("{key}: `{header}` is not a header name"));
                }
            }
        }
        for (key, value) in [
            ("registry.connect_timeout", self.connect_timeout),
            ("registry.first_byte_timeout", self.first_byte_timeout),
            ("registry.idle_timeout", self.idle_timeout),
            ("registry.timeout", self.timeout),
        ] {
            if value.is_zero() {
                return Err(format!("{key} must be longer than zero"));
            }
        }
        if self.max_concurrent == 0 || self.requests_per_second == 0 {
            return Err(
                "registry.max_concurrent and registry.requests_per_second must be at least 1"
                    .into(),
            );
        }
        Ok(())
    }
}

fn check_url(key: &str, url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/') {
        return Err(format!(
            "{key} = {url:?}: must be an http(s) URL without a trailing `/`"
        ));
    }
    Ok(())
}
