//! Choosing a credential for an operation, and putting it on a request.
//!
//! [`plan`] is pure: from the operation's security alternatives, the spec's
//! schemes, the service's configuration and its profile, it decides which
//! alternative to satisfy and how, without any I/O. That lets the dry run show
//! exactly where credentials would go, and lets the error for missing
//! credentials name every variable that would fix it.

use base64::Engine as _;

use super::oauth2::{Grant, GrantKind};
use crate::config::{Config, ServiceConfig, env_name};
use crate::error::{Error, Result};
use crate::model::{Location, OperationMeta, SecurityScheme};
use crate::model::{LoginFlow, Placement, Secret};
use crate::services::ServiceProfile;
use crate::wire::{Pair, Request};

/// Where a credential goes in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A header: `prefix` then the credential.
    Header { name: String, prefix: String },
    /// A query parameter.
    Query(String),
    /// A cookie, merged into the `Cookie` header.
    Cookie(String),
}

impl From<Placement> for Target {
    fn from(p: Placement) -> Self {
        match p {
            Placement::Header { name, prefix } => Target::Header { name, prefix },
            Placement::Cookie(name) => Target::Cookie(name),
        }
    }
}

fn bearer() -> Target {
    Target::Header { name: "Authorization".into(), prefix: "Bearer ".into() }
}

/// Where a credential comes from.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// Configured as is (`OPDECK_<SERVICE>_TOKEN`).
    Static(Secret),
    /// HTTP basic from the configured username and password.
    Basic { username: String, password: Secret },
    /// Fetched from an OAuth2 token endpoint and cached.
    OAuth2(Grant),
    /// Obtained by the profile's login flow and cached.
    Login(Box<LoginFlow>),
}

/// One scheme of the chosen alternative, ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The session cache key (`<service>/<flow>`), for cached sources.
    pub(crate) key: String,
    pub(crate) target: Target,
    pub(crate) credential: Credential,
}

/// The steps that satisfy `meta`'s security; empty when it needs none.
/// Alternatives that need credentials win over an anonymous `{}` one, so a
/// configured token is sent whenever the spec allows it.
///
/// With `skip_token`, the configured token is passed over (the server
/// refused it as expired), so a flow that can obtain a fresh one is used.
pub(crate) fn steps(
    config: &Config,
    profile: &ServiceProfile,
    meta: &OperationMeta,
    skip_token: bool,
) -> Result<Vec<Step>> {
    if meta.security.is_empty() {
        return Ok(Vec::new());
    }
    let mut svc = config.service(&meta.service);
    if skip_token {
        svc.token = None;
    }
    let login = svc.login.as_ref().or(profile.login.as_ref());
    let mut anonymous = false;
    for alternative in &meta.security {
        if alternative.0.is_empty() {
            anonymous = true;
            continue;
        }
        let steps: Option<Vec<Step>> =
            alternative.0.iter().map(|(name, scopes)| step(meta, name, scopes, &svc, profile, login)).collect();
        if let Some(steps) = steps {
            return Ok(steps);
        }
    }
    if anonymous {
        return Ok(Vec::new());
    }
    Err(missing(config, profile, meta, &svc, login))
}

/// Where the spec itself says the first alternative's credentials go, login
/// flows aside: what the simulator, which knows only the spec, checks for.
pub(crate) fn spec_targets(meta: &OperationMeta) -> Vec<Target> {
    targets(meta, None)
}

fn targets(meta: &OperationMeta, flow: Option<&LoginFlow>) -> Vec<Target> {
    let Some(alternative) = meta.security.iter().find(|a| !a.0.is_empty()) else { return Vec::new() };
    alternative
        .0
        .iter()
        .filter_map(|(name, _)| {
            let login = flow.filter(|f| f.covers(name));
            match meta.security_schemes.get(name)? {
                SecurityScheme::ApiKey { name: n, location } => key_target(n, *location, flow),
                SecurityScheme::Http { scheme, .. } => Some(http_target(scheme)),
                _ => Some(login.map_or_else(bearer, |f| f.placement.clone().into())),
            }
        })
        .collect()
}

fn step(
    meta: &OperationMeta,
    name: &str,
    scopes: &[String],
    svc: &ServiceConfig,
    profile: &ServiceProfile,
    flow: Option<&LoginFlow>,
) -> Option<Step> {
    let scheme = meta.security_schemes.get(name)?;
    let service = &meta.service;
    let login = flow.filter(|f| f.covers(name));
    let user_pass = svc.username.clone().zip(svc.password.clone());
    let by_login = || {
        let flow = login?.clone();
        user_pass.as_ref()?;
        Some(Step {
            key: format!("{service}/login"),
            target: flow.placement.clone().into(),
            credential: Credential::Login(Box::new(flow)),
        })
    };
    let by_token = |target: Target| {
        let token = svc.token.clone()?;
        Some(Step { key: String::new(), target, credential: Credential::Static(token) })
    };
    match scheme {
        SecurityScheme::ApiKey { name: n, location } => by_token(key_target(n, *location, flow)?).or_else(by_login),
        // Basic needs a user: a token is meant for bearer-like schemes.
        SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
            let (username, password) = user_pass.clone()?;
            Some(Step {
                key: String::new(),
                target: http_target(scheme),
                credential: Credential::Basic { username, password },
            })
        }
        SecurityScheme::Http { scheme, .. } => by_token(http_target(scheme)).or_else(by_login),
        SecurityScheme::OAuth2 { password_token_url, client_credentials_token_url, .. } => by_token(bearer())
            .or_else(|| {
                grant(svc, profile, login.is_some(), password_token_url, client_credentials_token_url, scopes).map(
                    |g| Step {
                        key: format!("{service}/oauth2/{name}"),
                        target: bearer(),
                        credential: Credential::OAuth2(g),
                    },
                )
            })
            .or_else(by_login),
        SecurityScheme::OpenIdConnect { .. } => by_token(bearer()).or_else(by_login),
    }
}

fn grant(
    svc: &ServiceConfig,
    profile: &ServiceProfile,
    has_login: bool,
    password_url: &Option<String>,
    client_url: &Option<String>,
    scopes: &[String],
) -> Option<Grant> {
    let fixed = svc.token_url.clone().or_else(|| profile.token_url.clone());
    let base = |kind: GrantKind, url: String| Grant {
        kind,
        token_url: url,
        client_id: svc.client_id.clone(),
        client_secret: svc.client_secret.clone(),
        scopes: scopes.to_vec(),
    };
    // Without a client id, a service with a login flow logs in that way instead.
    if let (Some((username, password)), Some(url)) =
        (svc.username.clone().zip(svc.password.clone()), fixed.clone().or_else(|| password_url.clone()))
        && (svc.client_id.is_some() || !has_login)
    {
        return Some(base(GrantKind::Password { username, password }, url));
    }
    if svc.client_id.is_some() && svc.client_secret.is_some() {
        let url = fixed.or_else(|| client_url.clone())?;
        return Some(base(GrantKind::ClientCredentials, url));
    }
    None
}

/// An API key's target; a header the profile's login flow also fills takes
/// that flow's prefix, so `OPDECK_KITSU_TOKEN=<jwt>` becomes `Bearer <jwt>`.
fn key_target(name: &str, location: Location, flow: Option<&LoginFlow>) -> Option<Target> {
    match location {
        Location::Header => {
            let prefix = match flow.map(|f| &f.placement) {
                Some(Placement::Header { name: n, prefix }) if n.eq_ignore_ascii_case(name) => prefix.clone(),
                _ => String::new(),
            };
            Some(Target::Header { name: name.to_owned(), prefix })
        }
        Location::Query => Some(Target::Query(name.to_owned())),
        Location::Cookie => Some(Target::Cookie(name.to_owned())),
        Location::Path => None,
    }
}

/// `Authorization: Bearer …`, `Basic …`, or the scheme's own word.
fn http_target(scheme: &str) -> Target {
    let word = match scheme.to_ascii_lowercase().as_str() {
        "bearer" => "Bearer".to_owned(),
        "basic" => "Basic".to_owned(),
        _ => scheme.to_owned(),
    };
    Target::Header { name: "Authorization".into(), prefix: format!("{word} ") }
}

/// The value of HTTP basic credentials.
pub(crate) fn basic(username: &str, password: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()))
}

/// Puts `value` where `target` says, always as a sensitive pair.
pub(crate) fn place(request: &mut Request, target: &Target, value: &str) {
    match target {
        Target::Header { name, prefix } => {
            let has_prefix = !prefix.is_empty()
                && value.len() >= prefix.len()
                && value.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
            let full = if has_prefix { value.to_owned() } else { format!("{prefix}{value}") };
            request.set_header(Pair::secret(name.clone(), full));
        }
        Target::Query(name) => {
            request.set_secret_query(name, value);
        }
        Target::Cookie(name) => {
            let mut cookies: Vec<String> = request
                .header("Cookie")
                .map(|p| {
                    p.value
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty() && c.split('=').next() != Some(name.as_str()))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            cookies.push(format!("{name}={value}"));
            request.set_header(Pair::secret("Cookie", cookies.join("; ")));
        }
    }
}

/// The error for an operation whose security no configuration satisfies.
fn missing(
    config: &Config,
    profile: &ServiceProfile,
    meta: &OperationMeta,
    svc: &ServiceConfig,
    flow: Option<&LoginFlow>,
) -> Error {
    let var = env_name(&meta.service);
    let mut needs = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let mut hint = |h: String| {
        if !hints.contains(&h) {
            hints.push(h);
        }
    };
    let pair = |a: &str, b: &str| format!("OPDECK_{var}_{a} and OPDECK_{var}_{b}");
    for alternative in &meta.security {
        let mut parts = Vec::new();
        for (name, _) in &alternative.0 {
            let Some(scheme) = meta.security_schemes.get(name) else {
                parts.push(format!("`{name}` (not declared by the spec)"));
                continue;
            };
            let (what, needed): (String, Vec<String>) = match scheme {
                SecurityScheme::ApiKey { name: n, location } => {
                    (format!("api key in {} `{n}`", location.as_str()), vec![format!("OPDECK_{var}_TOKEN")])
                }
                SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                    ("http basic".into(), vec![pair("USERNAME", "PASSWORD")])
                }
                SecurityScheme::Http { scheme, .. } => (format!("http {scheme}"), vec![format!("OPDECK_{var}_TOKEN")]),
                SecurityScheme::OAuth2 { password_token_url, client_credentials_token_url, .. } => {
                    let mut v = vec![format!("OPDECK_{var}_TOKEN"), pair("CLIENT_ID", "CLIENT_SECRET")];
                    let known = svc.token_url.is_some()
                        || profile.token_url.is_some()
                        || password_token_url.is_some()
                        || client_credentials_token_url.is_some();
                    if !known {
                        v.push(format!("OPDECK_{var}_TOKEN_URL"));
                    }
                    ("oauth2".into(), v)
                }
                SecurityScheme::OpenIdConnect { .. } => ("openid connect".into(), vec![format!("OPDECK_{var}_TOKEN")]),
            };
            parts.push(format!("`{name}` ({what})"));
            needed.into_iter().for_each(&mut hint);
            if flow.is_some_and(|f| f.covers(name)) {
                hint(pair("USERNAME", "PASSWORD"));
            }
        }
        needs.push(parts.join(" + "));
    }
    Error::Auth {
        service: meta.service.clone(),
        message: format!(
            "`{}` needs {}; set {} (or the same keys in lowercase under [profiles.{}.{}] in the config file; \
             a host or binding passes them to the deck: `token` or `login` on the builder, `credentials` in Python and Lua)",
            meta.id,
            needs.join(" or "),
            hints.join(", or "),
            config.profile_name(),
            meta.service
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;
    use crate::wire::REDACTED;

    fn request() -> Request {
        Request::new("x.y.z", Method::Get, url::Url::parse("http://127.0.0.1/").expect("url"))
    }

    #[test]
    fn cookies_merge_with_existing_ones_and_the_header_turns_sensitive() {
        let mut req = request();
        req.headers.push(Pair::plain("Cookie", "lang=en; sessionid=old"));
        place(&mut req, &Target::Cookie("sessionid".into()), "s3cret");
        let cookie = req.header("cookie").expect("cookie header");
        assert_eq!(cookie.value, "lang=en; sessionid=s3cret");
        assert_eq!(cookie.shown(), REDACTED);
    }

    #[test]
    fn header_prefixes_are_not_doubled_and_query_keys_replace() {
        let mut req = request();
        place(&mut req, &bearer(), "bearer abc");
        assert_eq!(req.header("authorization").map(|p| &*p.value), Some("bearer abc"));
        place(&mut req, &Target::Query("access_token".into()), "one");
        place(&mut req, &Target::Query("access_token".into()), "two");
        assert_eq!(req.query(), "access_token=two");
        assert_eq!(req.secret_query, ["access_token"]);
        assert!(req.redacted_url().ends_with(&format!("?access_token={REDACTED}")), "{}", req.redacted_url());
        assert!(format!("{req:?}").contains(REDACTED) && !format!("{req:?}").contains("two"));
    }

    #[test]
    fn basic_is_base64_of_user_colon_password() {
        assert_eq!(basic("Aladdin", &Secret::new("open sesame")), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
