//! [`Sessions`]: credentials obtained at run time, cached per service and
//! flow, and the one exchange helper the flows use to talk to a server.
//!
//! Each cache slot has its own async mutex, held while a token is fetched, so
//! ten concurrent calls that find no token cause one login, not ten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::Host;
use super::Secret;
use crate::error::{Error, Result};
use crate::wire::{Delivery, Request, ResponseBody};

/// The longest a token is used before its announced expiry.
const MAX_MARGIN: Duration = Duration::from_secs(30);

/// The largest token or login response read; they are a few hundred bytes.
const MAX_AUTH_BODY: usize = 1024 * 1024;

/// One obtained credential.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The access token (or session cookie value).
    pub(crate) access: Secret,
    /// The refresh token, when the server gave one.
    pub(crate) refresh: Option<Secret>,
    /// When to stop using `access`: the announced expiry minus a margin.
    pub(crate) renew_at: Option<Instant>,
}

impl Session {
    /// A session whose token lives `expires_in` seconds, if the server said.
    pub(crate) fn new(access: Secret, refresh: Option<Secret>, expires_in: Option<f64>) -> Self {
        let renew_at = expires_in.and_then(|s| Duration::try_from_secs_f64(s).ok()).map(|life| {
            let margin = MAX_MARGIN.min(life / 2);
            Instant::now() + (life - margin)
        });
        Session { access, refresh, renew_at }
    }

    /// Whether the token may still be sent.
    pub(crate) fn is_fresh(&self) -> bool {
        self.renew_at.is_none_or(|t| Instant::now() < t)
    }

    /// The session as a [`SessionCache`](super::SessionCache) keeps it.
    pub(crate) fn to_cached(&self) -> super::CachedSession {
        let now = Instant::now();
        super::CachedSession {
            access: self.access.clone(),
            refresh: self.refresh.clone(),
            expires_at: self.renew_at.map(|t| std::time::SystemTime::now() + t.saturating_duration_since(now)),
        }
    }

    /// A session from a cache entry (already checked fresh).
    pub(crate) fn from_cached(cached: super::CachedSession) -> Self {
        let renew_at = cached.remaining().map(|left| Instant::now() + left);
        Session { access: cached.access, refresh: cached.refresh, renew_at }
    }
}

/// Seconds until a JWT's `exp`, when `token` is a JWT that says (Zou's
/// access tokens do); `None` for any other token.
pub(crate) fn jwt_expires_in(token: &Secret) -> Option<f64> {
    use base64::Engine as _;
    let mut parts = token.expose().split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else { return None };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let exp = serde_json::from_slice::<Value>(&bytes).ok()?.get("exp")?.as_f64()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    Some((exp - now).max(0.0))
}

type Slot = Arc<tokio::sync::Mutex<Option<Session>>>;

/// Tokens obtained at run time (OAuth2, login flows), cached per service.
#[derive(Default)]
pub struct Sessions {
    slots: Mutex<HashMap<String, Slot>>,
    /// Where sessions are kept beyond this deck (none by default).
    cache: Option<Arc<dyn super::SessionCache>>,
    /// Services whose configured token the server refused as expired; their
    /// calls log in (or take an OAuth2 grant) instead, when they can.
    refused_tokens: Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<_> = slots.keys().collect();
        keys.sort();
        f.debug_struct("Sessions").field("keys", &keys).field("cache", &self.cache).finish()
    }
}

impl Sessions {
    /// Sessions that are also kept in `cache`, beyond this deck.
    pub fn with_cache(cache: Arc<dyn super::SessionCache>) -> Self {
        Sessions { cache: Some(cache), ..Sessions::default() }
    }

    /// The cache sessions are kept in beyond this deck.
    pub(crate) fn cache(&self) -> &dyn super::SessionCache {
        match &self.cache {
            Some(cache) => cache.as_ref(),
            None => &super::NoSessionCache,
        }
    }

    /// The cache slot of `key` (`<service>/<flow>`), created empty.
    pub(crate) fn slot(&self, key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.to_owned()).or_default().clone()
    }

    /// Notes that the server refused `service`'s configured token as expired.
    pub(crate) fn refuse_token(&self, service: &str) {
        self.refused_tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(service.to_owned());
    }

    /// Whether `service`'s configured token was refused as expired.
    pub(crate) fn token_refused(&self, service: &str) -> bool {
        self.refused_tokens.lock().unwrap_or_else(|e| e.into_inner()).contains(service)
    }

    /// Drops every cached credential of `service`, so the next call logs in
    /// again (after a logout, or when credentials changed), here and in the
    /// session cache.
    pub fn forget(&self, service: &str) {
        self.cache().clear(Some(service));
        self.refused_tokens.lock().unwrap_or_else(|e| e.into_inner()).remove(service);
        let prefix = format!("{service}/");
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|k, _| !k.starts_with(&prefix));
    }

    /// Clears the session cache's entries of `service`; returns how many.
    pub(crate) fn clear_cached(&self, service: &str) -> usize {
        self.cache().clear(Some(service))
    }

    /// Drops every credential obtained so far, here and in the session cache.
    /// Returns how many the session cache held.
    pub fn forget_all(&self) -> usize {
        self.refused_tokens.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.cache().clear(None)
    }

    /// Whether a credential for `service` is cached right now.
    pub fn has(&self, service: &str) -> bool {
        let prefix = format!("{service}/");
        let slots: Vec<Slot> = {
            let map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            map.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| v.clone()).collect()
        };
        slots.iter().any(|s| s.try_lock().map(|g| g.is_some()).unwrap_or(true))
    }
}

/// What an auth exchange (token request, login) answered.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Value,
}

/// Sends an auth request once through the context's transport, within the
/// configured timeout, and decodes a JSON body (`null` when there is none or
/// it is not JSON).
pub(crate) async fn exchange(ctx: &dyn Host, service: &str, request: &Request) -> Result<Answer> {
    let limit = ctx.config().http.timeout;
    let send = async {
        let response = crate::wire::retry::send_once(ctx.transport(), request, Delivery::Buffered).await?;
        let bytes = match response.body {
            ResponseBody::Full(b) => b.to_vec(),
            ResponseBody::Stream(mut s) => {
                let mut out = Vec::new();
                while let Some(chunk) = s.next().await {
                    out.extend_from_slice(&chunk?);
                    if out.len() > MAX_AUTH_BODY {
                        return Err(Error::Auth {
                            service: service.to_owned(),
                            message: format!("`{}` answered more than {MAX_AUTH_BODY} bytes", request.operation),
                        });
                    }
                }
                out
            }
        };
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status: response.status, headers: response.headers, body })
    };
    match tokio::time::timeout(limit, send).await {
        Ok(answer) => answer,
        Err(_) => Err(Error::timeout(request.operation.to_string(), limit)),
    }
}

/// The base URL of `service` with its server variables filled in.
pub(crate) fn base_url(ctx: &dyn Host, service: &str) -> Result<url::Url> {
    let mut base = ctx.base_url(service)?;
    for (name, value) in &ctx.config().service(service).variables {
        base = base.replace(&format!("{{{name}}}"), value);
    }
    url::Url::parse(&base).map_err(|e| Error::config(format!("base url of service `{service}` is not a url: {e}")))
}

/// `path` (`/auth/login`) appended to the base URL, or an absolute URL as is,
/// or a host-relative one (`/oauth/token` as `//`-less) resolved from the base.
pub(crate) fn endpoint(ctx: &dyn Host, service: &str, path: &str, host_relative: bool) -> Result<url::Url> {
    if let Ok(url) = url::Url::parse(path) {
        return Ok(url);
    }
    let base = base_url(ctx, service)?;
    let joined = if host_relative {
        base.join(path)
    } else {
        let mut text = base.as_str().trim_end_matches('/').to_owned();
        text.push('/');
        text.push_str(path.trim_start_matches('/'));
        url::Url::parse(&text)
    };
    joined.map_err(|e| Error::config(format!("cannot build the url of `{path}` for service `{service}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lived_tokens_renew_at_half_life_and_long_ones_thirty_seconds_early() {
        let short = Session::new(Secret::new("a"), None, Some(0.0));
        assert!(!short.is_fresh());
        let long = Session::new(Secret::new("a"), None, Some(3600.0));
        assert!(long.is_fresh());
        let left = long.renew_at.map(|t| t - Instant::now()).unwrap_or_default();
        assert!(left > Duration::from_secs(3560) && left <= Duration::from_secs(3570), "{left:?}");
        assert!(Session::new(Secret::new("a"), None, None).is_fresh());
    }

    #[test]
    fn jwt_expiry_is_read_from_the_payload() {
        use base64::Engine as _;
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        let jwt = format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(&format!(r#"{{"exp":{}}}"#, now + 600)));
        let left = jwt_expires_in(&Secret::new(jwt)).expect("a jwt");
        assert!((590.0..=600.0).contains(&left), "{left}");
        let old = format!("{}.{}.sig", b64("{}"), b64(&format!(r#"{{"exp":{}}}"#, now - 5)));
        assert_eq!(jwt_expires_in(&Secret::new(old)), Some(0.0));
        for other in ["plain-token", "a.b", "a.!!.c", "a.b.c.d"] {
            assert_eq!(jwt_expires_in(&Secret::new(other)), None, "{other}");
        }
    }

    #[test]
    fn debug_shows_keys_only() {
        let sessions = Sessions::default();
        let slot = sessions.slot("kitsu/login");
        *slot.try_lock().expect("fresh slot") = Some(Session::new(Secret::new("jwt-value"), None, None));
        let shown = format!("{sessions:?}");
        assert!(shown.contains("kitsu/login") && !shown.contains("jwt-value"), "{shown}");
        assert!(sessions.has("kitsu"));
        sessions.forget("kitsu");
        assert!(!sessions.has("kitsu"));
    }
}
