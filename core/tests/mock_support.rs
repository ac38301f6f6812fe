//! Helpers shared by the simulator's spec-wide and Prism tests: the five
//! specs loaded into a registry, valid requests made from example inputs, and
//! credentials added the way each operation's security asks for them.

use std::sync::Arc;

use opdeck::CallOptions;
use opdeck::engine::OpenApiSource;
use opdeck::model::{Location, OperationMeta, SecurityScheme};
use opdeck::spec::LoadOptions;
use opdeck::wire::{Pair, Request};
use opdeck::{Registry, mock};

use crate::spec_ingest::specs_dir;

/// The specs the tests run on: file name and service.
pub const SPECS: [(&str, &str); 5] = [
    ("seald-dashboard-v2.openapi.yaml", "seald"),
    ("dracoon-4.42.openapi.json", "dracoon"),
    ("selfprivacy-1.2.0.openapi.yaml", "selfprivacy"),
    ("wildduck-1.46.1.openapi.json", "wildduck"),
    ("kitsu-zou-1.0.97.openapi.json", "kitsu"),
];

/// Operations whose spec contradicts itself, so that no request satisfies
/// them as written (Prism refuses them); the loader may normalize them.
/// Each with the rule it breaks.
pub const UNSATISFIABLE: [(&str, &str); 6] = [
    // An array property whose `enum` lists strings.
    ("dracoon.systemAuthConfig.createOAuthClient", "type"),
    ("dracoon.systemAuthConfig.updateOAuthClient", "type"),
    // `oneOf` of two plain string schemas: every string matches both.
    ("wildduck.addresses.createForwardedAddress", "oneOf"),
    ("wildduck.addresses.resolveAddress", "oneOf"),
    ("wildduck.authentication.preauth", "oneOf"),
    ("wildduck.authentication.authenticate", "oneOf"),
];

/// A registry holding the operations of one spec, and those operations.
pub fn load(file: &str, service: &str) -> (Arc<Registry>, Vec<OperationMeta>) {
    let source = OpenApiSource::from_path(&specs_dir().join(file), service, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{file} loads: {e}"));
    let metas = source.document().operations.clone();
    let registry = Arc::new(Registry::new());
    registry.register(&source).unwrap_or_else(|e| panic!("{file} registers: {e}"));
    (registry, metas)
}

/// Adds credentials for the first security alternative of `meta`.
pub fn authorize(meta: &OperationMeta, req: &mut Request) {
    let Some(alternative) = meta.security.first() else { return };
    let mut cookies = Vec::new();
    for (name, _) in &alternative.0 {
        match meta.security_schemes.get(name) {
            Some(SecurityScheme::ApiKey { name, location: Location::Query }) => {
                req.set_secret_query(name, "test-key");
            }
            Some(SecurityScheme::ApiKey { name, location: Location::Cookie }) => {
                cookies.push(format!("{name}=test-key"))
            }
            Some(SecurityScheme::ApiKey { name, .. }) if name.eq_ignore_ascii_case("authorization") => {
                req.set_header(Pair::secret(name.clone(), "Bearer test-token"));
            }
            Some(SecurityScheme::ApiKey { name, .. }) => req.set_header(Pair::secret(name.clone(), "test-key")),
            Some(SecurityScheme::Http { scheme, .. }) if scheme.eq_ignore_ascii_case("basic") => {
                req.set_header(Pair::secret("Authorization", "Basic dXNlcjpwYXNz"));
            }
            Some(_) => req.set_header(Pair::secret("Authorization", "Bearer test-token")),
            None => {}
        }
    }
    if !cookies.is_empty() {
        let existing = req.header("cookie").map(|p| format!("{}; ", p.value)).unwrap_or_default();
        req.set_header(Pair::secret("Cookie", format!("{existing}{}", cookies.join("; "))));
    }
}

/// Whether the operation can only be called with credentials.
pub fn needs_credentials(meta: &OperationMeta) -> bool {
    !meta.security.is_empty() && meta.security.iter().all(|alt| !alt.0.is_empty())
}

/// The request opdeck would send for the operation's example input, with
/// credentials, to `base`.
pub fn valid_request(meta: &OperationMeta, base: &url::Url) -> opdeck::Result<Request> {
    let input = mock::example_input(meta);
    let mut req = opdeck::wire::request::build(meta, &input, base, &CallOptions::default())?;
    authorize(meta, &mut req);
    Ok(req)
}

/// The simulator's base URL of `service`, parsed.
pub fn mock_base(service: &str) -> url::Url {
    url::Url::parse(&mock::base_url(service)).expect("the mock base url parses")
}

/// The name of the first query parameter typed integer, for requests that
/// break it on purpose.
pub fn integer_query(meta: &OperationMeta) -> Option<String> {
    meta.parameters
        .iter()
        .find(|p| {
            p.location == Location::Query
                && meta.definitions.resolve(&p.schema).get("type") == Some(&serde_json::Value::from("integer"))
        })
        .map(|p| p.name.clone())
}
