//! Configuration: base URLs, credentials, timeouts and retries per service,
//! from the environment and TOML profiles.
//!
//! The file is `opdeck.toml` in the working directory, else
//! `<config dir>/opdeck/config.toml` (`$XDG_CONFIG_HOME` on Linux). It holds
//! named profiles so one machine can talk to staging and production:
//!
//! ```toml
//! profile = "default"                       # the profile used when none is asked for
//!
//! [profiles.default.policy]                 # enforced in the deck, for every front end
//! read_only = false
//! rules = ["deny DELETE kitsu.*", "confirm *.*.delete*"]   # first match wins
//!
//! [profiles.default.http]
//! timeout = 30                              # seconds, floats allowed: the deadline of a whole call
//!                                           # (tries, waits, body, downloads); OPDECK_TIMEOUT wins
//! retries = 2
//!
//! [profiles.default.wildduck]
//! url = "https://mail.example.com/api"
//! token = { env = "WD_TOKEN" }              # or { file = "~/.wd-token" }, or a literal
//!
//! [profiles.default.dracoon]
//! url = "https://{tenant}/api"
//! variables = { tenant = "acme.dracoon.com" }
//! username = "admin"
//! password = { file = "~/.dracoon-pw" }
//! client_id = "opdeck"
//! client_secret = { env = "DRACOON_SECRET" }
//!
//! [profiles.default.myapi.login]            # a login-operation flow for an added service
//! call = "POST /auth/login"                 # or an operation id: "myapi.auth.login"
//! username_field = "email"                  # default "username"; password_field likewise
//! extra = { authType = "basic" }            # fixed keys added to the login body
//! token = "/access_token"                   # a JSON pointer, or { cookie = "sessionid" }
//! refresh_token = "/refresh_token"          # optional, with refresh = "GET /auth/refresh"
//! header = "Authorization"                  # the default; prefix defaults to "Bearer " there
//! expired = [401, { status = 422, message = "Signature has expired" }]   # default [401]
//! ```
//!
//! A login table replaces the built-in profile's flow for that service;
//! `cookie = "name"` sends the token as a cookie instead of a header, and
//! `schemes = ["bearerAuth"]` limits the flow to those security schemes.
//!
//! The environment overrides the file, so CI can inject credentials without
//! writing them to disk: `OPDECK_<SERVICE>_URL`, `_TOKEN`, `_USERNAME`,
//! `_PASSWORD`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_TOKEN_URL`, and
//! `OPDECK_PROFILE` for the profile. Unknown keys are errors, because a typo in
//! `tokne` would otherwise silently send requests without credentials.
//!
//! [`Config::from_sources`] takes the file text and an environment lookup, so
//! tests never touch the process environment.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "config-file")]
mod file;

use crate::error::{Error, Result};
use crate::model::Secret;

/// The `<SERVICE>` part of `OPDECK_<SERVICE>_URL`: the service name upper-cased,
/// with every character that is not a letter or digit turned into `_`.
pub fn env_name(service: &str) -> String {
    service.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// The services whose environment variables are read even when the file does
/// not mention them.
const BUILTIN_SERVICES: [&str; 5] = ["seald", "dracoon", "selfprivacy", "wildduck", "kitsu"];

/// The per-service variable suffixes, longest first so `_CLIENT_ID` is not
/// mistaken for a service ending in `_CLIENT`.
const ENV_KEYS: [&str; 7] = ["CLIENT_SECRET", "CLIENT_ID", "TOKEN_URL", "USERNAME", "PASSWORD", "TOKEN", "URL"];

/// Settings of one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// The base URL requests are sent to; `mock:` selects the simulator.
    pub base_url: Option<String>,
    /// Values for the spec's server variables (`{tenant}`, `{domain}`).
    pub variables: HashMap<String, String>,
    /// A ready credential: the API key, bearer token or OAuth2 access token.
    /// It wins over every flow that would obtain one, until the server
    /// refuses it as expired: then a configured login flow or OAuth2 grant
    /// takes over for the rest of the run.
    pub token: Option<Secret>,
    /// The user for HTTP basic, the OAuth2 password grant and login flows.
    pub username: Option<String>,
    /// The password that goes with `username`.
    pub password: Option<Secret>,
    /// The OAuth2 client id.
    pub client_id: Option<String>,
    /// The OAuth2 client secret.
    pub client_secret: Option<Secret>,
    /// The OAuth2 token URL, when the spec's is missing or wrong; a relative
    /// one is resolved against the base URL.
    pub token_url: Option<String>,
    /// A login flow for this service, replacing the profile's: from a
    /// `login` table in the file, or set from code.
    pub login: Option<crate::model::LoginFlow>,
}

/// How requests are sent, for every service unless a service overrides it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// The deadline of a whole call: every try, the waits between them and
    /// the response body (a download to a file too). `OPDECK_TIMEOUT`, the
    /// file's `http.timeout`, or 60 s; a call's own
    /// [`CallOptions::timeout`](crate::CallOptions) (CLI `--timeout`) wins.
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
    /// The profile in force (`default` unless one was chosen), for messages
    /// that tell the user which section to edit.
    pub profile: String,
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
    /// The seed of the simulator's made-up values (`OPDECK_MOCK_SEED`);
    /// the same seed gives the same answers.
    pub mock_seed: u64,
    /// What the deck may run (`[profiles.<name>.policy]`); a deck built
    /// from this configuration adds the host's own rules after these.
    pub policy: crate::policy::Policy,
}

impl Config {
    /// The settings of `service` (empty ones when it has none). A service
    /// whose name differs only in punctuation from a configured one
    /// (`my-api` and `my_api` share `OPDECK_MY_API_*`) gets that one's settings.
    pub fn service(&self, service: &str) -> ServiceConfig {
        if let Some(found) = self.services.get(service) {
            return found.clone();
        }
        let wanted = env_name(service);
        self.services.iter().find(|(name, _)| env_name(name) == wanted).map(|(_, s)| s.clone()).unwrap_or_default()
    }

    /// The profile name shown in messages.
    pub fn profile_name(&self) -> &str {
        if self.profile.is_empty() { "default" } else { &self.profile }
    }

    /// Loads `opdeck.toml` from the working directory, else the user's
    /// `opdeck/config.toml`, and applies the process environment on top.
    /// `profile` wins over `OPDECK_PROFILE`, which wins over the file's
    /// `profile` key. No file at all is fine: the environment alone configures.
    ///
    /// Without the `config-file` feature only the environment is read.
    pub fn load(profile: Option<&str>) -> Result<Config> {
        #[cfg(feature = "config-file")]
        {
            let local = PathBuf::from("opdeck.toml");
            let user = dirs::config_dir().map(|d| d.join("opdeck").join("config.toml"));
            match [Some(local), user].into_iter().flatten().find(|p| p.is_file()) {
                Some(path) => Config::load_file(&path, profile),
                None => Config::load_env(profile),
            }
        }
        #[cfg(not(feature = "config-file"))]
        Config::load_env(profile)
    }

    /// The configuration of the process environment alone (`OPDECK_*`).
    pub fn load_env(profile: Option<&str>) -> Result<Config> {
        let extra = env_services(std::env::vars().map(|(k, _)| k));
        let env = |name: &str| std::env::var(name).ok();
        build(None, None, &env, profile, extra)
    }

    /// The configuration in the TOML file at `path`, with the process
    /// environment applied on top.
    #[cfg(feature = "config-file")]
    pub fn load_file(path: &Path, profile: Option<&str>) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config file {}: {e}", path.display())))?;
        let extra = env_services(std::env::vars().map(|(k, _)| k));
        let env = |name: &str| std::env::var(name).ok();
        build(Some(&text), Some(path), &env, profile, extra)
    }

    /// Builds a configuration from the text of a config file (if any), an
    /// environment lookup and an optional profile name, without touching the
    /// process environment or the disk (except for `{ file = ... }` secrets).
    pub fn from_sources(
        file_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
        profile: Option<&str>,
    ) -> Result<Config> {
        build(file_text, None, &env, profile, BTreeSet::new())
    }
}

/// Service names mentioned by `OPDECK_<SERVICE>_<KEY>` variables.
fn env_services(names: impl Iterator<Item = String>) -> BTreeSet<String> {
    names
        .filter_map(|name| {
            let rest = name.strip_prefix("OPDECK_")?;
            let service = ENV_KEYS.iter().find_map(|k| rest.strip_suffix(k)?.strip_suffix('_'))?;
            (!service.is_empty()).then(|| service.to_ascii_lowercase())
        })
        .collect()
}

/// Builds the configuration from the file text (if any) and the environment.
fn build(
    text: Option<&str>,
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<&str>,
    extra: BTreeSet<String>,
) -> Result<Config> {
    #[cfg(feature = "config-file")]
    if text.is_some() || path.is_some() {
        let mut config = file::build(text, path, env, profile, extra)?;
        env_timeout(&mut config.http, env)?;
        return Ok(config);
    }
    if text.is_some() {
        return Err(Error::config("reading a config file needs opdeck's `config-file` feature"));
    }
    let _ = path;
    let env_profile = env("OPDECK_PROFILE").filter(|p| !p.is_empty());
    let name = profile.map(str::to_owned).or(env_profile).unwrap_or_else(|| "default".to_owned());
    let mut config = Config { profile: name, mock_seed: mock_seed(env)?, ..Config::default() };
    env_timeout(&mut config.http, env)?;
    apply_env_all(&mut config, extra, env);
    Ok(config)
}

/// `OPDECK_TIMEOUT` (seconds, floats allowed), when set: the deadline of a
/// whole call, over the file's `[profiles.<p>.http] timeout`.
fn env_timeout(http: &mut HttpSettings, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let Some(text) = env("OPDECK_TIMEOUT").filter(|t| !t.trim().is_empty()) else { return Ok(()) };
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| Error::config(format!("OPDECK_TIMEOUT `{text}` is not a number of seconds")))?;
    http.timeout = Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::config(format!("OPDECK_TIMEOUT `{text}` must be a positive number of seconds")))?;
    Ok(())
}

/// `OPDECK_MOCK_SEED`, when set.
fn mock_seed(env: &dyn Fn(&str) -> Option<String>) -> Result<u64> {
    match env("OPDECK_MOCK_SEED") {
        None => Ok(0),
        Some(seed) => {
            seed.trim().parse().map_err(|_| Error::config(format!("OPDECK_MOCK_SEED `{seed}` is not a whole number")))
        }
    }
}

/// Applies the environment to the built-in services, the services in
/// `names` and those already configured; drops the ones left empty.
fn apply_env_all(config: &mut Config, names: BTreeSet<String>, env: &dyn Fn(&str) -> Option<String>) {
    let mut all: BTreeSet<String> = BUILTIN_SERVICES.iter().map(|s| (*s).to_owned()).collect();
    all.extend(names);
    all.extend(config.services.keys().cloned());
    for service in all {
        let mut svc = config.services.remove(&service).unwrap_or_default();
        apply_env(&service, &mut svc, env);
        if !is_empty(&svc) {
            config.services.insert(service, svc);
        }
    }
}

fn apply_env(service: &str, svc: &mut ServiceConfig, env: &dyn Fn(&str) -> Option<String>) {
    let prefix = format!("OPDECK_{}_", env_name(service));
    let get = |key: &str| env(&format!("{prefix}{key}")).filter(|v| !v.is_empty());
    if let Some(v) = get("URL") {
        svc.base_url = Some(v);
    }
    if let Some(v) = get("TOKEN") {
        svc.token = Some(Secret::new(v));
    }
    if let Some(v) = get("USERNAME") {
        svc.username = Some(v);
    }
    if let Some(v) = get("PASSWORD") {
        svc.password = Some(Secret::new(v));
    }
    if let Some(v) = get("CLIENT_ID") {
        svc.client_id = Some(v);
    }
    if let Some(v) = get("CLIENT_SECRET") {
        svc.client_secret = Some(Secret::new(v));
    }
    if let Some(v) = get("TOKEN_URL") {
        svc.token_url = Some(v);
    }
}

fn is_empty(s: &ServiceConfig) -> bool {
    s.base_url.is_none()
        && s.variables.is_empty()
        && s.token.is_none()
        && s.username.is_none()
        && s.password.is_none()
        && s.client_id.is_none()
        && s.client_secret.is_none()
        && s.token_url.is_none()
        && s.login.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_name_uppercases_and_replaces_punctuation() {
        assert_eq!(env_name("wildduck"), "WILDDUCK");
        assert_eq!(env_name("my-api.v2"), "MY_API_V2");
    }

    #[test]
    fn env_services_split_on_the_longest_key() {
        let names = ["OPDECK_PET_STORE_CLIENT_ID", "OPDECK_FOO_URL", "OPDECK_PROFILE", "HOME", "OPDECK__TOKEN"];
        let found = env_services(names.iter().map(|s| (*s).to_owned()));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["foo", "pet_store"]);
    }

    #[test]
    fn service_lookup_falls_back_to_the_env_name() {
        let mut config = Config::default();
        config.services.insert("my_api".into(), ServiceConfig { base_url: Some("u".into()), ..Default::default() });
        assert_eq!(config.service("my-api").base_url.as_deref(), Some("u"));
        assert_eq!(config.service("other").base_url, None);
    }

    /// Finding 4 (issue 16): the whole-call deadline is settable from the
    /// environment, over the file.
    #[test]
    fn finding_4_opdeck_timeout_sets_the_call_deadline_over_the_file() {
        let env = |k: &str| (k == "OPDECK_TIMEOUT").then(|| "2.5".to_owned());
        assert_eq!(Config::from_sources(None, env, None).expect("env").http.timeout, Duration::from_millis(2500));
        #[cfg(feature = "config-file")]
        {
            let file = "[profiles.default.http]\ntimeout = 7\n";
            assert_eq!(
                Config::from_sources(Some(file), |_| None, None).expect("file").http.timeout,
                Duration::from_secs(7)
            );
            let both = Config::from_sources(Some(file), env, None).expect("both");
            assert_eq!(both.http.timeout, Duration::from_millis(2500));
        }
        let bad = Config::from_sources(None, |k: &str| (k == "OPDECK_TIMEOUT").then(|| "soon".to_owned()), None);
        assert!(bad.expect_err("not a number").to_string().contains("OPDECK_TIMEOUT"));
    }
}
