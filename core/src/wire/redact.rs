//! The one redaction of URLs and headers, for every rendering that is not
//! the wire: `--dry-run`'s curl command, `Debug`, `opdeck services`' origins,
//! error messages and tracing events.
//!
//! What is hidden, as [`REDACTED`]:
//! - **userinfo**: the password of `user:pass@host`, and a user name that
//!   comes alone (`token@host`), since it is often a token;
//! - **credential query parameters**: pairs the auth layer flagged
//!   ([`Request::secret_query`](crate::wire::Request)), and pairs whose name
//!   is a credential name by [`is_secret_name`];
//! - **secret headers**: headers flagged sensitive, and headers whose name
//!   is a credential name (`Authorization`, `Cookie`, `X-Api-Key`, …);
//! - **secret input values**, in what a dry run shows (the curl command of
//!   [`Deck::prepare`](crate::Deck::prepare) in every binding, a script's
//!   plan lines): body properties and parameters whose schema says
//!   `format: password` or `writeOnly: true`, and those whose name is a
//!   credential name, at any depth. A boolean or a null cannot hold a secret
//!   and stays readable (`requirePasswordChange: true`). In a key/value
//!   entry (`{"key": "smtp_password", "value": …}`, as settings, tags and
//!   headers are sent) the key is a name and stays readable, and the value
//!   is hidden when that name is a credential name.
//!
//! A credential name is matched without case, `-` or `_`: it is one of
//! `key`, `sig`, `signature`, `auth`, `authorization`, `cookie`, `setcookie`,
//! `jwt`, `session`, `sessionid`, `sid`, `pwd`, `passwd`, `code` (an OAuth2
//! authorization code or a one-time code), `code_verifier`, or it ends in `token`, `secret`, `password`,
//! `apikey`, `accesskey`, `passphrase`, `privatekey` or `credential(s)`. So `private_token`, `api_key`,
//! `access_token`, `X-Auth-Token`, `client_secret` and `password` are all
//! hidden; `page`, `limit`, `cursor` and `q` are not.

use std::borrow::Cow;

use serde_json::Value;
use url::Url;

use crate::model::{Definitions, OperationMeta};
use crate::wire::REDACTED;

const EXACT: &[&str] = &[
    "key",
    "sig",
    "signature",
    "auth",
    "authorization",
    "proxyauthorization",
    "cookie",
    "setcookie",
    "jwt",
    "session",
    "sessionid",
    "sid",
    "pwd",
    "passwd",
    "code",
    "codeverifier",
];

const SUFFIXES: &[&str] =
    &["token", "secret", "password", "apikey", "accesskey", "passphrase", "privatekey", "credential", "credentials"];

/// Whether a query parameter or header named `name` holds a credential (see
/// the module's list).
pub fn is_secret_name(name: &str) -> bool {
    let folded: String =
        name.chars().filter(|c| !matches!(c, '-' | '_' | '.' | ' ')).map(|c| c.to_ascii_lowercase()).collect();
    !folded.is_empty() && (EXACT.contains(&folded.as_str()) || SUFFIXES.iter().any(|s| folded.ends_with(s)))
}

/// `url` as text with its userinfo and credential query values hidden.
pub fn redact_url(url: &Url) -> String {
    redact_url_with(url, &[])
}

/// [`redact_url`] for a URL given as text: text that is not an absolute
/// URL (a path, `inline`) comes back as it is, unless it has a query, whose
/// credential values are hidden all the same.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    match Url::parse(text) {
        Ok(url) if url.has_host() => {
            let shown = redact_url(&url);
            if shown == text { Cow::Borrowed(text) } else { Cow::Owned(shown) }
        }
        _ => match text.split_once('?') {
            Some((head, query)) => {
                let q = redact_query(query, &[]);
                if q == query { Cow::Borrowed(text) } else { Cow::Owned(format!("{head}?{q}")) }
            }
            None => Cow::Borrowed(text),
        },
    }
}

/// [`redact_url`], also hiding the values of the query pairs named in
/// `secret` (decoded names, as the auth layer flags them).
pub fn redact_url_with(url: &Url, secret: &[String]) -> String {
    let userinfo = !url.username().is_empty() || url.password().is_some();
    let query = url.query().map(|q| (q, redact_query(q, secret)));
    let query_changed = query.as_ref().is_some_and(|(q, r)| *q != r.as_ref());
    if !userinfo && !query_changed {
        return url.to_string();
    }
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare.set_query(None);
    let fragment = bare.fragment().map(str::to_owned);
    bare.set_fragment(None);
    let mut out = bare.to_string();
    if userinfo {
        // `scheme://` is followed by the userinfo; put the hidden one back there.
        let at = out.find("://").map_or(0, |i| i + 3);
        let shown = match url.password() {
            Some(_) => format!("{}:{REDACTED}@", url.username()),
            None => format!("{REDACTED}@"),
        };
        out.insert_str(at, &shown);
    }
    if let Some((_, q)) = &query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(&f);
    }
    out
}

/// A raw query with the values of credential pairs hidden.
pub fn redact_query<'a>(query: &'a str, secret: &[String]) -> Cow<'a, str> {
    let hidden = |raw: &str| {
        let name = pair_name(raw);
        secret.iter().any(|s| *s == name) || is_secret_name(&name)
    };
    if !query.split('&').any(|raw| !raw.is_empty() && hidden(raw)) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, raw) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        if !raw.is_empty() && hidden(raw) {
            out.push_str(raw.split('=').next().unwrap_or(raw));
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(raw);
        }
    }
    Cow::Owned(out)
}

/// Whether a header must be shown as [`REDACTED`]: flagged by the auth
/// layer, or named like a credential.
pub fn is_secret_header(name: &str, sensitive: bool) -> bool {
    sensitive || is_secret_name(name)
}

/// Whether a schema marks its value secret: `format: password` or `writeOnly`.
fn is_secret_schema(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("password")
        || schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
}

/// The schemas `schema` (resolved) is made of: itself and the members of its
/// `allOf`, `anyOf` and `oneOf`, a few levels deep.
fn parts<'a>(defs: &'a Definitions, schema: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    let schema = defs.resolve(schema);
    out.push(schema);
    if depth == 0 {
        return;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for member in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            parts(defs, member, depth - 1, out);
        }
    }
}

/// `value` with what its schema or its keys say is secret shown as
/// [`REDACTED`] (see the module docs), at any depth. `schema` is a JSON
/// Schema whose `$ref`s point into `defs`; `None` judges by names alone.
pub fn redact_value(value: &Value, schema: Option<&Value>, defs: &Definitions) -> Value {
    redact_at(value, schema, defs, 0)
}

/// How deep [`redact_value`] follows a value; deeper values are shown whole
/// as [`REDACTED`] rather than risk showing a secret.
const MAX_DEPTH: usize = 64;

fn redact_at(value: &Value, schema: Option<&Value>, defs: &Definitions, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::String(REDACTED.into());
    }
    let mut schemas = Vec::new();
    if let Some(s) = schema {
        parts(defs, s, 4, &mut schemas);
    }
    match value {
        Value::Object(map) => {
            let entry = entry_of(map);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let property: Vec<&Value> =
                            schemas.iter().filter_map(|s| s.get("properties")?.get(k.as_str())).collect();
                        let extra: Vec<&Value> = schemas
                            .iter()
                            .filter_map(|s| s.get("additionalProperties").filter(|a| a.is_object()))
                            .collect();
                        let chosen = property.first().or(extra.first()).copied();
                        let marked = property.iter().chain(&extra).any(|p| {
                            let mut resolved = Vec::new();
                            parts(defs, p, 2, &mut resolved);
                            resolved.iter().any(|r| is_secret_schema(r))
                        });
                        let by_name = match entry {
                            // `{key, value}`: the key names the entry, and the
                            // value is as secret as the name it is filed under.
                            Some(_) if k.eq_ignore_ascii_case("key") => false,
                            Some(name) if k.eq_ignore_ascii_case("value") => is_secret_name(name),
                            _ => is_secret_name(k),
                        };
                        let secret = (marked || by_name) && !matches!(v, Value::Bool(_) | Value::Null);
                        let shown =
                            if secret { Value::String(REDACTED.into()) } else { redact_at(v, chosen, defs, depth + 1) };
                        (k.clone(), shown)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            let item = schemas.iter().find_map(|s| s.get("items"));
            Value::Array(items.iter().map(|v| redact_at(v, item, defs, depth + 1)).collect())
        }
        other => other.clone(),
    }
}

/// The name of a key/value entry (an object with a text `key` and a
/// `value`, as settings, tags and headers are often sent), if `map` is one.
fn entry_of(map: &serde_json::Map<String, Value>) -> Option<&str> {
    let field = |name: &str| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    field("value")?;
    field("key")?.as_str()
}

/// An operation's input as a dry run may show it: parameters and body
/// properties that are secret by their schema or their name replaced by
/// [`REDACTED`]. The input is what [`Deck::call`](crate::Deck::call) takes:
/// parameter keys at the top, the body under `body`.
pub fn redact_input(meta: &OperationMeta, input: &Value) -> Value {
    let Value::Object(map) = input else { return redact_value(input, None, &meta.definitions) };
    let defs = &meta.definitions;
    let body_schema = meta.body.as_ref().and_then(|b| {
        b.media.iter().find(|m| crate::schema::is_json(&m.content_type)).or(b.media.first()).map(|m| &m.schema)
    });
    let shown = map
        .iter()
        .map(|(k, v)| {
            let shown = if k == crate::schema::BODY_KEY {
                redact_value(v, body_schema, defs)
            } else {
                let param = meta.parameter(k);
                let secret = param.is_some_and(|p| {
                    is_secret_name(&p.name) || {
                        let mut resolved = Vec::new();
                        parts(defs, &p.schema, 2, &mut resolved);
                        resolved.iter().any(|r| is_secret_schema(r))
                    }
                }) || is_secret_name(k);
                if secret && !matches!(v, Value::Bool(_) | Value::Null) {
                    Value::String(REDACTED.into())
                } else {
                    redact_value(v, param.map(|p| &p.schema), defs)
                }
            };
            (k.clone(), shown)
        })
        .collect();
    Value::Object(shown)
}

/// The decoded name of one raw `name=value` query pair.
pub(crate) fn pair_name(raw: &str) -> Cow<'_, str> {
    let name = raw.split('=').next().unwrap_or(raw);
    url::form_urlencoded::parse(name.as_bytes()).next().map_or(Cow::Borrowed(""), |(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        redact_url(&Url::parse(url).expect("url"))
    }

    #[test]
    fn userinfo_and_credential_parameters_are_hidden() {
        assert_eq!(
            shown("http://admin:SECRETPW@127.0.0.1:19101/x"),
            format!("http://admin:{REDACTED}@127.0.0.1:19101/x")
        );
        assert_eq!(shown("https://TOKEN@git.example/r"), format!("https://{REDACTED}@git.example/r"));
        assert_eq!(
            shown("https://h.example/spec.json?private_token=abc&v=2&API-KEY=k#frag"),
            format!("https://h.example/spec.json?private_token={REDACTED}&v=2&API-KEY={REDACTED}#frag")
        );
        assert_eq!(
            shown("https://h.example/x?page=2&limit=10&cursor=c"),
            "https://h.example/x?page=2&limit=10&cursor=c"
        );
        assert_eq!(redact_text("./specs/petstore.yaml"), "./specs/petstore.yaml");
        assert_eq!(redact_text("inline"), "inline");
        assert_eq!(redact_text("a.yaml?token=x"), format!("a.yaml?token={REDACTED}"));
    }

    #[test]
    fn credential_names_are_matched_without_case_or_separators() {
        for name in ["private_token", "api_key", "apiKey", "token", "access_token", "key", "secret", "password"] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["X-Auth-Token", "Authorization", "Cookie", "X-API-Key", "client_secret", "sessionid"] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["page", "limit", "cursor", "q", "keyword", "Accept", "X-Trace", "monkey"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn values_are_hidden_by_schema_and_by_name_at_any_depth() {
        let defs = Definitions::new(
            serde_json::json!({"Login": {"type": "object", "properties": {"pin": {"type": "string", "writeOnly": true}}}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let schema = serde_json::json!({"type": "object", "properties": {
            "word": {"type": "string", "format": "password"},
            "login": {"$ref": "#/$defs/Login"},
            "list": {"type": "array", "items": {"allOf": [{"$ref": "#/$defs/Login"}]}},
        }});
        let value = serde_json::json!({"word": "W1", "login": {"pin": "P1", "name": "ann"}, "list": [{"pin": "P2"}],
            "nested": {"apiKey": "K1", "passphrase": "K2"}, "requirePasswordChange": true, "token": null});
        let shown = redact_value(&value, Some(&schema), &defs);
        let text = shown.to_string();
        for secret in ["W1", "P1", "P2", "K1", "K2"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(shown["login"]["name"], "ann");
        // A key/value entry: the key is a name; the value is hidden when
        // the name is a credential's.
        let entries = serde_json::json!({"settings": [
            {"key": "smtp_password", "value": "S1"}, {"key": "quota", "value": 5}, {"Key": "api-token", "Value": "S2"}
        ], "tag": {"key": "env", "value": "prod"}, "lone": {"key": "K3"}, "oauth": {"code": "C1", "code_verifier": "V1"}});
        let entries = redact_value(&entries, None, &defs);
        let listed = entries.to_string();
        for secret in ["S1", "S2", "K3", "C1", "V1"] {
            assert!(!listed.contains(secret), "{secret} in {listed}");
        }
        assert_eq!(entries["settings"][0]["key"], "smtp_password");
        assert_eq!(entries["settings"][1], serde_json::json!({"key": "quota", "value": 5}));
        assert_eq!(entries["tag"], serde_json::json!({"key": "env", "value": "prod"}));
        assert_eq!(shown["requirePasswordChange"], true);
        assert_eq!(shown["token"], Value::Null);
    }
}
