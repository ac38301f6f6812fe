//! Credentials on the wire: api keys, bearer, basic, OAuth2 grants, login flows, expiry and redaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opdeck::auth::{self, Expiry, LoginFlow, Placement, Route, TokenSource};
use opdeck::config::{Config, ServiceConfig};
use opdeck::engine::HttpOperation;
use opdeck::model::{Method, OperationMeta};
use opdeck::wire::client::HttpTransport;
use opdeck::{Context, Error, Operation, Registry, Result};
use rstest::rstest;
use serde_json::{Value, json};

use crate::support::call::quick_settings;
use crate::support::{RecordedRequest, Reply, TestServer, meta};

const SECRET: &str = "s3cr3t-value";

/// An operation of service `svc` at `GET /data` with these alternatives and schemes.
fn op(security: Value, schemes: Value) -> OperationMeta {
    // The model keeps each alternative as `[name, scopes]` pairs, in order.
    let alternatives: Vec<Value> = security
        .as_array()
        .expect("alternatives")
        .iter()
        .map(|alt| {
            let pairs = alt.as_object().expect("alternative").iter().map(|(k, v)| json!([k, v]));
            Value::Array(pairs.collect())
        })
        .collect();
    let mut m = meta(json!({"id": "svc.g.op", "service": "svc", "path": "/data", "security": alternatives}));
    m.security_schemes = Arc::new(serde_json::from_value(schemes).expect("schemes"));
    m
}

fn context(base: &str, mut svc: ServiceConfig) -> Context {
    svc.base_url = Some(base.to_owned());
    let mut config = Config { http: quick_settings(), ..Config::default() };
    config.services.insert("svc".into(), svc);
    let transport = Arc::new(HttpTransport::with_settings(&config.http).expect("transport"));
    Context::new(Arc::new(Registry::new()), transport, Arc::new(config))
}

fn token(t: &str) -> ServiceConfig {
    ServiceConfig { token: Some(t.into()), ..Default::default() }
}

fn user(name: &str, password: &str) -> ServiceConfig {
    ServiceConfig { username: Some(name.into()), password: Some(password.into()), ..Default::default() }
}

/// Runs `meta` through `HttpOperation::invoke`, which authorizes, sends, and
/// on an expired session renews and sends again once.
async fn call(ctx: &Context, meta: &OperationMeta) -> Result<Value> {
    let op = HttpOperation::new(meta.clone());
    Ok(op.invoke(ctx, json!({})).await?.body.into_value())
}

/// A request as `refresh` receives it: what was sent and refused.
fn sent_to(srv: &TestServer) -> opdeck::wire::Request {
    opdeck::wire::Request::new("kitsu.t.op", Method::Get, srv.url().parse().expect("url"))
}

fn on(srv: &TestServer, path: &str) -> Vec<RecordedRequest> {
    srv.requests().into_iter().filter(|r| r.path() == path).collect()
}

#[rstest]
#[case::api_key_header(json!({"type": "apiKey", "name": "X-Access-Token", "in": "header"}), token("tok"), "x-access-token", "tok")]
#[case::bearer(json!({"type": "http", "scheme": "bearer"}), token("tok"), "authorization", "Bearer tok")]
#[case::basic(json!({"type": "http", "scheme": "basic"}), user("Aladdin", "open sesame"), "authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")]
#[case::api_key_cookie(json!({"type": "apiKey", "name": "sessionid", "in": "cookie"}), token("tok"), "cookie", "sessionid=tok")]
#[tokio::test(flavor = "multi_thread")]
async fn static_credentials_land_in_their_header(
    #[case] scheme: Value,
    #[case] svc: ServiceConfig,
    #[case] header: &str,
    #[case] expected: &str,
) {
    let srv = TestServer::always(Reply::json(json!({"ok": true}))).await;
    let ctx = context(&srv.url(), svc);
    call(&ctx, &op(json!([{"s": []}]), json!({ "s": scheme }))).await.expect("call");
    let req = srv.last();
    assert_eq!(req.header(header), Some(expected), "{:?}", req.headers);
    assert_eq!(req.query(), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_in_the_query_is_encoded_there() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let ctx = context(&srv.url(), token("a b&c"));
    let m = op(json!([{"q": []}]), json!({"q": {"type": "apiKey", "name": "accessToken", "in": "query"}}));
    call(&ctx, &m).await.expect("call");
    assert_eq!(srv.last().query(), "accessToken=a%20b%26c");
    assert_eq!(srv.last().header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_without_security_get_nothing() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let ctx = context(&srv.url(), token("tok"));
    let m = op(json!([]), json!({"b": {"type": "http", "scheme": "bearer"}}));
    call(&ctx, &m).await.expect("call");
    let req = srv.last();
    assert!(!req.headers.iter().any(|(n, _)| n == "authorization" || n == "cookie"), "{:?}", req.headers);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_satisfiable_alternative_wins_over_anonymous_access() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let schemes = json!({
        "basic": {"type": "http", "scheme": "basic"},
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"}
    });
    let ctx = context(&srv.url(), token("tok"));
    call(&ctx, &op(json!([{}, {"basic": []}, {"key": []}]), schemes.clone())).await.expect("call");
    assert_eq!(srv.last().header("x-key"), Some("tok"));
    assert_eq!(srv.last().header("authorization"), None);
    // Nothing configured: the anonymous alternative is taken and nothing is sent.
    let ctx = context(&srv.url(), ServiceConfig::default());
    call(&ctx, &op(json!([{"basic": []}, {}]), schemes)).await.expect("anonymous call");
    assert_eq!(srv.last().header("authorization"), None);
    assert_eq!(srv.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_name_the_variables_and_send_nothing() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let ctx = context(&srv.url(), ServiceConfig { username: Some("only-user".into()), ..Default::default() });
    let schemes = json!({
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        "basic": {"type": "http", "scheme": "basic"}
    });
    let err = call(&ctx, &op(json!([{"key": []}, {"basic": []}]), schemes)).await.expect_err("no credentials");
    assert!(matches!(err, Error::Auth { ref service, .. } if service == "svc"), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("`key` (api key in header `X-Key`) or `basic` (http basic)"), "{msg}");
    assert!(msg.contains("OPDECK_SVC_TOKEN") && msg.contains("OPDECK_SVC_USERNAME and OPDECK_SVC_PASSWORD"), "{msg}");
    assert!(msg.contains("[profiles.default.svc]"), "{msg}");
    assert_eq!(srv.hits(), 0);
}

/// A server with `/oauth/token` issuing `t1`, `t2`, … and `/data` accepting the latest.
async fn oauth_server(expires_in: u64, refresh: bool) -> TestServer {
    let issued = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |req| {
        if req.path() == "/oauth/token" {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            let mut body = json!({"access_token": format!("t{n}"), "token_type": "bearer", "expires_in": expires_in});
            if refresh {
                body["refresh_token"] = json!(format!("r{n}"));
            }
            return Reply::json(body);
        }
        let latest = format!("Bearer t{}", issued.load(Ordering::SeqCst));
        if req.header("authorization") == Some(latest.as_str()) {
            Reply::json(json!({"ok": true}))
        } else {
            Reply::json(json!({"error": "invalid_token"})).with_status(401)
        }
    })
    .await
}

fn oauth_op() -> OperationMeta {
    op(
        json!([{"oauth2": ["read", "write"]}]),
        json!({"oauth2": {"type": "oauth2", "client_credentials_token_url": "/oauth/token", "password_token_url": "/oauth/token"}}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_token_is_fetched_once_and_reused() {
    let srv = oauth_server(3600, false).await;
    let svc = ServiceConfig { client_id: Some("cid".into()), client_secret: Some(SECRET.into()), ..Default::default() };
    let ctx = context(&format!("{}/api", srv.url()), svc);
    let m = oauth_op();
    call(&ctx, &m).await.expect("first call");
    call(&ctx, &m).await.expect("second call");
    let tokens = on(&srv, "/oauth/token");
    assert_eq!(tokens.len(), 1, "one token request for two calls");
    let t = &tokens[0];
    assert_eq!(t.method, "POST");
    assert_eq!(t.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(t.body_text(), "grant_type=client_credentials&scope=read+write");
    let basic = format!("Basic {}", base64_of(&format!("cid:{SECRET}")));
    assert_eq!(t.header("authorization"), Some(basic.as_str()));
    let data = on(&srv, "/api/data");
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|r| r.header("authorization") == Some("Bearer t1")));
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread")]
async fn password_grant_sends_the_user_and_a_public_client_id() {
    let srv = oauth_server(3600, false).await;
    let svc = ServiceConfig { client_id: Some("cid".into()), ..user("alice", "p@ss word") };
    let ctx = context(&srv.url(), svc);
    call(&ctx, &oauth_op()).await.expect("call");
    let t = &on(&srv, "/oauth/token")[0];
    assert_eq!(t.body_text(), "grant_type=password&username=alice&password=p%40ss+word&scope=read+write&client_id=cid");
    assert_eq!(t.header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_token_url_overrides_the_spec_and_short_tokens_are_refreshed() {
    let srv = oauth_server(1, true).await;
    let svc = ServiceConfig {
        client_id: Some("cid".into()),
        client_secret: Some(SECRET.into()),
        token_url: Some(format!("{}/oauth/token", srv.url())),
        ..Default::default()
    };
    let ctx = context(&srv.url(), svc);
    let m = op(
        json!([{"o": []}]),
        json!({"o": {"type": "oauth2", "client_credentials_token_url": "https://elsewhere.invalid/t"}}),
    );
    call(&ctx, &m).await.expect("first call");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    call(&ctx, &m).await.expect("second call after expiry");
    let tokens = on(&srv, "/oauth/token");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].body_text(), "grant_type=client_credentials");
    assert_eq!(tokens[1].body_text(), "grant_type=refresh_token&refresh_token=r1");
    assert_eq!(on(&srv, "/data")[1].header("authorization"), Some("Bearer t2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth2_401_fetches_a_new_token_and_resends_once() {
    let srv = oauth_server(3600, false).await;
    let svc = ServiceConfig { client_id: Some("cid".into()), client_secret: Some(SECRET.into()), ..Default::default() };
    let ctx = context(&srv.url(), svc);
    let m = oauth_op();
    call(&ctx, &m).await.expect("first call");
    // Another client takes a token: ours (t1) is now rejected.
    reqwest::Client::new().post(format!("{}/oauth/token", srv.url())).send().await.expect("steal");
    call(&ctx, &m).await.expect("renewed call");
    let data = on(&srv, "/data");
    let sent: Vec<_> = data.iter().map(|r| r.header("authorization").unwrap_or("")).collect();
    assert_eq!(sent, ["Bearer t1", "Bearer t1", "Bearer t3"]);
}

/// A Kitsu-shaped flow: `POST /auth/login` with `{email, password}`, bearer token.
fn kitsu_flow() -> LoginFlow {
    LoginFlow {
        username_field: "email".into(),
        refresh_token: Some("/refresh_token".into()),
        refresh: Some(Route::Path(Method::Get, "/auth/refresh-token".into())),
        expired: vec![
            Expiry { status: 401, message: None },
            Expiry { status: 422, message: Some("Signature has expired".into()) },
        ],
        ..LoginFlow::new(
            Route::Path(Method::Post, "/auth/login".into()),
            TokenSource::Json("/access_token".into()),
            Placement::Header { name: "Authorization".into(), prefix: "Bearer ".into() },
        )
    }
}

fn kitsu_op() -> OperationMeta {
    op(
        json!([{"JWT Authorization": []}]),
        json!({"JWT Authorization": {"type": "apiKey", "name": "Authorization", "in": "header"}}),
    )
}

/// Logins issue `a1`, `a2`, … (refresh tokens `r1`, …); `/data` answers `data(n)`
/// for the n-th data request given the latest token's number.
async fn login_server(data: impl Fn(usize, usize) -> Reply + Send + Sync + 'static) -> TestServer {
    let logins = Arc::new(AtomicUsize::new(0));
    let hits = AtomicUsize::new(0);
    TestServer::start(move |req| match req.path() {
        "/auth/login" => {
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(json!({"access_token": format!("a{n}"), "refresh_token": format!("r{n}"), "login": true}))
        }
        "/auth/refresh-token" => {
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(json!({"access_token": format!("a{n}")}))
        }
        _ => data(hits.fetch_add(1, Ordering::SeqCst) + 1, logins.load(Ordering::SeqCst)),
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn login_flow_logs_in_once_and_reuses_the_token() {
    let srv = login_server(|_, _| Reply::json(json!({"ok": true}))).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(kitsu_flow());
    let ctx = context(&srv.url(), svc);
    let m = kitsu_op();
    call(&ctx, &m).await.expect("first");
    call(&ctx, &m).await.expect("second");
    let logins = on(&srv, "/auth/login");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].method, "POST");
    assert_eq!(logins[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&logins[0].body).expect("json login body");
    assert_eq!(body, json!({"email": "admin@example.com", "password": SECRET}));
    assert!(on(&srv, "/data").iter().all(|r| r.header("authorization") == Some("Bearer a1")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_logs_in_again_once_and_a_second_401_is_a_status_error() {
    // The first data request succeeds, the second gets 401, the retry succeeds.
    let srv = login_server(|n, _| if n == 2 { Reply::status(401) } else { Reply::json(json!({"n": n})) }).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(LoginFlow { refresh: None, ..kitsu_flow() });
    let ctx = context(&srv.url(), svc);
    let m = kitsu_op();
    call(&ctx, &m).await.expect("first");
    assert_eq!(call(&ctx, &m).await.expect("renewed"), json!({"n": 3}));
    assert_eq!(on(&srv, "/auth/login").len(), 2);
    assert_eq!(on(&srv, "/data")[2].header("authorization"), Some("Bearer a2"));

    let always = login_server(|_, _| Reply::status(401)).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(LoginFlow { refresh: None, ..kitsu_flow() });
    let ctx = context(&always.url(), svc);
    let err = call(&ctx, &m).await.expect_err("still unauthorized");
    assert_eq!(err.status(), Some(401));
    assert_eq!((on(&always, "/auth/login").len(), on(&always, "/data").len()), (2, 2), "no loop");
}

/// Logins issue `a1`, `a2`, …; a data request whose `Authorization` is
/// `refused` gets `refusal`, any other `{"ok": true}`.
async fn refusing_server(refused: &'static str, refusal: Reply) -> TestServer {
    let logins = AtomicUsize::new(0);
    TestServer::start(move |req| match req.path() {
        "/auth/login" => {
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(json!({"access_token": format!("a{n}"), "login": true}))
        }
        _ if req.header("authorization") == Some(refused) => refusal.clone(),
        _ => Reply::json(json!({"ok": true})),
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_rejected_together_share_one_new_login() {
    // Every request made with the first token is refused; eight calls in
    // flight must cause one renewal between them, not one each.
    let srv = refusing_server("Bearer a1", Reply::status(401)).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(LoginFlow { refresh: None, ..kitsu_flow() });
    let ctx = context(&srv.url(), svc);
    let m = kitsu_op();
    let calls = (0..8).map(|_| call(&ctx, &m));
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.expect("renewed"), json!({"ok": true}));
    }
    assert_eq!(on(&srv, "/auth/login").len(), 2, "one first login, one renewal");
    let data = on(&srv, "/data");
    assert_eq!(data.iter().filter(|r| r.header("authorization") == Some("Bearer a2")).count(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_flow_from_the_config_file_logs_in_and_places_the_token() {
    let srv = login_server(|_, _| Reply::json(json!({"ok": true}))).await;
    let text = format!(
        r#"
[profiles.default.svc]
url = "{}"
username = "ann@example.com"
password = {{ env = "SVC_PW" }}

[profiles.default.svc.login]
call = "POST /auth/login"
username_field = "email"
extra = {{ remember = true }}
token = "/access_token"
header = "X-Session"
"#,
        srv.url()
    );
    let pw = |name: &str| (name == "SVC_PW").then(|| SECRET.to_owned());
    let mut config = Config::from_sources(Some(&text), pw, None).expect("config");
    config.http = quick_settings();
    let transport = Arc::new(HttpTransport::with_settings(&config.http).expect("transport"));
    let ctx = Context::new(Arc::new(Registry::new()), transport, Arc::new(config));
    assert_eq!(call(&ctx, &kitsu_op()).await.expect("call"), json!({"ok": true}));
    let logins = on(&srv, "/auth/login");
    assert_eq!(logins.len(), 1);
    let body: Value = serde_json::from_slice(&logins[0].body).expect("json login body");
    assert_eq!(body, json!({"email": "ann@example.com", "password": SECRET, "remember": true}));
    let data = on(&srv, "/data");
    assert_eq!((data[0].header("x-session"), data[0].header("authorization")), (Some("a1"), None));
}

#[tokio::test(flavor = "multi_thread")]
async fn zou_signature_expired_uses_the_refresh_token() {
    let srv = login_server(|n, _| {
        if n == 1 {
            Reply::json(json!({"msg": "Signature has expired"})).with_status(422)
        } else {
            Reply::json(json!({"ok": true}))
        }
    })
    .await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(kitsu_flow());
    let ctx = context(&srv.url(), svc);
    call(&ctx, &kitsu_op()).await.expect("refreshed");
    let refresh = on(&srv, "/auth/refresh-token");
    assert_eq!(refresh.len(), 1);
    assert_eq!(refresh[0].method, "GET");
    assert_eq!(refresh[0].header("authorization"), Some("Bearer r1"));
    assert_eq!(on(&srv, "/auth/login").len(), 1);
    assert_eq!(on(&srv, "/data")[1].header("authorization"), Some("Bearer a2"));
    // A 422 about anything else is an ordinary answer: no renewal.
    assert!(!auth::refresh(&ctx, &kitsu_op(), &sent_to(&srv), 422, &json!({"msg": "bad"})).await.expect("no refresh"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_token_wins_over_the_login_flow_and_takes_its_prefix() {
    let srv = login_server(|_, _| Reply::json(json!({}))).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.token = Some("jwt".into());
    svc.login = Some(kitsu_flow());
    let ctx = context(&srv.url(), svc);
    call(&ctx, &kitsu_op()).await.expect("call");
    assert_eq!(srv.last().header("authorization"), Some("Bearer jwt"));
    assert_eq!(on(&srv, "/auth/login").len(), 0);
    // Nothing else configured: a refused token cannot be replaced.
    let ctx = context(&srv.url(), token("jwt"));
    assert!(!auth::refresh(&ctx, &kitsu_op(), &sent_to(&srv), 401, &Value::Null).await.expect("static"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_configured_token_gives_way_to_the_login_flow() {
    // Zou answers 422 "Signature has expired" to the old token.
    let refusal = Reply::json(json!({"msg": "Signature has expired"})).with_status(422);
    let srv = refusing_server("Bearer old-jwt", refusal).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.token = Some("old-jwt".into());
    svc.login = Some(LoginFlow { refresh: None, ..kitsu_flow() });
    let ctx = context(&srv.url(), svc);
    let m = kitsu_op();
    assert_eq!(call(&ctx, &m).await.expect("renewed by logging in"), json!({"ok": true}));
    assert_eq!(call(&ctx, &m).await.expect("the session is reused"), json!({"ok": true}));
    let sent: Vec<Option<String>> =
        on(&srv, "/data").iter().map(|r| r.header("authorization").map(str::to_owned)).collect();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    assert_eq!(sent, [bearer("old-jwt"), bearer("a1"), bearer("a1")]);
    assert_eq!(on(&srv, "/auth/login").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dracoon_style_login_puts_the_token_in_its_own_header() {
    let srv = TestServer::start(|req| match req.path() {
        "/api/v4/auth/login" => Reply::json(json!({"token": "sds-token"})),
        _ => Reply::json(json!({})),
    })
    .await;
    let mut flow = LoginFlow::new(
        Route::Path(Method::Post, "/v4/auth/login".into()),
        TokenSource::Json("/token".into()),
        Placement::Header { name: "X-Sds-Auth-Token".into(), prefix: String::new() },
    );
    flow.login = Route::Path(Method::Post, "/v4/auth/login".into());
    flow.username_field = "login".into();
    flow.extra.insert("authType".into(), json!("basic"));
    let mut svc = user("admin", SECRET);
    svc.login = Some(flow);
    let ctx = context(&format!("{}/api", srv.url()), svc);
    call(&ctx, &oauth_op()).await.expect("call");
    let login: Value = serde_json::from_slice(&on(&srv, "/api/v4/auth/login")[0].body).expect("json");
    assert_eq!(login, json!({"authType": "basic", "login": "admin", "password": SECRET}));
    let data = srv.last();
    assert_eq!(data.header("x-sds-auth-token"), Some("sds-token"));
    assert_eq!(data.header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn seald_style_login_opens_a_cookie_session() {
    let srv = TestServer::start(|req| match req.path() {
        "/login/" => Reply::json(json!({"status": "ok"}))
            .with_status(201)
            .header("set-cookie", "csrftoken=x; Path=/")
            .header("set-cookie", "sessionid=sess-1; HttpOnly; Path=/"),
        _ => Reply::json(json!({})),
    })
    .await;
    let mut svc = user("admin@example.com", SECRET);
    let mut flow = LoginFlow::new(
        Route::Path(Method::Post, "/login/".into()),
        TokenSource::Cookie("sessionid".into()),
        Placement::Cookie("sessionid".into()),
    );
    flow.username_field = "email".into();
    flow.schemes = vec!["DashboardSession".into()];
    svc.login = Some(flow);
    let ctx = context(&srv.url(), svc);
    let m = op(
        json!([{"DashboardApiKey": []}, {"DashboardSession": []}]),
        json!({
            "DashboardApiKey": {"type": "apiKey", "name": "X-DASHBOARD-API-KEY", "in": "header"},
            "DashboardSession": {"type": "apiKey", "name": "sessionid", "in": "cookie"}
        }),
    );
    call(&ctx, &m).await.expect("call");
    assert_eq!(srv.last().header("cookie"), Some("sessionid=sess-1"));
    assert_eq!(srv.last().header("x-dashboard-api-key"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_logins_and_grants_fail_without_showing_secrets() {
    let srv =
        TestServer::always(Reply::json(json!({"error": "invalid_client", "echo": SECRET})).with_status(401)).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(kitsu_flow());
    let ctx = context(&srv.url(), svc);
    let err = call(&ctx, &kitsu_op()).await.expect_err("refused login");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("answered http status 401"), "{err}");
    let svc = ServiceConfig { client_id: Some("cid".into()), client_secret: Some(SECRET.into()), ..Default::default() };
    let ctx2 = context(&srv.url(), svc);
    let err2 = call(&ctx2, &oauth_op()).await.expect_err("refused grant");
    assert!(err2.to_string().ends_with("answered http status 401 (invalid_client)"), "{err2}");
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        err2.to_string(),
        format!("{err2:?}"),
        format!("{ctx:?}"),
        format!("{:?}", ctx.config()),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_shows_where_credentials_go_but_never_their_value() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let ctx = context(&srv.url(), token(SECRET));
    let m = op(
        json!([{"k": [], "q": []}]),
        json!({
            "k": {"type": "apiKey", "name": "X-Key", "in": "header"},
            "q": {"type": "apiKey", "name": "key", "in": "query"}
        }),
    );
    let httpop = HttpOperation::new(m.clone());
    let mut request = httpop.prepare(&ctx, &json!({})).await.expect("prepare");
    auth::authorize_offline(&ctx, &m, &mut request);
    let shown = opdeck::wire::curl::render(&request);
    assert!(shown.contains("X-Key: <redacted>"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert_eq!(request.header("x-key").map(|p| p.sensitive), Some(true));
    assert!(request.is_secret_query("key") && request.query_pairs().any(|(k, _)| k == "key"));
    // With no credentials at all, the dry run shows none: none would be sent
    // (issue 14; main showed `X-Key: <redacted>` here).
    let bare = context(&srv.url(), ServiceConfig::default());
    let mut request = httpop.prepare(&bare, &json!({})).await.expect("prepare");
    auth::authorize_offline(&bare, &m, &mut request);
    assert_eq!(request.header("x-key").map(|p| p.shown()), None);
    assert!(!request.query_pairs().any(|(k, _)| k == "key"));
    assert_eq!(srv.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_calls_share_one_login() {
    let srv = login_server(|_, _| Reply::json(json!({})).delay(std::time::Duration::from_millis(20))).await;
    let mut svc = user("admin@example.com", SECRET);
    svc.login = Some(kitsu_flow());
    let ctx = context(&srv.url(), svc);
    let m = kitsu_op();
    let calls = (0..8).map(|_| call(&ctx, &m));
    for result in futures::future::join_all(calls).await {
        result.expect("call");
    }
    assert_eq!(on(&srv, "/auth/login").len(), 1);
    assert_eq!(on(&srv, "/data").len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_kitsu_profile_logs_in_by_email() {
    let srv = login_server(|_, _| Reply::json(json!([]))).await;
    let mut config = Config { http: quick_settings(), ..Config::default() };
    let svc = ServiceConfig { base_url: Some(srv.url()), ..user("admin@example.com", SECRET) };
    config.services.insert("kitsu".into(), svc);
    let transport = Arc::new(HttpTransport::with_settings(&config.http).expect("transport"));
    let ctx = Context::new(Arc::new(Registry::new()), transport, Arc::new(config));
    let mut m = kitsu_op();
    m.service = "kitsu".into();
    m.id = "kitsu.g.op".into();
    call(&ctx, &m).await.expect("call");
    let body: Value = serde_json::from_slice(&on(&srv, "/auth/login")[0].body).expect("json");
    assert_eq!(body, json!({"email": "admin@example.com", "password": SECRET}));
    assert_eq!(on(&srv, "/data")[0].header("authorization"), Some("Bearer a1"));
}

/// A deck over the built-in Kitsu at `url`, logging in as admin, with `cache`.
fn cached_kitsu(url: &str, cache: &Arc<opdeck::auth::MemorySessionCache>) -> opdeck::Deck {
    opdeck::Deck::builder()
        .builtins(opdeck::Builtins::Only(vec!["kitsu".into()]))
        .base_url("kitsu", url)
        .login("kitsu", "admin@example.com", SECRET)
        .session_cache(cache.clone())
        .build()
        .expect("deck")
}

#[tokio::test(flavor = "multi_thread")]
async fn decks_sharing_a_session_cache_log_in_once_and_logout_clears_it() {
    // Failed on main: there was no session cache, every deck logged in.
    let srv = login_server(|_, _| Reply::json(json!([]))).await;
    let cache = Arc::new(opdeck::auth::MemorySessionCache::default());
    for _ in 0..3 {
        cached_kitsu(&srv.url(), &cache).call("kitsu.projects.list", json!({})).await.expect("listed");
    }
    assert_eq!(on(&srv, "/auth/login").len(), 1);
    let shown = format!("{cache:?} {:?}", cached_kitsu(&srv.url(), &cache).context());
    assert!(!shown.contains("a1") && !shown.contains(SECRET), "{shown}");
    // Another base URL is another session.
    let other = format!("{}/", srv.url());
    cached_kitsu(&other, &cache).call("kitsu.projects.list", json!({})).await.expect("listed");
    assert_eq!(on(&srv, "/auth/login").len(), 2);
    let deck = cached_kitsu(&srv.url(), &cache);
    assert_eq!(deck.logout(Some("kitsu")), 2);
    cached_kitsu(&srv.url(), &cache).call("kitsu.projects.list", json!({})).await.expect("listed");
    assert_eq!(on(&srv, "/auth/login").len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_cached_session_is_not_used_and_the_new_one_is_cached() {
    let srv = login_server(|_, logins| Reply::json(json!({"logins": logins}))).await;
    let cache = Arc::new(opdeck::auth::MemorySessionCache::default());
    let key = opdeck::auth::SessionKey {
        profile: "default".into(),
        service: "kitsu".into(),
        base_url: srv.url(),
        flow: "kitsu/login".into(),
        username: Some("admin@example.com".into()),
    };
    let stale = opdeck::auth::CachedSession {
        access: opdeck::Secret::new("old-token"),
        refresh: None,
        expires_at: Some(std::time::SystemTime::now() - std::time::Duration::from_secs(1)),
    };
    opdeck::auth::SessionCache::store(cache.as_ref(), &key, &stale);
    cached_kitsu(&srv.url(), &cache).call("kitsu.projects.list", json!({})).await.expect("listed");
    assert_eq!(on(&srv, "/auth/login").len(), 1, "the expired token was not used");
    let sent: Vec<_> =
        on(&srv, "/data/projects").iter().map(|r| r.header("authorization").map(str::to_owned)).collect();
    assert_eq!(sent, [Some("Bearer a1".to_owned())]);
    let stored = opdeck::auth::SessionCache::load(cache.as_ref(), &key).expect("stored");
    assert_eq!(stored.access.expose(), "a1");
}
