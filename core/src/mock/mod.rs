//! The offline simulator: a [`Transport`] that answers for a service from its
//! spec, so scripts can be tried without touching production and newcomers
//! see opdeck work with no server at all.
//!
//! It receives the request exactly as the network transport would send it
//! and judges it the way Stoplight Prism does, so a request the simulator
//! accepts is one a real server following the spec would accept:
//!
//! * routing (`route`): the URL's host names the service (see [`base_url`]),
//!   method and path pick the operation; no path is 404, a path without that
//!   method 405;
//! * checking (`check`, `params`, `body`): credentials (401), the body's media
//!   type (415, or the 422/400 the spec declares), then parameters and body
//!   against their schemas (422 with a `validation` list of every [`Issue`],
//!   or 400 when the spec declares only that);
//! * answering (`generate`): 406 when no response media type is one the
//!   `Accept` header takes, else the lowest declared 2xx, with the spec's example
//!   or a value made from the response schema. The value is deterministic for
//!   the seed and the request, so the same script gives the same output.
//!   Lists, items and their writes are answered from the store (`store`):
//!   what a script creates it reads back, lists page under the service's own
//!   rule, and a deleted item is a 404 in the service's error shape.
//!
//! Every response carries `x-opdeck-simulated: true`, and those of a routed
//! request `x-opdeck-operation: <id>`.
//!
//! The answers stay deterministic: every made-up value derives from the seed
//! and the request (or, for a record, its collection and id), never from the
//! order of calls; only the store's contents depend on what was sent before.

mod body;
mod check;
mod generate;
mod input;
mod params;
mod route;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::engine::Registry;
use crate::error::{Error, Result};
use crate::model::{Method, OperationMeta, ResponseSpec};
use crate::schema::is_json;
use crate::wire::{Delivery, Request, Response, ResponseBody, Transport};

pub use check::Issue;
pub use input::example_input;
pub use store::SEEDED;

pub use crate::wire::{MOCK_DOMAIN, simulated_service as service_of, simulator_url as base_url};
use check::Verdict;
use generate::{Generator, Mode};
use route::{Found, Router};

/// The header that marks a response as simulated.
pub const SIMULATED_HEADER: &str = "x-opdeck-simulated";

/// The header naming the operation the simulator routed the request to,
/// which tells where a spec's ambiguous templates send a request.
pub const OPERATION_HEADER: &str = "x-opdeck-operation";

/// The simulator transport.
pub struct MockTransport {
    registry: Arc<Registry>,
    seed: u64,
    routers: RwLock<HashMap<String, Arc<Router>>>,
    store: store::Store,
}

impl std::fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockTransport").field("seed", &self.seed).finish_non_exhaustive()
    }
}

impl MockTransport {
    /// A simulator answering for the services of `registry`; `seed` varies
    /// the made-up values while keeping them reproducible.
    pub fn new(registry: Arc<Registry>, seed: u64) -> Self {
        MockTransport { registry, seed, routers: RwLock::new(HashMap::new()), store: store::Store::default() }
    }

    /// The same simulator, listing collections under `paging` (a deck
    /// hands it the rules its pager follows).
    pub fn with_paging(mut self, paging: crate::services::PagingRules) -> Self {
        self.store.paging = paging;
        self
    }

    /// Every record the simulator holds, as `{service: {collection path:
    /// [records]}}`: what `--mock-state` writes back.
    pub fn state(&self) -> Value {
        self.store.export()
    }

    /// Starts the collections `state` names (the shape of
    /// [`MockTransport::state`]) with exactly those records. Fails, changing
    /// nothing, when a record lacks its collection's id field.
    pub fn load_state(&self, state: &Value) -> Result<()> {
        self.store.import(state, |service, path| {
            let router = self.router(service).ok()?;
            match router.find(Method::Get, path) {
                Found::Route(route, _) => match &route.shape {
                    route::Shape::Collection { template } => store::id_field(&router, template),
                    _ => None,
                },
                _ => None,
            }
        })
    }

    /// The router of `service`, rebuilt when its operations were replaced.
    fn router(&self, service: &str) -> Result<Arc<Router>> {
        let ops = self.registry.service(service)?;
        if let Some(router) = self.routers.read().unwrap_or_else(|e| e.into_inner()).get(service)
            && router.built_from(&ops)
        {
            return Ok(router.clone());
        }
        let router = Arc::new(Router::new(&ops));
        let mut routers = self.routers.write().unwrap_or_else(|e| e.into_inner());
        routers.insert(service.to_owned(), router.clone());
        Ok(router)
    }

    /// Answers one request, whole.
    pub fn respond(&self, request: &Request) -> Result<Response> {
        let service = match service_of(&request.url) {
            Some(s) => s,
            None => request.operation.split('.').next().filter(|s| !s.is_empty()).ok_or_else(|| {
                Error::usage(format!("the simulator cannot tell the service of a request to {}", request.url.path()))
            })?,
        };
        let router = self.router(service)?;
        let path = request.url.path();
        let (route, values) = match router.find(request.method, path) {
            Found::Route(route, values) => (route, values),
            Found::NoPath => {
                let detail = format!("no path of service `{service}` matches {path}");
                return Ok(problem(404, "NO_PATH_MATCHED_ERROR", "Route not resolved, no path matched", &detail));
            }
            Found::NoMethod(allowed) => {
                let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                let detail = format!("{path} takes {}, not {}", names.join(", "), request.method);
                let mut r = problem(405, "NO_METHOD_MATCHED_ERROR", "Route resolved, but no method matched", &detail);
                put(&mut r.headers, "allow", &names.join(", "));
                return Ok(r);
            }
        };
        let meta = route.op.meta();
        let mut response = match check::check(meta, route.checks(), request, &values) {
            Verdict::Valid => match self.store.answer(self.seed, service, &router, route, &values, request) {
                Some(answer) if acceptable(request, success_status(meta).1.map_or(&[][..], |r| &r.media)) => {
                    stored(answer, request)
                }
                _ => self.success(meta, request),
            },
            Verdict::Unauthorized(challenges) => {
                let detail = "credentials of no security alternative of this operation were sent";
                let mut r = problem(401, "UNAUTHORIZED", "Invalid security scheme used", detail);
                if !challenges.is_empty() {
                    put(&mut r.headers, "www-authenticate", &challenges.join(", "));
                }
                r
            }
            Verdict::UnsupportedMediaType { sent, offered } => {
                let detail = if offered.is_empty() {
                    format!("the operation takes no body, but one was sent as `{sent}`")
                } else {
                    format!("the body is sent as `{sent}`, but the operation takes {}", offered.join(", "))
                };
                // Like Prism, answer with the validation status the spec
                // declares, and 415 only when it declares none.
                let status = ["415", "422", "400"]
                    .into_iter()
                    .find(|s| meta.responses.iter().any(|r| r.status == *s))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(415);
                problem(status, "INVALID_CONTENT_TYPE", "Unsupported media type", &detail)
            }
            Verdict::Invalid(issues) => {
                let declared = |s: &str| meta.responses.iter().any(|r| r.status == s);
                let status = if declared("400") && !declared("422") { 400 } else { 422 };
                let detail = "the request breaks the spec; every violation is listed under `validation`";
                let mut body = problem_body(status, "UNPROCESSABLE_ENTITY", "Invalid request", detail);
                body["validation"] = serde_json::to_value(&issues).unwrap_or_default();
                json_response(status, "application/problem+json", &body)
            }
        };
        put(&mut response.headers, OPERATION_HEADER, &meta.id);
        Ok(response)
    }

    fn success(&self, meta: &OperationMeta, request: &Request) -> Response {
        let (status, spec) = success_status(meta);
        let media = spec.and_then(|r| r.media.iter().find(|m| is_json(&m.content_type)).or(r.media.first()));
        let no_body = matches!(status, 204 | 205 | 304) || request.method == Method::Head;
        let Some(media) = media.filter(|_| !no_body) else {
            return with_marker(Response { status, headers: HeaderMap::new(), body: ResponseBody::Full(Bytes::new()) });
        };
        if !acceptable(request, spec.map_or(&[][..], |r| &r.media)) {
            let detail = "no media type of the response is one the `accept` header asks for";
            return problem(
                406,
                "NOT_ACCEPTABLE",
                "The server cannot produce a representation for your accept header",
                detail,
            );
        }
        let content_type = if media.content_type == "*/*" { "application/json" } else { &media.content_type };
        let mut value = match &media.example {
            Some(example) => example.value(),
            None => {
                Generator::new(&meta.definitions, self.request_seed(meta, request), Mode::Response).value(&media.schema)
            }
        };
        generate::end_paging(&meta.definitions, &media.schema, &mut value);
        if is_json(content_type) {
            return json_response(status, content_type, &value);
        }
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        with_marker(Response {
            status,
            headers: content_type_header(content_type),
            body: ResponseBody::Full(Bytes::from(text)),
        })
    }

    /// A seed unique to this simulator's seed, the operation and the request.
    fn request_seed(&self, meta: &OperationMeta, request: &Request) -> u64 {
        let mut h = input::fnv(&self.seed.to_le_bytes());
        let mut mix = |bytes: &[u8]| h = (h ^ input::fnv(bytes)).wrapping_mul(0x0100_0000_01b3);
        mix(meta.id.as_bytes());
        mix(request.url.path().as_bytes());
        mix(request.query().as_bytes());
        mix(check::payload_bytes(&request.body));
        h
    }
}

/// The store's answer as a response.
fn stored(answer: store::Answer, request: &Request) -> Response {
    match answer.body {
        Some(body) if request.method != Method::Head && !matches!(answer.status, 204 | 205 | 304) => {
            json_response(answer.status, "application/json", &body)
        }
        _ => with_marker(Response {
            status: answer.status,
            headers: HeaderMap::new(),
            body: ResponseBody::Full(Bytes::new()),
        }),
    }
}

/// The lowest declared 2xx status and its response, else `default` as 200.
fn success_status(meta: &OperationMeta) -> (u16, Option<&ResponseSpec>) {
    let code = |r: &ResponseSpec| match r.status.as_str() {
        "2XX" | "2xx" => Some(200),
        s => s.parse::<u16>().ok().filter(|c| (200..300).contains(c)),
    };
    match meta.responses.iter().filter_map(|r| code(r).map(|c| (c, r))).min_by_key(|(c, _)| *c) {
        Some((c, r)) => (c, Some(r)),
        None => (200, meta.responses.iter().find(|r| r.status == "default")),
    }
}

/// Whether one of the response's media types is one the `Accept` header
/// takes (no header, or `*/*`, takes all).
fn acceptable(request: &Request, media: &[crate::model::Media]) -> bool {
    let Some(accept) = request.header("accept") else { return true };
    accept.value.split(',').map(body::essence).any(|range| {
        range.is_empty()
            || range == "*/*"
            || media.iter().any(|m| body::offers(&range, &body::essence(&m.content_type)))
    })
}

fn with_marker(mut response: Response) -> Response {
    put(&mut response.headers, SIMULATED_HEADER, "true");
    response
}

/// Adds a header; a value no header can carry (a control character from a
/// spec's media type) is left out rather than sent broken.
fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.append(HeaderName::from_static(name), value);
    }
}

fn content_type_header(content_type: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    put(&mut headers, "content-type", content_type);
    headers
}

fn json_response(status: u16, content_type: &str, value: &Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    with_marker(Response {
        status,
        headers: content_type_header(content_type),
        body: ResponseBody::Full(Bytes::from(bytes)),
    })
}

fn problem_body(status: u16, kind: &str, title: &str, detail: &str) -> Value {
    json!({
        "type": format!("https://opdeck.invalid/simulator#{kind}"),
        "title": title,
        "status": status,
        "detail": detail,
    })
}

fn problem(status: u16, kind: &str, title: &str, detail: &str) -> Response {
    json_response(status, "application/problem+json", &problem_body(status, kind, title, detail))
}

#[async_trait]
impl Transport for MockTransport {
    async fn send(&self, request: &Request, delivery: Delivery) -> Result<Response> {
        let mut response = self.respond(request)?;
        if delivery == Delivery::Streamed
            && let ResponseBody::Full(bytes) = std::mem::replace(&mut response.body, ResponseBody::Full(Bytes::new()))
        {
            response.body = ResponseBody::Stream(Box::pin(futures::stream::once(async move { Ok(bytes) })));
        }
        Ok(response)
    }
}
