//! The configuration file: `[profiles.<name>.<service>]` tables in TOML,
//! with secrets from the environment or files (feature `config-file`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{Config, HttpSettings, ServiceConfig};
use crate::error::{Error, Result};
use crate::model::Secret;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, toml::Table>,
}

/// A `[profiles.<name>.policy]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    read_only: bool,
    /// `"deny DELETE kitsu.*"`, `"confirm *.*.delete*"`, first match wins.
    #[serde(default)]
    rules: Vec<String>,
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
    fn into_flow(self, key: &str, place: &Place<'_>) -> Result<crate::model::LoginFlow> {
        use crate::model::{Expiry, LoginFlow, Placement, TokenSource};
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
fn route(text: &str, key: &str, place: &Place<'_>) -> Result<crate::model::Route> {
    use crate::model::Route;
    let text = text.trim();
    if let Some((method, path)) = text.split_once(' ') {
        let method = crate::model::Method::parse(&method.to_ascii_uppercase())
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

pub(super) fn build(
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
    config.mock_seed = super::mock_seed(env)?;
    let mut names = extra;
    for (key, value) in table {
        if key == "http" {
            let http: HttpFile = value.try_into().map_err(|e| place.err("http", e.message().trim()))?;
            apply_http(&mut config.http, http, &place)?;
            continue;
        }
        if key == "policy" {
            let policy: PolicyFile = value.try_into().map_err(|e| place.err("policy", e.message().trim()))?;
            config.policy.read_only = policy.read_only;
            for (i, rule) in policy.rules.iter().enumerate() {
                let rule = crate::policy::Policy::parse_rule(rule)
                    .map_err(|e| place.err(&format!("policy.rules[{i}]"), e.to_string()))?;
                config.policy.rules.push(rule);
            }
            continue;
        }
        if !value.is_table() {
            return Err(place.err(&key, "expected a table of service settings (`[profiles.<name>.<service>]`)"));
        }
        let svc: ServiceFile = value.try_into().map_err(|e| place.err(&key, e.message().trim()))?;
        config.services.insert(key.clone(), service_from_file(&key, svc, &place, env)?);
        names.insert(key);
    }
    super::apply_env_all(&mut config, names, env);
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
