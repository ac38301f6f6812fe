//! Configuration: base URLs, credentials, timeouts and retries per service,
//! from the environment and TOML profiles.
//!
//! (The loading from files, profiles and env references is written by the
//! HTTP/auth issue; the fields below are the contract the rest of the crate
//! reads.)

use std::collections::HashMap;
use std::time::Duration;

/// The `<SERVICE>` part of `OPDECK_<SERVICE>_URL`: the service name upper-cased,
/// with every character that is not a letter or digit turned into `_`.
pub fn env_name(service: &str) -> String {
    service.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// Settings of one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// The base URL requests are sent to; `mock:` selects the simulator.
    pub base_url: Option<String>,
    /// Values for the spec's server variables (`{tenant}`, `{domain}`).
    pub variables: HashMap<String, String>,
}

/// How requests are sent, for every service unless a service overrides it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, response body included.
    pub timeout: Duration,
    /// How many times a failed idempotent request is retried.
    pub retries: u32,
    /// The first backoff delay; it doubles on each retry, with jitter.
    pub backoff: Duration,
    /// The longest backoff or `Retry-After` wait honoured.
    pub max_backoff: Duration,
    /// The largest response body kept in memory; larger ones must be
    /// streamed to a file.
    pub max_body_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retries: 2,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Everything configured.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Per-service settings, by service name.
    pub services: HashMap<String, ServiceConfig>,
    /// Transport settings.
    pub http: HttpSettings,
}

impl Config {
    /// The settings of `service` (empty ones when it has none).
    pub fn service(&self, service: &str) -> ServiceConfig {
        self.services.get(service).cloned().unwrap_or_default()
    }
}
