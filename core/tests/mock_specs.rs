//! The simulator on the five real specs: every operation's example input is
//! accepted, and deliberately broken raw requests get the right 4xx.

use bytes::Bytes;
use opdeck::mock::{MockTransport, OPERATION_HEADER};
use opdeck::model::OperationMeta;
use opdeck::wire::{Payload, Request};
use serde_json::Value;

use super::mock_support::{SPECS, UNSATISFIABLE, authorize, load, mock_base, needs_credentials, valid_request};

fn status(mock: &MockTransport, req: &Request) -> (u16, String) {
    let r = mock.respond(req).unwrap_or_else(|e| panic!("{}: the simulator fails: {e}", req.operation));
    parts(r)
}

/// The status and the start of the body of an answer.
fn parts(r: opdeck::wire::Response) -> (u16, String) {
    let body = match r.body {
        opdeck::wire::ResponseBody::Full(b) => String::from_utf8_lossy(&b).chars().take(400).collect(),
        opdeck::wire::ResponseBody::Stream(_) => String::new(),
    };
    (r.status, body)
}

#[test]
fn every_operation_accepts_its_example_input() {
    let mut failures = Vec::new();
    let mut unbuildable = Vec::new();
    let mut shadowed = Vec::new();
    let mut total = 0;
    for (file, service) in SPECS {
        let (registry, metas) = load(file, service);
        let mock = MockTransport::new(registry, 42);
        let base = mock_base(service);
        for meta in &metas {
            total += 1;
            let req = match valid_request(meta, &base) {
                Ok(r) => r,
                Err(e) => {
                    // Paths that use a variable no parameter declares cannot
                    // be built by opdeck unless the loader declares it; that
                    // is the loader's concern, counted below.
                    unbuildable.push(format!("{}: {e}", meta.id));
                    continue;
                }
            };
            let response = mock.respond(&req).unwrap_or_else(|e| panic!("{}: the simulator fails: {e}", meta.id));
            let routed = response.header(OPERATION_HEADER).unwrap_or_default().to_owned();
            // One request each: the simulator keeps state, so a second DELETE
            // of the same item would rightly be a 404.
            let (code, body) = parts(response);
            if routed != meta.id {
                // Two templates of the same shape: the first declared wins,
                // as with Prism, and the later one is unreachable.
                shadowed.push(format!("{} -> {routed}", meta.id));
            } else if let Some((_, rule)) = UNSATISFIABLE.iter().find(|(id, _)| *id == meta.id) {
                // Depending on how the loader normalizes these schemas they
                // are accepted, or refused for the rule they contradict.
                if !(200..300).contains(&code) && !body.contains(&format!("\"code\":\"{rule}\"")) {
                    failures.push(format!("{}: refused for another reason: {code} {body}", meta.id));
                }
            } else if !(200..300).contains(&code) {
                failures.push(format!("{} {} {}: {code} {body}", meta.id, meta.method, req.url.path()));
            }
        }
    }
    assert!(total > 1000, "only {total} operations loaded");
    assert!(shadowed.len() * 100 < total, "{} operations are shadowed: {shadowed:#?}", shadowed.len());
    eprintln!("{} operations are shadowed by an earlier template: {shadowed:?}", shadowed.len());
    assert!(unbuildable.iter().all(|e| e.contains("path parameter")), "{unbuildable:#?}");
    assert!(unbuildable.len() * 20 < total, "{} operations cannot be built: {unbuildable:#?}", unbuildable.len());
    eprintln!("{} operations cannot be built by opdeck (undeclared path variables)", unbuildable.len());
    assert!(failures.is_empty(), "{} of {total} operations refused:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn example_inputs_pass_opdecks_own_input_schema() {
    let mut failures = Vec::new();
    for (file, service) in SPECS {
        let (_, metas) = load(file, service);
        for meta in &metas {
            let Ok(validator) = opdeck::schema::Validator::new(meta) else { continue };
            if let Err(e) = validator.validate(&opdeck::mock::example_input(meta))
                && !UNSATISFIABLE.iter().any(|(id, _)| *id == meta.id)
            {
                failures.push(e.to_string());
            }
        }
    }
    assert!(failures.is_empty(), "{} example inputs are invalid:\n{}", failures.len(), failures.join("\n"));
}

fn json_body(meta: &OperationMeta) -> bool {
    meta.body.as_ref().is_some_and(|b| {
        b.media.first().is_some_and(|m| m.content_type.starts_with("application/json"))
            && meta.definitions.resolve(&b.media[0].schema).get("type") == Some(&Value::from("object"))
    })
}

#[test]
fn broken_raw_requests_get_the_right_status() {
    let mut checked = [0usize; 4];
    let mut failures = Vec::new();
    for (file, service) in SPECS {
        let (registry, metas) = load(file, service);
        let mock = MockTransport::new(registry, 42);
        let base = mock_base(service);
        let mut expect = |what: &str, meta: &OperationMeta, req: &Request, wanted: &[u16]| {
            let (code, body) = status(&mock, req);
            if !wanted.contains(&code) {
                failures.push(format!("{what} {}: got {code}, wanted {wanted:?}: {body}", meta.id));
            }
        };
        for meta in &metas {
            let Ok(valid) = valid_request(meta, &base) else { continue };
            if let Some(name) = super::mock_support::integer_query(meta) {
                let mut req = valid.clone();
                req.remove_query(&name);
                req.push_query(&name, "not-a-number");
                expect("wrong query type", meta, &req, &[400, 422]);
                checked[0] += 1;
            }
            if meta.body.as_ref().is_some_and(|b| b.required) {
                let mut req = valid.clone();
                req.body = Payload::Empty;
                expect("missing body", meta, &req, &[400, 422]);
                checked[1] += 1;
            }
            if json_body(meta) {
                let mut req = valid.clone();
                req.body = Payload::Bytes { content_type: "text/x-unknown".into(), data: Bytes::from_static(b"x") };
                expect("wrong content type", meta, &req, &[415, 400, 422]);
                checked[2] += 1;
            }
            if needs_credentials(meta) {
                let mut bare =
                    opdeck::wire::request::build(meta, &opdeck::mock::example_input(meta), &base, &Default::default())
                        .expect("builds");
                // Credentials that name another scheme do not count.
                bare.headers.retain(|h| !h.sensitive);
                expect("missing auth", meta, &bare, &[401]);
                checked[3] += 1;
                let mut again = bare.clone();
                authorize(meta, &mut again);
                expect("credentials restored", meta, &again, &[200, 201, 202, 204, 400, 415, 422]);
            }
        }
    }
    assert!(checked.iter().all(|n| *n > 10), "too few broken requests tried: {checked:?}");
    assert!(failures.is_empty(), "{} broken requests misjudged:\n{}", failures.len(), failures.join("\n"));
}
