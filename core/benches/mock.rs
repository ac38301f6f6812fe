//! What a simulated call costs, on one core.
//!
//! - `mock/invoke_get`: a whole `Deck::call_full` of a small GET in mock
//!   mode (input validation, request building, routing, checks, and the
//!   answer read from the simulator's store: `/items/{id}` is an item of the
//!   `/items` collection) on a current-thread runtime. Target: ≥ 100,000
//!   calls/s.
//! - `mock/transport_get`: the simulator alone answering the same request.
//! - `mock/transport_kitsu`: the simulator routing among Kitsu's 853
//!   operations.

use std::sync::Arc;

use criterion::{Criterion, Throughput};
use opdeck::config::ServiceConfig;
use opdeck::engine::HttpOperation;
use opdeck::mock::{MockTransport, base_url};
use opdeck::model::Method;
use opdeck::wire::{Pair, Request};
use opdeck::{Config, Deck, Operation, OperationMeta, Registry};
use serde_json::json;

fn small_get() -> OperationMeta {
    serde_json::from_value(json!({
        "id": "bench.items.get", "service": "bench", "group": "items", "name": "get", "alias": "get",
        "method": "GET", "path": "/items/{id}",
        "parameters": [
            {"name": "id", "key": "id", "in": "path", "required": true, "style": "simple", "schema": {"type": "integer"}},
            {"name": "fields", "key": "fields", "in": "query", "style": "form", "schema": {"type": "string"}}
        ],
        "responses": [{"status": "200", "media": [{"content_type": "application/json", "schema": {
            "type": "object", "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "created": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "active": {"type": "boolean"}
            }
        }}]}]
    }))
    .expect("operation literal")
}

/// The collection `/items/{id}` belongs to, so the simulator keeps its records.
fn list() -> OperationMeta {
    let mut meta = small_get();
    meta.id = "bench.items.list".into();
    meta.name = "list".into();
    meta.alias = "list".into();
    meta.path = "/items".into();
    meta.parameters.clear();
    meta
}

fn bench(c: &mut Criterion) {
    let registry = Arc::new(Registry::new());
    let op: Arc<dyn Operation> = Arc::new(HttpOperation::new(small_get()));
    let list: Arc<dyn Operation> = Arc::new(HttpOperation::new(list()));
    registry.register_operations("bench", "bench".into(), vec![op, list]).expect("registers");
    let mock = Arc::new(MockTransport::new(registry.clone(), 1));
    let mut config = Config::default();
    config.services.insert("bench".into(), ServiceConfig { base_url: Some("mock:".into()), ..Default::default() });
    let deck = Deck::new(registry.clone(), mock.clone(), config);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");

    let mut group = c.benchmark_group("mock");
    group.throughput(Throughput::Elements(1));
    group.bench_function("invoke_get", |b| {
        b.to_async(&rt).iter(|| async {
            let out = deck.call_full("bench.items.get", json!({"id": 7, "fields": "name"})).await.expect("simulated");
            assert_eq!(out.status, 200);
        })
    });

    let url = url::Url::parse(&format!("{}/items/7", base_url("bench"))).expect("url");
    let mut request = Request::new("bench.items.get", Method::Get, url);
    request.push_query("fields", "name");
    group.bench_function("transport_get", |b| {
        b.iter(|| {
            let response = mock.respond(&request).expect("simulated");
            assert_eq!(response.status, 200);
        })
    });

    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/specs/kitsu-zou-1.0.97.openapi.json");
    if let Ok(source) = opdeck::engine::OpenApiSource::from_path(&spec, "kitsu", &Default::default()) {
        let kitsu = Arc::new(Registry::new());
        kitsu.register(&source).expect("registers");
        let mock = MockTransport::new(kitsu, 1);
        let url = url::Url::parse(&format!("{}/data/projects/open", base_url("kitsu"))).expect("url");
        let mut request = Request::new("kitsu.x.y", Method::Get, url);
        request.headers.push(Pair::secret("Authorization", "Bearer t"));
        group.bench_function("transport_kitsu", |b| {
            b.iter(|| {
                let response = mock.respond(&request).expect("simulated");
                assert!(response.status < 500);
            })
        });
    }
    group.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
