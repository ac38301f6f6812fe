//! Live scenarios against a real Kitsu (Zou) through the built-in catalog and
//! the Kitsu profile: the login flow, a project's whole life, renewal of an
//! expired or broken token, and paging over an open-query filter.
//!
//! Needs `eval "$(bash tests/peers/zou.sh env)"`; without it the tests fail
//! under `CI` and print a notice elsewhere. Every name is unique to the run
//! (pid and clock), and what a scenario creates is deleted even when it fails.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures::{FutureExt as _, StreamExt as _, TryFutureExt as _};
use hmac::{Hmac, Mac as _};
use opdeck::PageLimits;
use opdeck::model::{Body, Method};
use opdeck::wire::Pair;
use opdeck::wire::client::HttpTransport;
use opdeck::{Config, Deck, Error, Registry};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::peers::{self, Exchange, Recorder, Zou};

struct Live {
    deck: Deck,
    recorder: Arc<Recorder>,
    zou: Zou,
}

/// A deck over the built-in catalogs, configured with the Zou admin's
/// username and password only, sending through a recorder.
fn live() -> Option<Live> {
    let zou = match peers::zou() {
        Ok(z) => z,
        Err(why) => {
            peers::unavailable("zou (kitsu)", &why);
            return None;
        }
    };
    let env: HashMap<&str, String> = [
        ("OPDECK_KITSU_URL", zou.url.clone()),
        ("OPDECK_KITSU_USERNAME", zou.username.clone()),
        ("OPDECK_KITSU_PASSWORD", zou.password.clone()),
    ]
    .into_iter()
    .collect();
    let mut config = Config::from_sources(None, |k| env.get(k).cloned(), None).expect("config");
    // Exact exchange counts are asserted: no transport retry may add one.
    config.http.retries = 0;
    let registry = Arc::new(Registry::new());
    for source in opdeck::catalog::builtin() {
        registry.register(&source).expect("a built-in catalog registers");
    }
    let recorder = Recorder::new(Arc::new(HttpTransport::with_settings(&config.http).expect("transport")));
    Some(Live { deck: Deck::new(registry, recorder.clone(), config), recorder, zou })
}

impl Live {
    /// The id of the Kitsu operation at `method path` (ids may be renamed;
    /// routes are Zou's).
    fn op(&self, method: Method, path: &str) -> String {
        let ops = self.deck.registry().service("kitsu").expect("the kitsu catalog is built in");
        ops.iter()
            .map(|op| op.meta())
            .find(|m| m.method == method && m.path == path)
            .map(|m| m.id.clone())
            .unwrap_or_else(|| panic!("the kitsu catalog has no {method} {path}"))
    }

    async fn call(&self, method: Method, path: &str, input: Value) -> opdeck::Result<Value> {
        self.deck.call(&self.op(method, path), input).await.map(opdeck::Body::into_value)
    }

    /// Closes and deletes projects, deletes task types; errors are ignored
    /// because this runs after failures too.
    async fn clean(&self, projects: &[String], task_types: &[String]) {
        if !projects.is_empty()
            && let Ok(closed) = self.closed_status().await
        {
            for id in projects {
                let body = json!({"instance_id": id, "body": {"project_status_id": closed}});
                let _ = self.call(Method::Put, "/data/projects/{instance_id}", body).await;
                let _ = self
                    .call(Method::Delete, "/data/projects/{instance_id}", json!({"instance_id": id, "force": true}))
                    .await;
            }
        }
        for id in task_types {
            let _ = self.call(Method::Delete, "/data/task-types/{instance_id}", json!({"instance_id": id})).await;
        }
    }

    /// The id of the "Closed" project status, found by an open-query filter.
    async fn closed_status(&self) -> opdeck::Result<String> {
        let found = self.call(Method::Get, "/data/project-status", json!({"name": "Closed"})).await?;
        let items = found.as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "one `Closed` project status: {found}");
        Ok(items[0]["id"].as_str().expect("status id").to_owned())
    }
}

/// A name no other run uses.
fn unique(what: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("opdeck-live-{what}-{}-{nanos}", std::process::id())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

fn hs256(secret: &str, message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The claims of a JWT whose HS256 signature is valid for `secret`.
fn verified_claims(token: &str, secret: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three segments");
    let header: Value = serde_json::from_slice(&unb64(parts[0])).expect("jwt header");
    assert_eq!(header["alg"], "HS256");
    let signed = format!("{}.{}", parts[0], parts[1]);
    assert!(hs256(secret, &signed) == unb64(parts[2]), "the token is signed with Zou's secret key");
    serde_json::from_slice(&unb64(parts[1])).expect("jwt claims")
}

/// A token with `claims` but expired an hour ago, signed like Zou's.
fn expired_token(claims: &Value, secret: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let mut claims = claims.clone();
    claims["iat"] = json!(now - 7200);
    claims["nbf"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    claims["jti"] = json!(unique("jti"));
    let head = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = format!("{head}.{}", b64(claims.to_string().as_bytes()));
    let signature = b64(&hs256(secret, &body));
    format!("{body}.{signature}")
}

/// The bearer token a request carried.
fn bearer(x: &Exchange) -> String {
    let value = x.header("authorization").unwrap_or_else(|| panic!("no Authorization on {} {}", x.method, x.path));
    value.strip_prefix("Bearer ").unwrap_or_else(|| panic!("not a bearer credential on {}", x.path)).to_owned()
}

fn is_renewal(x: &Exchange) -> bool {
    x.path == "/auth/login" || x.path == "/auth/refresh-token"
}

/// Runs `scenario`, then `clean`, then re-raises the scenario's panic.
async fn with_cleanup<F, C>(scenario: F, clean: C)
where
    F: std::future::Future<Output = ()>,
    C: std::future::Future<Output = ()>,
{
    let outcome = AssertUnwindSafe(scenario).catch_unwind().await;
    clean.await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_call_logs_in_and_sends_the_bearer_jwt() {
    let Some(live) = live() else { return };
    let who = live.call(Method::Get, "/auth/authenticated", json!({})).await.expect("authenticated");
    assert_eq!(who["authenticated"], true, "{who}");
    assert_eq!(who["user"]["email"], live.zou.username.as_str());

    let xs = live.recorder.exchanges();
    let paths: Vec<(Method, &str, u16)> = xs.iter().map(|x| (x.method, x.path.as_str(), x.status)).collect();
    assert_eq!(paths, [(Method::Post, "/auth/login", 200), (Method::Get, "/auth/authenticated", 200)]);
    assert!(xs[0].header("authorization").is_none(), "the login itself carries no token");
    let claims = verified_claims(&bearer(&xs[1]), &live.zou.secret_key);
    assert_eq!(claims["sub"], who["user"]["id"], "the token is the admin's");
    assert_eq!(claims["type"], "access");

    // The session is cached: a second call sends the same token, no login.
    live.call(Method::Get, "/auth/authenticated", json!({})).await.expect("second call");
    let xs = live.recorder.exchanges();
    assert_eq!(xs.len(), 3);
    assert_eq!(bearer(&xs[2]), bearer(&xs[1]));
    // Neither the password nor the token shows in the deck's Debug output.
    let shown = format!("{:?} {:?}", live.deck, live.recorder.exchanges());
    assert!(!shown.contains(&live.zou.password) && !shown.contains(&bearer(&xs[1])), "a secret leaked into Debug");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_lives_and_dies() {
    let Some(live) = live() else { return };
    let created = std::sync::Mutex::new(Vec::<String>::new());
    let scenario = async {
        let name = unique("project");
        let project = live.call(Method::Post, "/data/projects", json!({"body": {"name": name}})).await.expect("create");
        let id = project["id"].as_str().expect("project id").to_owned();
        created.lock().expect("lock").push(id.clone());
        assert_eq!(project["name"], name.as_str());

        let read =
            live.call(Method::Get, "/data/projects/{instance_id}", json!({"instance_id": id})).await.expect("read");
        assert_eq!((read["id"].as_str(), read["name"].as_str()), (Some(id.as_str()), Some(name.as_str())));

        let renamed = format!("{name}-renamed");
        let input = json!({"instance_id": id, "body": {"name": renamed}});
        let updated = live.call(Method::Put, "/data/projects/{instance_id}", input).await.expect("update");
        assert_eq!(updated["name"], renamed.as_str());

        // `name` is no declared parameter of the list route: the open query sends it.
        let listed = live.call(Method::Get, "/data/projects", json!({"name": renamed})).await.expect("filtered list");
        let ids: Vec<&str> = listed.as_array().expect("a list").iter().filter_map(|p| p["id"].as_str()).collect();
        assert_eq!(ids, [id.as_str()], "the filter finds exactly the new project");
        let list_x = live.recorder.exchanges().into_iter().rev().find(|x| x.path == "/data/projects").expect("sent");
        assert!(list_x.query.contains(&format!("name={renamed}")), "query on the wire: {}", list_x.query);

        let closed = live.closed_status().await.expect("project statuses");
        let input = json!({"instance_id": id, "body": {"project_status_id": closed}});
        let updated = live.call(Method::Put, "/data/projects/{instance_id}", input).await.expect("close");
        assert_eq!(updated["project_status_id"], closed.as_str());

        let input = json!({"instance_id": id, "force": true});
        let out = live.deck.call_full(&live.op(Method::Delete, "/data/projects/{instance_id}"), input).await;
        let out = out.expect("delete the closed project");
        assert_eq!((out.status, &out.body), (204, &Body::Empty));
        created.lock().expect("lock").clear();

        let gone = live.call(Method::Get, "/data/projects/{instance_id}", json!({"instance_id": id})).await;
        match gone {
            Err(Error::Status { status: 404, operation, .. }) => {
                assert_eq!(operation, live.op(Method::Get, "/data/projects/{instance_id}"));
            }
            other => panic!("reading a deleted project must be a 404 status error, got {other:?}"),
        }
    };
    let leftovers = || created.lock().map(|c| c.clone()).unwrap_or_default();
    with_cleanup(scenario, async { live.clean(&leftovers(), &[]).await }).await;
}

/// One renewal, then the same call succeeds with a new token: the broken
/// credential is played by replacing the next request's Authorization.
async fn renews_once_after(live: &Live, broken: impl FnOnce(&str) -> String, zou_status: u16) {
    live.call(Method::Get, "/auth/authenticated", json!({})).await.expect("first call logs in");
    let good = bearer(&live.recorder.exchanges()[1]);
    let bad = broken(&good);
    live.recorder.clear();
    live.recorder.tamper_next(
        Method::Get,
        "/auth/authenticated",
        Pair::secret("Authorization", format!("Bearer {bad}")),
    );

    let who = live.call(Method::Get, "/auth/authenticated", json!({})).await.expect("the call succeeds after renewal");
    assert_eq!(who["user"]["email"], live.zou.username.as_str());
    let xs = live.recorder.exchanges();
    let seen: Vec<(&str, u16)> = xs.iter().map(|x| (x.path.as_str(), x.status)).collect();
    assert_eq!(xs.iter().filter(|x| is_renewal(x)).count(), 1, "exactly one renewal: {seen:?}");
    let calls: Vec<&Exchange> = xs.iter().filter(|x| x.path == "/auth/authenticated").collect();
    assert_eq!(calls.len(), 2, "the call is sent twice: {seen:?}");
    assert_eq!((bearer(calls[0]), calls[0].status), (bad, zou_status));
    assert_eq!(calls[1].status, 200);
    let fresh = bearer(calls[1]);
    assert_ne!(fresh, good, "a new token was obtained");
    assert_eq!(verified_claims(&fresh, &live.zou.secret_key)["sub"], who["user"]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_renewed_once() {
    let Some(live) = live() else { return };
    let secret = live.zou.secret_key.clone();
    renews_once_after(&live, |good| expired_token(&verified_claims(good, &secret), &secret), 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_token_is_renewed_once() {
    let Some(live) = live() else { return };
    renews_once_after(&live, |_| "not-a-jwt".to_owned(), 422).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_ten_return_every_created_item_once() {
    let Some(live) = live() else { return };
    const N: usize = 25;
    // Task type names are short columns in Zou: keep the prefix under 30 characters.
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let prefix = format!("opdeck-{}-{}", std::process::id(), secs % 1_000_000);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    // A colour no other run shares: the open-query filter that selects exactly ours.
    let color = format!("#{:06x}", (nanos ^ std::process::id().rotate_left(12)) & 0xff_ffff);
    let created = std::sync::Mutex::new(Vec::<String>::new());
    let scenario = async {
        let create = live.op(Method::Post, "/data/task-types");
        let made: Vec<opdeck::Result<Value>> = futures::stream::iter(0..N)
            .map(|i| {
                let body = json!({"body": {"name": format!("{prefix}-{i:02}"), "for_entity": "Asset", "color": color}});
                live.deck.call(&create, body).map_ok(opdeck::Body::into_value)
            })
            .buffer_unordered(4)
            .collect()
            .await;
        for item in made {
            let item = item.expect("create a task type");
            created.lock().expect("lock").push(item["id"].as_str().expect("id").to_owned());
        }
        let expected: BTreeSet<String> = created.lock().expect("lock").iter().cloned().collect();
        assert_eq!(expected.len(), N);

        live.recorder.clear();
        let list = live.op(Method::Get, "/data/task-types");
        let mut pager =
            live.deck.pager(&list, json!({"color": color, "limit": 10}), PageLimits::default()).expect("a pager");
        let mut sizes = Vec::new();
        let mut ids = Vec::new();
        while let Some(page) = pager.next_page().await.expect("a page") {
            sizes.push(page.len());
            for item in page {
                assert!(item["name"].as_str().is_some_and(|n| n.starts_with(&prefix)), "foreign item {item}");
                ids.push(item["id"].as_str().expect("id").to_owned());
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
        assert_eq!(pager.progress().total, Some(N as u64));
        let unique_ids: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), unique_ids.len(), "no item twice");
        assert_eq!(unique_ids, expected, "every created item, nothing else");
        let pages: Vec<String> = live
            .recorder
            .exchanges()
            .iter()
            .filter(|x| x.path == "/data/task-types")
            .map(|x| x.query.split('&').filter(|p| p.starts_with("page=")).collect())
            .collect();
        assert_eq!(pages, ["page=1", "page=2", "page=3"]);
    };
    let leftovers = || created.lock().map(|c| c.clone()).unwrap_or_default();
    with_cleanup(scenario, async { live.clean(&[], &leftovers()).await }).await;
}
