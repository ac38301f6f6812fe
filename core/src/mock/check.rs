//! Whether a serialized request is one the spec accepts, judged the way
//! Prism judges it: credentials first (401), then the body's media type
//! (415), then every parameter and the body against their schemas (422, or
//! the 400 the spec declares). Every violation is listed, not only the first.

use serde::Serialize;
use serde_json::Value;

use crate::model::{Location, OperationMeta, SecurityScheme};
use crate::schema::attach_defs;
use crate::wire::{Payload, Request};

use super::body;
use super::params;

/// One broken rule, in the shape Prism's `validation` array uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where: `["query", "limit"]`, `["body", "name"]`, `["path", "id"]`.
    pub location: Vec<String>,
    /// Always `Error`: the simulator has no warnings.
    pub severity: &'static str,
    /// The rule: a JSON Schema keyword, `required`, or `parse`.
    pub code: String,
    /// What is wrong, in lowercase words.
    pub message: String,
}

/// The judgement of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The spec accepts the request.
    Valid,
    /// No security alternative's credentials are all present; holds the
    /// `WWW-Authenticate` challenges.
    Unauthorized(Vec<String>),
    /// The body's content type is not one the operation takes.
    UnsupportedMediaType { sent: String, offered: Vec<String> },
    /// Parameters or body break the spec.
    Invalid(Vec<Issue>),
}

/// The compiled schemas of one operation's parameters and body media.
/// A schema that does not compile is not checked rather than failing every
/// call: the spec loader has already warned about it.
pub(crate) struct Checks {
    params: Vec<Option<jsonschema::Validator>>,
    bodies: Vec<Option<jsonschema::Validator>>,
}

fn compile(meta: &OperationMeta, schema: &Value) -> Option<jsonschema::Validator> {
    let schema = attach_defs(&meta.definitions, schema.clone());
    jsonschema::draft202012::options().should_validate_formats(true).build(&schema).ok()
}

impl Checks {
    /// Compiles every schema `meta` declares for its request.
    pub(crate) fn compile(meta: &OperationMeta) -> Self {
        Checks {
            params: meta.parameters.iter().map(|p| compile(meta, &p.schema)).collect(),
            bodies: meta.body.iter().flat_map(|b| &b.media).map(|m| compile(meta, &m.schema)).collect(),
        }
    }
}

/// Header parameters OpenAPI says to ignore: the transport sets them.
fn ignored_header(name: &str) -> bool {
    ["accept", "content-type", "authorization"].iter().any(|h| name.eq_ignore_ascii_case(h))
}

fn issue(location: &[&str], code: &str, message: impl Into<String>) -> Issue {
    Issue {
        location: location.iter().map(|s| (*s).to_owned()).collect(),
        severity: "Error",
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Checks `value` with `validator`, adding one issue per violation under `at`.
/// A `secret` value is never quoted: the message then names only the rule.
fn schema_issues(
    validator: Option<&jsonschema::Validator>,
    value: &Value,
    at: &[&str],
    secret: bool,
    out: &mut Vec<Issue>,
) {
    let Some(v) = validator else { return };
    for e in v.iter_errors(value) {
        let mut location: Vec<String> = at.iter().map(|s| (*s).to_owned()).collect();
        location.extend(e.instance_path().to_string().split('/').filter(|s| !s.is_empty()).map(str::to_owned));
        out.push(Issue {
            location,
            severity: "Error",
            code: e.kind().keyword().to_owned(),
            message: if secret {
                format!("the value breaks the `{}` rule of its schema", e.kind().keyword())
            } else {
                e.to_string().to_lowercase()
            },
        });
    }
}

/// Judges `request` against `meta`; `path_values` are the decoded values the
/// route matched.
pub(crate) fn check(
    meta: &OperationMeta,
    checks: &Checks,
    request: &Request,
    path_values: &[(String, String)],
) -> Verdict {
    if let Err(challenges) = authorized(meta, request) {
        return Verdict::Unauthorized(challenges);
    }
    let sent = request.body.content_type().or(request.header("content-type").map(|p| &*p.value)).map(body::essence);
    let present = body::is_present(&request.body);
    let mut issues = Vec::new();
    let mut media_index = None;
    match (&meta.body, present) {
        (None, true) => {
            return Verdict::UnsupportedMediaType { sent: sent.clone().unwrap_or_default(), offered: Vec::new() };
        }
        (Some(spec), true) => {
            let sent = sent.clone().unwrap_or_default();
            match spec.media.iter().position(|m| body::offers(&m.content_type, &sent)) {
                Some(i) => media_index = Some(i),
                None if spec.media.is_empty() => {}
                None => {
                    let offered = spec.media.iter().map(|m| m.content_type.clone()).collect();
                    return Verdict::UnsupportedMediaType { sent, offered };
                }
            }
        }
        (Some(spec), false) if spec.required => issues.push(issue(&["body"], "required", "a request body is required")),
        _ => {}
    }
    parameter_issues(meta, checks, request, path_values, &mut issues);
    if let (Some(i), Some(spec)) = (media_index, &meta.body) {
        let media = &spec.media[i];
        let sent = sent.unwrap_or_default();
        match body::decode(&meta.definitions, media, &sent, &request.body) {
            Ok(Some(value)) => {
                schema_issues(checks.bodies.get(i).and_then(Option::as_ref), &value, &["body"], false, &mut issues)
            }
            Ok(None) => {}
            Err(message) => issues.push(issue(&["body"], "parse", message)),
        }
    }
    if issues.is_empty() { Verdict::Valid } else { Verdict::Invalid(issues) }
}

fn parameter_issues(
    meta: &OperationMeta,
    checks: &Checks,
    request: &Request,
    path_values: &[(String, String)],
    issues: &mut Vec<Issue>,
) {
    let defs = &meta.definitions;
    // The query as a server reads it: the wire's query, decoded.
    let decoded: Vec<(String, String)> = request.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let query: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cookie_pair = request.header("cookie");
    let cookies = params::cookies(cookie_pair.map_or("", |p| &*p.value));
    for (p, validator) in meta.parameters.iter().zip(&checks.params) {
        let secret = match p.location {
            Location::Path => false,
            Location::Query => request.is_secret_query(&p.name),
            Location::Header => request.header(&p.name).is_some_and(|h| h.sensitive),
            Location::Cookie => cookie_pair.is_some_and(|c| c.sensitive),
        };
        let value = match p.location {
            Location::Path => path_values.iter().find(|(n, _)| *n == p.name).map(|(_, v)| params::single(defs, p, v)),
            Location::Query => params::from_pairs(defs, p, &query),
            Location::Header if ignored_header(&p.name) => continue,
            Location::Header => request.header(&p.name).map(|h| params::single(defs, p, &h.value)),
            Location::Cookie => params::from_pairs(defs, p, &cookies),
        };
        let at = [p.location.as_str(), p.name.as_str()];
        match value {
            Some(v) => schema_issues(validator.as_ref(), &v, &at, secret, issues),
            None if p.required => issues.push(issue(&at, "required", format!("`{}` is required", p.name))),
            None => {}
        }
    }
}

/// Ok when the operation needs no credentials or one alternative's are all
/// present; else the challenges a 401 carries.
fn authorized(meta: &OperationMeta, request: &Request) -> Result<(), Vec<String>> {
    if meta.security.is_empty() {
        return Ok(());
    }
    let authorization = request.header("authorization").map(|p| p.value.trim());
    let has_scheme = |scheme: &str| {
        authorization.is_some_and(|a| a.len() > scheme.len() && a[..scheme.len()].eq_ignore_ascii_case(scheme))
    };
    let cookie_header = request.header("cookie").map_or("", |p| &*p.value);
    let present = |name: &str| -> bool {
        let Some(scheme) = meta.security_schemes.get(name) else { return true };
        match scheme {
            SecurityScheme::ApiKey { name, location } => match location {
                Location::Header => request.header(name).is_some(),
                Location::Query => request.query_pairs().any(|(k, _)| k == name.as_str()),
                Location::Cookie => params::cookies(cookie_header).iter().any(|(n, _)| n == name),
                Location::Path => true,
            },
            SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => has_scheme("basic "),
            SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => has_scheme("bearer "),
            SecurityScheme::Http { .. } => authorization.is_some(),
            SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIdConnect { .. } => has_scheme("bearer "),
        }
    };
    if meta.security.iter().any(|alt| alt.0.iter().all(|(name, _)| present(name))) {
        return Ok(());
    }
    let mut challenges = Vec::new();
    for (name, _) in meta.security.iter().flat_map(|alt| &alt.0) {
        let challenge = match meta.security_schemes.get(name) {
            Some(SecurityScheme::Http { scheme, .. }) if scheme.eq_ignore_ascii_case("basic") => "Basic realm=\"*\"",
            Some(
                SecurityScheme::Http { .. } | SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIdConnect { .. },
            ) => "Bearer",
            _ => "OAuth realm=\"*\"",
        };
        if !challenges.iter().any(|c| c == challenge) {
            challenges.push(challenge.to_owned());
        }
    }
    Err(challenges)
}

/// The payload's bytes, for hashing the request into the response seed.
pub(crate) fn payload_bytes(body: &Payload) -> &[u8] {
    match body {
        Payload::Bytes { data, .. } => data,
        _ => &[],
    }
}
