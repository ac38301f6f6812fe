//! Running hand-written operations against a loopback server.

use std::sync::Arc;

use opdeck::config::{Config, HttpSettings, ServiceConfig};
use opdeck::engine::HttpOperation;
use opdeck::model::OperationMeta;
use opdeck::wire::client::HttpTransport;
use opdeck::{CallOptions, Context, Operation, Output, Registry, Result};
use serde_json::{Value, json};

/// An operation meta from JSON; `id`, `service` (`t`), `group`, `name`,
/// `alias` and `method` (`GET`) get defaults when missing.
pub fn meta(mut fields: Value) -> OperationMeta {
    let defaults = json!({
        "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op", "method": "GET", "path": "/"
    });
    if let (Some(obj), Some(d)) = (fields.as_object_mut(), defaults.as_object()) {
        for (k, v) in d {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    serde_json::from_value(fields).expect("a valid operation meta")
}

/// One operation wired to a base URL with given HTTP settings.
pub struct Harness {
    /// The operation.
    pub op: HttpOperation,
    /// The context it runs with.
    pub ctx: Context,
}

impl Harness {
    /// `meta` sent to `base_url` with `settings`.
    pub fn new(meta: OperationMeta, base_url: &str, settings: HttpSettings) -> Harness {
        let service = ServiceConfig { base_url: Some(base_url.to_owned()), ..Default::default() };
        Harness::with_service(meta, service, settings)
    }

    /// `meta` with this service configuration (base URL, credentials).
    pub fn with_service(meta: OperationMeta, service: ServiceConfig, settings: HttpSettings) -> Harness {
        let mut config = Config { http: settings.clone(), ..Config::default() };
        config.services.insert(meta.service.clone(), service);
        let transport = Arc::new(HttpTransport::with_settings(&settings).expect("transport"));
        let ctx = Context::new(Arc::new(Registry::new()), transport, Arc::new(config));
        Harness { op: HttpOperation::new(meta), ctx }
    }

    /// `meta` sent to `base_url` with fast retries and short timeouts.
    pub fn quick(meta: OperationMeta, base_url: &str) -> Harness {
        Harness::new(meta, base_url, quick_settings())
    }

    /// The same harness with other call options.
    pub fn with_options(mut self, options: CallOptions) -> Harness {
        self.ctx = self.ctx.with_options(options);
        self
    }

    /// Invokes the operation.
    pub async fn call(&self, input: Value) -> Result<Output> {
        self.op.invoke(&self.ctx, input).await
    }
}

/// Settings for tests: 2 retries with millisecond backoff, 5 s timeouts.
pub fn quick_settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: std::time::Duration::from_secs(5),
        timeout: std::time::Duration::from_secs(5),
        retries: 2,
        backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_secs(2),
        max_body_bytes: 1024 * 1024,
    }
}
