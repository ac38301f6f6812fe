//! The facade a host or binding uses: the builder, calls and their options,
//! bulk calls, pages, discovery, native operations and policies.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use opdeck::{Body, Builtins, CallOptions, Deck, Error, ErrorKind, Filter, Method, PageLimits, Paging, Policy, Rule};
use serde_json::{Value, json};

use crate::support::{Reply, TestServer};

/// A small service: a list with offset paging, an item, a create, and a binary download.
const PETS: &str = r#"{
  "openapi": "3.0.3", "info": {"title": "pets", "version": "1"},
  "paths": {
    "/pets": {
      "get": {"operationId": "listPets", "tags": ["pets"],
              "parameters": [{"name": "offset", "in": "query", "schema": {"type": "integer"}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}},
      "post": {"operationId": "createPet", "tags": ["pets"],
               "requestBody": {"required": true, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
               "responses": {"201": {"description": "made"}}}
    },
    "/pets/{id}/photo": {
      "get": {"operationId": "getPhoto", "tags": ["pets"],
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "responses": {"200": {"description": "ok", "content": {"image/png": {}}}}}
    }
  }
}"#;

fn offset_rule() -> Paging {
    Paging::Offset {
        offset: "offset".into(),
        limit: "limit".into(),
        items: "/items".into(),
        total: Some("/total".into()),
    }
}

/// A deck with only the `pets` service, pointed at `url`.
async fn pets(url: &str, builder: opdeck::DeckBuilder) -> Deck {
    let deck = builder.builtins(Builtins::None).paging("pets", offset_rule()).build().expect("deck");
    deck.add_source("pets", PETS, Some(url)).await.expect("pets added");
    deck
}

fn pet_server() -> impl Fn(&crate::support::RecordedRequest) -> Reply + Send + Sync + 'static {
    |req| match (req.method.as_str(), req.path()) {
        ("GET", "/pets") => {
            let q: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(req.query().as_bytes()).into_owned().collect();
            let offset: u64 = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            let items: Vec<Value> = (offset..(offset + 4).min(10)).map(|i| json!({"id": i})).collect();
            Reply::json(json!({"items": items, "total": 10}))
        }
        ("POST", "/pets") => Reply::json(json!({"id": 11})).with_status(201),
        ("GET", "/pets/7/photo") => {
            Reply::status(200).header("content-type", "image/png").body(vec![0x89, b'P', 0, 255])
        }
        _ => Reply::status(404),
    }
}

#[tokio::test]
async fn the_builder_chooses_builtins_and_reads_nothing_unasked() {
    let none = Deck::builder().builtins(Builtins::None).build().expect("deck");
    let names: Vec<String> = none.services().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["openapi"]);
    let kitsu = Deck::builder().builtins(Builtins::Only(vec!["kitsu".into()])).build().expect("deck");
    let names: Vec<String> = kitsu.services().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["openapi", "kitsu"]);
    let err = Deck::builder().builtins(Builtins::Only(vec!["kitsuu".into()])).build().expect_err("typo");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.suggestions(), ["kitsu"]);
    // No configuration was read: a built-in service has no base URL.
    let all = Deck::builder().build().expect("deck");
    assert!(!all.context().has_base_url("wildduck"));
    let err = all.call("wildduck.users.getUsers", json!({})).await.expect_err("no url");
    assert!(err.to_string().contains("no base url"), "{err}");
}

#[tokio::test]
async fn call_keeps_binary_bodies_and_call_with_lays_options_over_the_decks() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let photo = deck.call("pets.pets.getPhoto", json!({"id": "7"})).await.expect("photo");
    assert_eq!(photo, Body::Bytes(bytes::Bytes::from_static(&[0x89, b'P', 0, 255])));

    let slow =
        TestServer::always(Reply::json(json!({"items": [], "total": 0})).delay(Duration::from_millis(400))).await;
    let deck = pets(&slow.url(), Deck::builder()).await;
    let short = CallOptions { timeout: Some(Duration::from_millis(50)), ..CallOptions::default() };
    let err = deck.call_with("pets.pets.listPets", json!({}), &short).await.expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.operation(), Some("pets.pets.listPets"));
    // The deck's own options are untouched by the per-call ones.
    assert_eq!(deck.options().timeout, None);
    deck.call("pets.pets.listPets", json!({})).await.expect("no deadline");
}

#[tokio::test]
async fn call_many_keeps_the_order_and_puts_failures_in_place() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let calls = vec![
        ("pets.pets.getPhoto".to_owned(), json!({"id": "7"})),
        ("pets.pets.getPhoto".to_owned(), json!({"id": "8"})),
        ("pets.pets.nope".to_owned(), json!({})),
        ("pets.pets.createPet".to_owned(), json!({"body": {"name": "rex"}})),
    ];
    let results = deck.call_many(calls, 2).await;
    assert!(matches!(&results[0], Ok(Body::Bytes(b)) if b.len() == 4));
    assert_eq!(results[1].as_ref().map_err(Error::status), Err(Some(404)));
    assert_eq!(results[2].as_ref().map_err(Error::kind), Err(ErrorKind::NotFound));
    assert_eq!(results[3].as_ref().ok(), Some(&Body::Json(json!({"id": 11}))));
}

#[tokio::test]
async fn call_each_yields_a_result_while_the_calls_after_it_still_run() {
    let server = TestServer::start(|req| match req.path() {
        "/pets/slow/photo" => Reply::status(200).body(vec![1]).delay(Duration::from_secs(30)),
        "/pets/7/photo" => Reply::status(200).header("content-type", "image/png").body(vec![7]),
        _ => Reply::status(404),
    })
    .await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let photo = |id: &str| ("pets.pets.getPhoto".to_owned(), json!({"id": id}));
    let mut results = Box::pin(deck.call_each(vec![photo("7"), photo("8"), photo("slow")], 3));
    let in_time = Duration::from_secs(10);
    let first = tokio::time::timeout(in_time, results.next()).await.expect("the first result in time");
    assert_eq!(first.expect("an item").expect("a body"), Body::Bytes(bytes::Bytes::from_static(&[7])));
    let second = tokio::time::timeout(in_time, results.next()).await.expect("the second result in time");
    assert_eq!(second.expect("an item").map_err(|e| e.status()), Err(Some(404)));
    assert!(results.next().now_or_never().is_none(), "the slow call is still running");
}

#[test]
fn call_each_runs_its_calls_itself_outside_a_tokio_runtime() {
    let deck = Deck::builder().builtins(Builtins::Only(vec!["wildduck".into()])).mock(true).build().expect("deck");
    let calls = vec![("wildduck.users.getUsers".to_owned(), json!({})), ("wildduck.users.nope".to_owned(), json!({}))];
    let results: Vec<_> = futures::executor::block_on(deck.call_each(calls, 4).collect());
    assert!(matches!(&results[0], Ok(Body::Json(v)) if v.get("results").is_some()), "{:?}", results[0]);
    assert_eq!(results[1].as_ref().map_err(Error::kind), Err(ErrorKind::NotFound));
}

#[tokio::test]
async fn raw_json_hands_a_json_body_over_unparsed_and_nothing_else() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let raw = CallOptions { raw_json: true, ..CallOptions::default() };
    let out = deck.call_with("pets.pets.createPet", json!({"body": {"name": "rex"}}), &raw).await.expect("call");
    let Body::RawJson(text) = &out.body else { panic!("a raw body, not {:?}", out.body) };
    assert_eq!(serde_json::from_slice::<Value>(text).expect("json"), json!({"id": 11}));
    assert_eq!(out.body.clone().into_value(), json!({"id": 11}), "into_value parses it");
    let calls = vec![
        ("pets.pets.createPet".to_owned(), json!({"body": {"name": "rex"}})),
        ("pets.pets.getPhoto".to_owned(), json!({"id": "7"})),
    ];
    let results = deck.call_many_with(calls, 2, &raw).await;
    assert!(matches!(&results[0], Ok(Body::RawJson(_))), "{:?}", results[0]);
    assert!(matches!(&results[1], Ok(Body::Bytes(b)) if b.len() == 4), "bytes stay bytes");
    // The deck's own calls still parse.
    assert_eq!(
        deck.call("pets.pets.createPet", json!({"body": {"name": "rex"}})).await.ok(),
        Some(Body::Json(json!({"id": 11})))
    );
}

#[tokio::test]
async fn a_hosts_service_pages_under_its_declared_rule_as_a_stream() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let items: Vec<Value> = deck
        .paginate("pets.pets.listPets", json!({"limit": 4}), PageLimits::default())
        .map(|item| item.expect("item"))
        .collect()
        .await;
    assert_eq!(items, (0..10).map(|i| json!({"id": i})).collect::<Vec<_>>());
    let pages: Vec<usize> = deck
        .pages("pets.pets.listPets", json!({"limit": 4}), PageLimits { max_pages: Some(2), max_items: None })
        .map(|page| page.expect("page").len())
        .collect()
        .await;
    assert_eq!(pages, [4, 4]);
    let offsets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(offsets[..3], ["/pets?limit=4", "/pets?offset=4&limit=4", "/pets?offset=8&limit=4"]);
}

#[test]
fn the_blocking_iterator_pages_too() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(pet_server()));
    let deck = rt.block_on(pets(&server.url(), Deck::builder()));
    let ids: Vec<Value> = deck
        .paginate_blocking(
            "pets.pets.listPets",
            json!({"limit": 4}),
            PageLimits { max_pages: None, max_items: Some(6) },
        )
        .map(|item| item.expect("item")["id"].clone())
        .collect();
    assert_eq!(ids, (0..6).map(Value::from).collect::<Vec<_>>());
}

/// Blocking calls are driven by the calling thread on a runtime of its own,
/// with a connection of its own: another thread's idle connection (whose
/// task only runs while that thread blocks) is never handed to it.
#[test]
fn blocking_calls_from_many_threads_each_drive_their_own_connection() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(pet_server()));
    let deck = Arc::new(rt.block_on(pets(&server.url(), Deck::builder())));
    let list = |deck: &Deck| deck.call_blocking("pets.pets.listPets", json!({"limit": 4}));

    // Thread A calls, then idles with its runtime stopped and its connection pooled.
    let (called, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let a = {
        let (deck, called, release) = (deck.clone(), called.0, release.1);
        std::thread::spawn(move || {
            called.send(list(&deck).map(Body::into_value)).expect("report");
            release.recv().expect("release");
        })
    };
    let first = called.1.recv_timeout(Duration::from_secs(10)).expect("thread A answered");
    assert_eq!(first.expect("thread A's call")["items"][0]["id"], 0);

    // Meanwhile another thread's call completes on its own connection.
    let (done, answered) = std::sync::mpsc::channel();
    let b = {
        let deck = deck.clone();
        std::thread::spawn(move || done.send(list(&deck).map(Body::into_value)).expect("report"))
    };
    let second = answered.recv_timeout(Duration::from_secs(10)).expect("thread B was not stuck behind thread A");
    assert_eq!(second.expect("thread B's call")["total"], 10);
    b.join().expect("thread B");

    // Threads end with their runtimes; calls go on from this one.
    release.0.send(()).expect("release A");
    a.join().expect("thread A ended cleanly");
    assert_eq!(list(&deck).expect("main thread's call").into_value()["total"], 10);
    assert_eq!(server.requests().len(), 3);
}

/// A blocking call nested in a run this thread drives (an embedded script's
/// coroutine calling the blocking API) goes to the shared runtime and its
/// pool: the thread's own idle connection, whose task cannot run while the
/// thread blocks, would stall it.
#[test]
fn a_blocking_call_nested_in_a_thread_driven_run_uses_the_shared_runtime() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(pet_server()));
    let deck = Arc::new(rt.block_on(pets(&server.url(), Deck::builder())));
    let err = opdeck::runtime::block_on_nested(async {}).expect_err("outside block_on_here");
    assert_eq!(err.kind(), opdeck::ErrorKind::Internal, "{err}");

    let (done, answered) = std::sync::mpsc::channel();
    let run = {
        let deck = deck.clone();
        std::thread::spawn(move || {
            let out = opdeck::runtime::block_on_here(async {
                let input = || json!({"limit": 4});
                let first = deck.call("pets.pets.listPets", input()).await?;
                let nested = opdeck::runtime::block_on_nested(deck.call("pets.pets.listPets", input()))??;
                Ok::<_, opdeck::Error>((first.into_value(), nested.into_value()))
            });
            done.send(out.and_then(|r| r)).expect("report");
        })
    };
    let (first, nested) =
        answered.recv_timeout(Duration::from_secs(10)).expect("the nested call was not stuck").expect("both calls");
    assert_eq!(first["total"], 10);
    assert_eq!(nested["total"], 10);
    run.join().expect("the run's thread");
    assert_eq!(server.connections(), 2, "one connection in each pool");
}

/// A future awaited through `on_shared` inside a thread-driven run (an
/// embedded script's `deck:parallel`) opens its connections in the shared
/// runtime's pool, not the thread's: a later blocking call nested in the
/// run, which may only use the shared pool, finds the connection idle there.
#[test]
fn a_future_on_shared_inside_a_thread_driven_run_uses_the_shared_pool() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(pet_server()));
    let deck = Arc::new(rt.block_on(pets(&server.url(), Deck::builder())));
    let run = {
        let deck = deck.clone();
        std::thread::spawn(move || {
            opdeck::runtime::block_on_here(async {
                let input = || json!({"limit": 4});
                let shared = opdeck::runtime::on_shared(deck.call("pets.pets.listPets", input()))?.await?;
                let nested = opdeck::runtime::block_on_nested(deck.call("pets.pets.listPets", input()))??;
                Ok::<_, opdeck::Error>([shared, nested].map(|out| out.into_value()["total"].clone()))
            })
        })
    };
    let totals = run.join().expect("the run's thread").expect("block_on_here").expect("three calls");
    assert_eq!(totals, [json!(10), json!(10)]);
    assert_eq!(server.hits(), 2);
    assert_eq!(server.connections(), 1, "one connection, in the shared pool, used twice");
}

/// A thread's own connections are not reused once idle for long enough that
/// the server may have closed them: the close is only seen when the thread
/// drives its runtime again, after a POST would already have been written.
#[test]
fn a_post_after_the_server_closed_the_idle_connection_goes_on_a_new_one() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::closing_idle(Duration::from_millis(200), pet_server()));
    let deck = rt.block_on(pets(&server.url(), Deck::builder()));
    let create = || deck.call_blocking("pets.pets.createPet", json!({"body": {"name": "x"}}));
    create().expect("the first POST");
    std::thread::sleep(Duration::from_millis(1300));
    create().expect("a POST after the server closed the idle connection");
    assert_eq!(server.hits(), 2);
    assert_eq!(server.connections(), 2, "one connection per POST");
}

#[test]
fn a_blocking_call_inside_a_blocking_call_is_refused() {
    let inner = opdeck::runtime::block_on_here(async { opdeck::runtime::block_on_here(async {}) });
    let err = inner.expect("the outer call ran").expect_err("the inner call is refused");
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.to_string().contains("use the async API"), "{err}");
}

#[tokio::test]
async fn native_operations_join_their_service_and_are_validated() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder()).await;
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    deck.register_fn("pets.tools.greet", schema, |input: Value| async move { Ok(json!({"hello": input["name"]})) })
        .expect("registered");
    let pets_info = deck.services().into_iter().find(|s| s.name == "pets").expect("pets");
    assert_eq!(pets_info.operations, 4, "three from the spec and the native one");
    let out = deck.call("pets.tools.greet", json!({"name": "ann"})).await.expect("native call");
    assert_eq!(out, Body::Json(json!({"hello": "ann"})));
    let err = deck.call("pets.tools.greet", json!({"name": 5})).await.expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.violations()[0].path, "/name");
    // Adding the spec again keeps the native operation.
    deck.add_source("pets", PETS, Some(&server.url())).await.expect("re-added");
    assert!(
        deck.ops("", &Filter { service: Some("pets".into()), ..Filter::default() })
            .iter()
            .any(|o| o.id == "pets.tools.greet")
    );
    let described = deck.describe("pets.tools.greet").expect("described");
    assert_eq!(described["input_schema"]["required"], json!(["name"]));
}

#[tokio::test]
async fn a_read_only_deck_refuses_writes_from_every_front_end() {
    let server = TestServer::start(pet_server()).await;
    let deck = pets(&server.url(), Deck::builder().read_only(true)).await;
    let err = deck.call("pets.pets.createPet", json!({"body": {"name": "rex"}})).await.expect_err("read-only");
    assert_eq!(err.kind(), ErrorKind::Policy);
    assert!(err.to_string().contains("read-only"), "{err}");
    deck.call("pets.pets.listPets", json!({})).await.expect("reads run");

    // A native operation that calls another goes through the same check.
    let inner = deck.clone();
    deck.register_fn("pets.tools.sneak", json!({}), move |_| {
        let deck = inner.clone();
        async move { Ok(deck.call("pets.pets.createPet", json!({"body": {"name": "x"}})).await?.into_value()) }
    })
    .expect("registered");
    let err = deck.call("pets.tools.sneak", json!({})).await.expect_err("native is POST, refused");
    assert_eq!(err.kind(), ErrorKind::Policy);

    // A script (on a thread of its own, as the CLI runs one): the policy holds inside Rhai too.
    let script_deck = deck.clone();
    let err = std::thread::spawn(move || {
        let engine = opdeck::script::Engine::new(script_deck);
        engine.run(r#"pets.pets.createPet(#{ body: #{ name: "rex" } })"#, "t.rhai", &Default::default())
    })
    .join()
    .expect("joined")
    .expect_err("refused in the script");
    assert!(err.to_string().contains("refused by policy"), "{err}");
    assert!(server.requests().iter().all(|r| r.method == "GET"), "no write reached the server");
}

#[tokio::test]
async fn deny_and_confirm_rules_name_the_rule() {
    let server = TestServer::start(pet_server()).await;
    let policy = Policy { read_only: false, rules: vec![Rule::deny("pets.*.create*").with_method(Method::Post)] };
    let deck = pets(&server.url(), Deck::builder().policy(policy)).await;
    let err = deck.call("pets.pets.createPet", json!({"body": {"name": "rex"}})).await.expect_err("denied");
    assert!(matches!(&err, Error::Policy { rule, .. } if rule == "deny POST pets.*.create*"), "{err}");

    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = asked.clone();
    let builder = Deck::builder()
        .policy(Policy { read_only: false, rules: vec![Rule::confirm("pets.pets.createPet")] })
        .confirm(move |head| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            head.id == "pets.pets.createPet"
        });
    let deck = pets(&server.url(), builder).await;
    deck.call("pets.pets.createPet", json!({"body": {"name": "rex"}})).await.expect("confirmed");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn discovery_and_the_dry_run_through_the_deck() {
    let deck = Deck::builder()
        .base_url("wildduck", "http://127.0.0.1:9")
        .token("wildduck", "wd-SECRET")
        .build()
        .expect("deck");
    let found = deck.ops("create user", &Filter { service: Some("wildduck".into()), ..Filter::default() });
    assert_eq!(found[0].id, "wildduck.users.createUser");
    assert_eq!(found[0].method, Method::Post);
    let described = deck.describe("wildduck.users.getUsers").expect("described");
    assert_eq!(described["path"], "/users");
    assert!(described["input_schema"]["properties"].get("query").is_some());
    let request = deck.prepare("wildduck.users.getUsers", &json!({"query": "ann"})).expect("prepared");
    let curl = request.curl();
    assert!(curl.contains("http://127.0.0.1:9/users?query=ann"), "{curl}");
    assert!(!curl.contains("wd-SECRET") && curl.contains("<redacted>"), "{curl}");
    let preview = deck.preview_spec(PETS).await.expect("preview");
    assert_eq!(preview["operationCount"], 3);
}

/// Finding 7 (issue 16): `--dry-run` printed the password of a base URL's
/// userinfo in clear. The one redaction (`wire::redact_url`) hides it in the
/// curl command and in `Debug`, as it hides credential query values and
/// secret headers.
#[tokio::test]
async fn finding_7_the_dry_run_hides_userinfo_credential_parameters_and_secret_headers() {
    let deck = pets("http://admin:SECRETPW@127.0.0.1:19101", Deck::builder()).await;
    let request = deck.prepare("pets.pets.listPets", &json!({"limit": 2})).expect("prepared");
    assert_eq!(request.url.password(), Some("SECRETPW"), "the wire keeps it");
    let curl = opdeck::wire::curl::render(&request);
    assert!(!curl.contains("SECRETPW"), "{curl}");
    assert!(curl.contains("admin:<redacted>@127.0.0.1:19101/pets?limit=2"), "{curl}");
    assert!(!format!("{request:?}").contains("SECRETPW"));

    let mut request = request;
    request.push_query("private_token", "PT-SECRET");
    request.headers.push(opdeck::wire::Pair::plain("X-Auth-Token", "HDR-SECRET"));
    let curl = opdeck::wire::curl::render(&request);
    assert!(!curl.contains("PT-SECRET") && !curl.contains("HDR-SECRET"), "{curl}");
    assert!(!format!("{request:?}").contains("PT-SECRET"));
}

/// Finding 8 (issue 16): `opdeck services` printed a spec's origin with its
/// credentials (`user:pass@`, `?private_token=`). Origins are redacted when
/// they are registered, so every listing (CLI, bindings) shows them hidden;
/// fetch errors use the same redaction.
#[tokio::test]
async fn finding_8_a_specs_origin_is_listed_without_its_credentials() {
    let deck = Deck::builder().builtins(Builtins::None).build().expect("deck");
    let origin = "https://user:PASS1@specs.example/pets.json?private_token=PT1&v=2";
    deck.add_document("vault", PETS.as_bytes(), origin, None).expect("added");
    let services = deck.registry().services();
    let shown = &services.iter().find(|s| s.name == "vault").expect("listed").origin;
    assert_eq!(shown, "https://user:<redacted>@specs.example/pets.json?private_token=<redacted>&v=2");

    let err = opdeck::engine::fetch("http://user:PASS2@127.0.0.1:9/spec.json?api_key=K3").await.expect_err("refused");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("PASS2") && !text.contains("K3"), "{text}");
}
