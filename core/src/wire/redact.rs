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
//!   is a credential name (`Authorization`, `Cookie`, `X-Api-Key`, …).
//!
//! A credential name is matched without case, `-` or `_`: it is one of
//! `key`, `sig`, `signature`, `auth`, `authorization`, `cookie`, `setcookie`,
//! `jwt`, `session`, `sessionid`, `sid`, `pwd`, `passwd`, `code` (an OAuth2
//! authorization code), or it ends in `token`, `secret`, `password`,
//! `apikey`, `accesskey` or `credential(s)`. So `private_token`, `api_key`,
//! `access_token`, `X-Auth-Token`, `client_secret` and `password` are all
//! hidden; `page`, `limit`, `cursor` and `q` are not.

use std::borrow::Cow;

use url::Url;

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
];

const SUFFIXES: &[&str] = &["token", "secret", "password", "apikey", "accesskey", "credential", "credentials"];

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
}
