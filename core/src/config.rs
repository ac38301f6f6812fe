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
//! [profiles.default.http]
//! timeout = 30                              # seconds; floats allowed
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

use serde::Deserialize;

use crate::auth::Secret;
use crate::error::{Error, Result};

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
    pub login: Option<crate::auth::LoginFlow>,
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
    /// The profile in force (`default` unless one was chosen), for messages
    /// that tell the user which section to edit.
    pub profile: String,
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
    /// The seed of the simulator's made-up values (`OPDECK_MOCK_SEED`);
    /// the same seed gives the same answers.
    pub mock_seed: u64,
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
    pub fn load(profile: Option<&str>) -> Result<Config> {
        let local = PathBuf::from("opdeck.toml");
        let user = dirs::config_dir().map(|d| d.join("opdeck").join("config.toml"));
        let path = [Some(local), user].into_iter().flatten().find(|p| p.is_file());
        let text = match &path {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| Error::config(format!("cannot read config file {}: {e}", p.display())))?,
            ),
            None => None,
        };
        let extra = env_services(std::env::vars().map(|(k, _)| k));
        let env = |name: &str| std::env::var(name).ok();
        build(text.as_deref(), path.as_deref(), &env, profile, extra)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, toml::Table>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    connect_timeout: Option<f64>,
    timeout: Option<f64>,
    retries: Option<u32>,
    backoff: Option<f64>,
    max_backoff: Option<f64>,
    max_body_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    url: Option<toml::Value>,
    variables: Option<HashMap<String, String>>,
    token: Option<toml::Value>,
    username: Option<toml::Value>,
    password: Option<toml::Value>,
    client_id: Option<toml::Value>,
    client_secret: Option<toml::Value>,
    token_url: Option<toml::Value>,
    login: Option<LoginFile>,
}

/// A `[profiles.<name>.<service>.login]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFile {
    call: String,
    username_field: Option<String>,
    password_field: Option<String>,
    #[serde(default)]
    extra: toml::Table,
    token: toml::Value,
    refresh_token: Option<String>,
    refresh: Option<String>,
    header: Option<String>,
    prefix: Option<String>,
    cookie: Option<String>,
    expired: Option<Vec<toml::Value>>,
    #[serde(default)]
    schemes: Vec<String>,
}

impl LoginFile {
    /// The flow the table describes; `key` is `<service>.login` for messages.
    fn into_flow(self, key: &str, place: &Place<'_>) -> Result<crate::auth::LoginFlow> {
        use crate::auth::{Expiry, LoginFlow, Placement, TokenSource};
        let token = match &self.token {
            toml::Value::String(pointer) if pointer.starts_with('/') => TokenSource::Json(pointer.clone()),
            toml::Value::Table(t) if t.len() == 1 && t.get("cookie").is_some_and(toml::Value::is_str) => {
                TokenSource::Cookie(t["cookie"].as_str().unwrap_or_default().to_owned())
            }
            _ => {
                return Err(place.err(
                    &format!("{key}.token"),
                    "expected a JSON pointer such as \"/access_token\", or `{ cookie = \"name\" }`",
                ));
            }
        };
        let placement = match (self.cookie, self.header) {
            (Some(_), Some(_)) => {
                return Err(place.err(key, "`cookie` and `header` both say where the token goes; keep one"));
            }
            (Some(cookie), None) => Placement::Cookie(cookie),
            (None, header) => {
                let name = header.unwrap_or_else(|| "Authorization".to_owned());
                let default_prefix = if name.eq_ignore_ascii_case("authorization") { "Bearer " } else { "" };
                Placement::Header { prefix: self.prefix.unwrap_or_else(|| default_prefix.to_owned()), name }
            }
        };
        let mut flow = LoginFlow::new(route(&self.call, &format!("{key}.call"), place)?, token, placement);
        if let Some(field) = self.username_field {
            flow.username_field = field;
        }
        if let Some(field) = self.password_field {
            flow.password_field = field;
        }
        flow.extra = serde_json::to_value(&self.extra)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .ok_or_else(|| place.err(&format!("{key}.extra"), "expected a table of fixed body keys"))?;
        flow.refresh_token = self.refresh_token;
        flow.refresh = self.refresh.map(|r| route(&r, &format!("{key}.refresh"), place)).transpose()?;
        if let Some(list) = self.expired {
            flow.expired = list.iter().map(|e| expiry(e, &format!("{key}.expired"), place)).collect::<Result<_>>()?;
        }
        flow.schemes = self.schemes;
        return Ok(flow);

        fn expiry(v: &toml::Value, key: &str, place: &Place<'_>) -> Result<Expiry> {
            let shape = "expected a status such as 401, or `{ status = 422, message = \"text\" }`";
            let status = |v: Option<&toml::Value>| {
                v.and_then(toml::Value::as_integer)
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..600).contains(s))
                    .ok_or_else(|| place.err(key, shape))
            };
            match v {
                toml::Value::Integer(_) => Ok(Expiry { status: status(Some(v))?, message: None }),
                toml::Value::Table(t) if t.keys().all(|k| k == "status" || k == "message") => Ok(Expiry {
                    status: status(t.get("status"))?,
                    message: match t.get("message") {
                        None => None,
                        Some(m) => Some(m.as_str().ok_or_else(|| place.err(key, shape))?.to_owned()),
                    },
                }),
                _ => Err(place.err(key, shape)),
            }
        }
    }
}

/// A login or refresh call: `"METHOD /path"` under the base URL, or an
/// operation id of the service.
fn route(text: &str, key: &str, place: &Place<'_>) -> Result<crate::auth::Route> {
    use crate::auth::Route;
    let text = text.trim();
    if let Some((method, path)) = text.split_once(' ') {
        let method = crate::operation::Method::parse(&method.to_ascii_uppercase())
            .ok_or_else(|| place.err(key, format!("`{method}` is not an HTTP method")))?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(place.err(key, "the path must start with `/`"));
        }
        return Ok(Route::Path(method, path.to_owned()));
    }
    if text.split('.').count() == 3 && !text.contains('/') {
        return Ok(Route::Operation(text.to_owned()));
    }
    Err(place.err(key, "expected \"METHOD /path\" or an operation id such as `myapi.auth.login`"))
}

/// Where messages say a key lives.
struct Place<'a> {
    file: &'a str,
    base: Option<&'a Path>,
    profile: &'a str,
}

impl Place<'_> {
    fn err(&self, key: &str, message: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: profile `{}`, key `{key}`: {message}", self.file, self.profile))
    }
}

fn build(
    text: Option<&str>,
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<&str>,
    extra: BTreeSet<String>,
) -> Result<Config> {
    let file = path.map_or_else(|| "config text".to_owned(), |p| p.display().to_string());
    let doc: FileDoc = match text {
        Some(t) => toml::from_str(t).map_err(|e| {
            let line = e.span().map(|s| t[..s.start.min(t.len())].matches('\n').count() + 1);
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            Error::config(format!("{file}{at}: {}", e.message().trim()))
        })?,
        None => FileDoc { profile: None, profiles: Default::default() },
    };
    let env_profile = env("OPDECK_PROFILE").filter(|p| !p.is_empty());
    let asked = profile.map(str::to_owned).or(env_profile).or(doc.profile.clone());
    let name = asked.clone().unwrap_or_else(|| "default".to_owned());
    let table = match doc.profiles.get(&name) {
        Some(t) => t.clone(),
        None if asked.is_none() => toml::Table::new(),
        None => {
            let mut known: Vec<_> = doc.profiles.keys().map(|k| format!("`{k}`")).collect();
            known.sort();
            let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
            return Err(Error::config(format!("{file}: no profile `{name}` (profiles defined: {known})")));
        }
    };
    let place = Place { file: &file, base: path.and_then(Path::parent), profile: &name };
    let mut config = Config { profile: name.clone(), source: path.map(Path::to_path_buf), ..Config::default() };
    if let Some(seed) = env("OPDECK_MOCK_SEED") {
        config.mock_seed = seed
            .trim()
            .parse()
            .map_err(|_| Error::config(format!("OPDECK_MOCK_SEED `{seed}` is not a whole number")))?;
    }
    let mut names: BTreeSet<String> = BUILTIN_SERVICES.iter().map(|s| (*s).to_owned()).collect();
    names.extend(extra);
    for (key, value) in table {
        if key == "http" {
            let http: HttpFile = value.try_into().map_err(|e| place.err("http", e.message().trim()))?;
            apply_http(&mut config.http, http, &place)?;
            continue;
        }
        if !value.is_table() {
            return Err(place.err(&key, "expected a table of service settings (`[profiles.<name>.<service>]`)"));
        }
        let svc: ServiceFile = value.try_into().map_err(|e| place.err(&key, e.message().trim()))?;
        config.services.insert(key.clone(), service_from_file(&key, svc, &place, env)?);
        names.insert(key);
    }
    for service in names {
        let mut svc = config.services.remove(&service).unwrap_or_default();
        apply_env(&service, &mut svc, env);
        if !is_empty(&svc) {
            config.services.insert(service, svc);
        }
    }
    Ok(config)
}

fn apply_http(http: &mut HttpSettings, file: HttpFile, place: &Place<'_>) -> Result<()> {
    let secs = |key: &str, v: f64| {
        Duration::try_from_secs_f64(v).map_err(|_| place.err(&format!("http.{key}"), "expected a non-negative number"))
    };
    if let Some(v) = file.connect_timeout {
        http.connect_timeout = secs("connect_timeout", v)?;
    }
    if let Some(v) = file.timeout {
        http.timeout = secs("timeout", v)?;
    }
    if let Some(v) = file.backoff {
        http.backoff = secs("backoff", v)?;
    }
    if let Some(v) = file.max_backoff {
        http.max_backoff = secs("max_backoff", v)?;
    }
    if let Some(v) = file.retries {
        http.retries = v;
    }
    if let Some(v) = file.max_body_bytes {
        http.max_body_bytes = v;
    }
    Ok(())
}

fn service_from_file(
    service: &str,
    file: ServiceFile,
    place: &Place<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServiceConfig> {
    let value = |key: &str, v: Option<toml::Value>| -> Result<Option<String>> {
        v.map(|v| resolve(&v, &format!("{service}.{key}"), place, env)).transpose()
    };
    Ok(ServiceConfig {
        base_url: value("url", file.url)?,
        variables: file.variables.unwrap_or_default(),
        token: value("token", file.token)?.map(Secret::new),
        username: value("username", file.username)?,
        password: value("password", file.password)?.map(Secret::new),
        client_id: value("client_id", file.client_id)?,
        client_secret: value("client_secret", file.client_secret)?.map(Secret::new),
        token_url: value("token_url", file.token_url)?,
        login: file.login.map(|l| l.into_flow(&format!("{service}.login"), place)).transpose()?,
    })
}

/// A value written as a literal, `{ env = "VAR" }` or `{ file = "path" }`.
fn resolve(value: &toml::Value, key: &str, place: &Place<'_>, env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let shape = "expected a string, `{ env = \"VAR\" }` or `{ file = \"path\" }`";
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Table(t) if t.len() == 1 => {
            let (kind, arg) = t.iter().next().ok_or_else(|| place.err(key, shape))?;
            let arg = arg.as_str().ok_or_else(|| place.err(key, shape))?;
            match kind.as_str() {
                "env" => env(arg).ok_or_else(|| place.err(key, format!("environment variable `{arg}` is not set"))),
                "file" => {
                    let path = expand(arg, place.base);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| place.err(key, format!("cannot read secret file {}: {e}", path.display())))?;
                    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
                }
                other => Err(place.err(key, format!("unknown source `{other}`; {shape}"))),
            }
        }
        _ => Err(place.err(key, shape)),
    }
}

/// `~/x` from the home directory; a relative path from the config file's
/// directory, so a profile works whatever the working directory is.
fn expand(path: &str, base: Option<&Path>) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let p = PathBuf::from(path);
    match base {
        Some(base) if p.is_relative() && !base.as_os_str().is_empty() => base.join(p),
        _ => p,
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
}
