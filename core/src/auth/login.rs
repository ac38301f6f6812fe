//! Login flows: services whose credential comes from calling one of their own
//! operations with a username and password (Kitsu's `POST /auth/login`,
//! DRACOON's deprecated `POST /v4/auth/login`, Seald's session cookie).
//!
//! A flow is data in the service profile ([`LoginFlow`]), so a new service
//! needs no code. The login request is built here and sent through the
//! context's transport directly, never through `Operation::invoke`, so it can
//! never recurse into [`authorize`](super::authorize).

use serde_json::Value;

use super::Host;
use super::session::{Session, endpoint, exchange};
use crate::config::env_name;
use crate::error::{Error, Result};
use crate::model::{LoginFlow, Route, Secret, TokenSource};
use crate::wire::{Pair, Payload, Request};

/// Logs in with the configured username and password.
pub(crate) async fn login(ctx: &dyn Host, service: &str, flow: &LoginFlow) -> Result<Session> {
    let config = ctx.config().service(service);
    let (Some(user), Some(password)) = (config.username, config.password) else {
        let var = env_name(service);
        return Err(Error::Auth {
            service: service.to_owned(),
            message: format!(
                "the login flow needs a username and password: OPDECK_{var}_USERNAME and OPDECK_{var}_PASSWORD, \
                 `username`/`password` in the config file, or `login` on the deck builder (`credentials` in Python and Lua)"
            ),
        });
    };
    let mut body = flow.extra.clone();
    body.insert(flow.username_field.clone(), Value::String(user));
    body.insert(flow.password_field.clone(), Value::String(password.expose().to_owned()));
    let mut request = route_request(ctx, service, &flow.login)?;
    request.body = Payload::Bytes {
        content_type: "application/json".into(),
        data: serde_json::to_vec(&Value::Object(body)).unwrap_or_default().into(),
    };
    let answer = exchange(ctx, service, &request).await?;
    let access = read_token(service, &request, &flow.token, answer.status, &answer.headers, &answer.body)?;
    let refresh =
        flow.refresh_token.as_deref().and_then(|p| answer.body.pointer(p)).and_then(Value::as_str).map(Secret::new);
    let expires_in = super::session::jwt_expires_in(&access);
    Ok(Session::new(access, refresh, expires_in))
}

/// Trades the session's refresh token for a new access token; `None` when
/// the flow or the session has no refresh, or the server refused it.
pub(crate) async fn refresh(ctx: &dyn Host, service: &str, flow: &LoginFlow, old: &Session) -> Option<Session> {
    let (route, token) = (flow.refresh.as_ref()?, old.refresh.as_ref()?);
    let mut request = route_request(ctx, service, route).ok()?;
    super::schemes::place(&mut request, &flow.placement.clone().into(), token.expose());
    let answer = exchange(ctx, service, &request).await.ok()?;
    let access = read_token(service, &request, &flow.token, answer.status, &answer.headers, &answer.body).ok()?;
    let expires_in = super::session::jwt_expires_in(&access);
    Some(Session::new(access, Some(token.clone()), expires_in))
}

fn route_request(ctx: &dyn Host, service: &str, route: &Route) -> Result<Request> {
    let (method, path) = match route {
        Route::Path(method, path) => (*method, path.clone()),
        Route::Operation(id) => ctx.route(id)?,
    };
    let url = endpoint(ctx, service, &path, false)?;
    let mut request = Request::new(format!("{service} login ({method} {path})"), method, url);
    request.headers.push(Pair::plain("Accept", "application/json"));
    Ok(request)
}

fn read_token(
    service: &str,
    request: &Request,
    source: &TokenSource,
    status: u16,
    headers: &http::HeaderMap,
    body: &Value,
) -> Result<Secret> {
    let fail = |message: String| Error::Auth { service: service.to_owned(), message };
    if !(200..300).contains(&status) {
        let reason = crate::error::server_message(body).map(|m| format!(": {m}")).unwrap_or_default();
        return Err(fail(format!("`{}` answered http status {status}{reason}", request.operation)));
    }
    let token = match source {
        TokenSource::Json(pointer) => body.pointer(pointer).and_then(Value::as_str).map(str::to_owned),
        TokenSource::Cookie(name) => headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next()?.trim().split_once('='))
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_owned()),
    };
    match token {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => {
            let wanted = match source {
                TokenSource::Json(p) => format!("a token at `{p}`"),
                TokenSource::Cookie(c) => format!("a `{c}` cookie"),
            };
            Err(fail(format!("`{}` answered without {wanted}", request.operation)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;
    use serde_json::json;

    #[test]
    fn tokens_come_from_json_pointers_or_cookies() {
        let url = url::Url::parse("http://127.0.0.1/").expect("url");
        let req = Request::new("x login", Method::Post, url);
        let json_src = TokenSource::Json("/access_token".into());
        let none = http::HeaderMap::new();
        let got = read_token("kitsu", &req, &json_src, 200, &none, &json!({"access_token": "jwt"})).expect("token");
        assert_eq!(got.expose(), "jwt");
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::SET_COOKIE, http::HeaderValue::from_static("theme=dark; Path=/"));
        headers.append(http::header::SET_COOKIE, http::HeaderValue::from_static("sessionid=abc123; Path=/; HttpOnly"));
        let cookie = TokenSource::Cookie("sessionid".into());
        assert_eq!(read_token("seald", &req, &cookie, 201, &headers, &Value::Null).expect("cookie").expose(), "abc123");
        let err = read_token("kitsu", &req, &json_src, 200, &none, &json!({})).expect_err("no token");
        assert!(err.to_string().contains("without a token at `/access_token`"), "{err}");
        let err = read_token("kitsu", &req, &json_src, 401, &none, &json!({})).expect_err("refused");
        assert!(err.to_string().contains("http status 401"), "{err}");
    }
}
