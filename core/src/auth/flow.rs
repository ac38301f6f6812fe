//! The three entry points the HTTP layer calls: [`authorize`] before sending,
//! [`refresh`] after a response, [`authorize_offline`] for dry runs.

use serde_json::Value;

use super::Host;
use super::schemes::{self, Credential, Step};
use super::session::Session;
use super::{Secret, SessionKey, login, oauth2};
use crate::error::Result;
use crate::model::OperationMeta;
use crate::services::ServiceProfile;
use crate::wire::{REDACTED, Request};

/// Puts the credential `meta` needs on `request`: the first security
/// alternative the configuration can satisfy, with tokens fetched (OAuth2,
/// login flows) and cached when needed. An operation without security gets
/// nothing; one whose security cannot be satisfied fails with
/// [`Error::Auth`](crate::Error::Auth) naming the variables to set.
///
/// With the simulator (`mock`), placeholders stand in for credentials and no
/// login happens.
pub async fn authorize(ctx: &dyn Host, meta: &OperationMeta, request: &mut Request) -> Result<()> {
    if is_mock(ctx, &meta.service) {
        for target in schemes::spec_targets(meta) {
            schemes::place(request, &target, REDACTED);
        }
        return Ok(());
    }
    let profile = ServiceProfile::for_service(&meta.service);
    for step in steps(ctx, &profile, meta)? {
        let value = match &step.credential {
            Credential::Static(token) => token.expose().to_owned(),
            Credential::Basic { username, password } => schemes::basic(username, password),
            Credential::OAuth2(_) | Credential::Login(_) => {
                current(ctx, &meta.service, &step).await?.expose().to_owned()
            }
        };
        schemes::place(request, &step.target, &value);
    }
    Ok(())
}

/// Called with a response's status and decoded body: when they say the
/// session expired (401, or what the login flow lists, such as Zou's 422
/// `Signature has expired`) and a new credential was obtained, returns true
/// and the caller sends the request again, once. Basic credentials cannot be
/// renewed; a configured token is replaced by the login flow or an OAuth2
/// grant when one is configured (see `refuse_token`), else it cannot be either.
pub async fn refresh(
    ctx: &dyn Host,
    meta: &OperationMeta,
    rejected: &Request,
    status: u16,
    body: &Value,
) -> Result<bool> {
    if meta.security.is_empty() || is_mock(ctx, &meta.service) {
        return Ok(false);
    }
    let profile = ServiceProfile::for_service(&meta.service);
    let Ok(steps) = steps(ctx, &profile, meta) else { return Ok(false) };
    for step in steps {
        if matches!(step.credential, Credential::Static(_)) {
            return Ok(refuse_token(ctx, &profile, meta, status, body));
        }
        if renews_on(&step.credential, status, body) {
            let slot = ctx.sessions().slot(&step.key);
            let mut guard = slot.lock().await;
            // Calls rejected together wait here for one renewal: a session
            // the rejected request did not carry is already the new one.
            if guard.as_ref().is_some_and(|s| !carries(rejected, s.access.expose())) {
                return Ok(true);
            }
            let old = guard.take();
            // The refused token (perhaps from the cache, from an earlier run)
            // is forgotten there too; the new one replaces it.
            let key = cache_key(ctx, &meta.service, &step);
            if let Some(key) = &key {
                ctx.sessions().cache().remove(key);
            }
            let session = renew(ctx, &meta.service, &step.credential, old).await?;
            if let Some(key) = &key {
                ctx.sessions().cache().store(key, &session.to_cached());
            }
            *guard = Some(session);
            return Ok(true);
        }
    }
    Ok(false)
}

/// The steps for `meta`, passing over the configured token once the server
/// refused it (see [`refuse_token`]).
fn steps(ctx: &dyn Host, profile: &ServiceProfile, meta: &OperationMeta) -> Result<Vec<Step>> {
    schemes::steps(ctx.config(), profile, meta, ctx.sessions().token_refused(&meta.service))
}

/// Whether `credential` renews its credential on this answer: OAuth2 on 401, a
/// login flow on the answers it lists; a configured token or basic
/// credentials never do.
fn renews_on(credential: &Credential, status: u16, body: &Value) -> bool {
    match credential {
        Credential::OAuth2(_) => status == 401,
        Credential::Login(flow) => flow.is_expired(status, body),
        Credential::Static(_) | Credential::Basic { .. } => false,
    }
}

/// A configured token the server refused as expired gives way, for this
/// service and from now on, to a flow that can obtain a fresh credential:
/// the login flow or an OAuth2 grant, when one is configured and the answer
/// is one that flow would renew on. Without such a flow the token stays, and
/// the refusal is the caller's error.
fn refuse_token(ctx: &dyn Host, profile: &ServiceProfile, meta: &OperationMeta, status: u16, body: &Value) -> bool {
    let Ok(instead) = schemes::steps(ctx.config(), profile, meta, true) else { return false };
    let renewable = instead.iter().any(|step| renews_on(&step.credential, status, body));
    if renewable {
        ctx.sessions().refuse_token(&meta.service);
    }
    renewable
}

/// Adds the same headers, query pairs and cookies [`authorize`] would, with
/// placeholder values marked sensitive, and no network I/O. Without a
/// configured credential it adds nothing: a dry run shows what would be
/// sent, and no credential would be.
pub fn authorize_offline(ctx: &dyn Host, meta: &OperationMeta, request: &mut Request) {
    let profile = ServiceProfile::for_service(&meta.service);
    let Ok(steps) = steps(ctx, &profile, meta) else { return };
    for target in steps.into_iter().map(|s| s.target) {
        schemes::place(request, &target, REDACTED);
    }
}

/// Whether `request` sent `token` in one of its credential slots (header,
/// query pair or cookie).
fn carries(request: &Request, token: &str) -> bool {
    !token.is_empty()
        && (request.headers.iter().any(|p| p.sensitive && p.value.contains(token))
            || request.query_pairs().any(|(k, v)| request.is_secret_query(&k) && v.contains(token)))
}

fn is_mock(ctx: &dyn Host, service: &str) -> bool {
    ctx.simulated() || ctx.config().service(service).base_url.is_some_and(|u| u.starts_with("mock:"))
}

/// The cached token of a step, fetched or renewed when missing or stale.
/// A deck without one asks the session cache first (a token an earlier run
/// obtained, still fresh), and tells it of every new one.
async fn current(ctx: &dyn Host, service: &str, step: &Step) -> Result<Secret> {
    let slot = ctx.sessions().slot(&step.key);
    let mut guard = slot.lock().await;
    if let Some(session) = guard.as_ref().filter(|s| s.is_fresh()) {
        return Ok(session.access.clone());
    }
    let key = cache_key(ctx, service, step);
    let old = guard.take();
    if old.is_none()
        && let Some(key) = &key
        && let Some(cached) = ctx.sessions().cache().load(key).filter(|c| c.is_fresh())
    {
        let session = Session::from_cached(cached);
        let token = session.access.clone();
        *guard = Some(session);
        return Ok(token);
    }
    let session = renew(ctx, service, &step.credential, old).await?;
    if let Some(key) = &key {
        ctx.sessions().cache().store(key, &session.to_cached());
    }
    let token = session.access.clone();
    *guard = Some(session);
    Ok(token)
}

/// Where the session cache keeps the session of `step`: by profile,
/// service, base URL, flow and user name (never the password). Only tokens
/// obtained at run time are cached; configured tokens and basic
/// credentials need no cache.
fn cache_key(ctx: &dyn Host, service: &str, step: &Step) -> Option<SessionKey> {
    if !matches!(step.credential, Credential::Login(_) | Credential::OAuth2(_)) {
        return None;
    }
    Some(SessionKey {
        profile: ctx.config().profile_name().to_owned(),
        service: service.to_owned(),
        base_url: ctx.base_url(service).ok()?,
        flow: step.key.clone(),
        username: ctx.config().service(service).username,
    })
}

/// A new session: by refresh token when there is one and it works, else by a
/// new grant or login.
async fn renew(ctx: &dyn Host, service: &str, credential: &Credential, old: Option<Session>) -> Result<Session> {
    if let Some(old) = &old {
        let refreshed = match credential {
            Credential::OAuth2(grant) => oauth2::refresh(ctx, service, grant, old).await,
            Credential::Login(flow) => login::refresh(ctx, service, flow, old).await,
            _ => None,
        };
        if let Some(session) = refreshed {
            return Ok(session);
        }
    }
    match credential {
        Credential::OAuth2(grant) => oauth2::fetch(ctx, service, grant).await,
        Credential::Login(flow) => login::login(ctx, service, flow).await,
        Credential::Static(token) => Ok(Session::new(token.clone(), None, None)),
        Credential::Basic { username, password } => {
            Ok(Session::new(Secret::new(schemes::basic(username, password)), None, None))
        }
    }
}
