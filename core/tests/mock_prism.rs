//! The simulator against Stoplight Prism: the same raw requests, valid and
//! broken, sent to both, must get the same class of verdict.
//!
//! Prism runs through `tests/peers/prism.sh` (installed by
//! `tests/peers/install.sh`). When it cannot start, the test fails if `CI` is
//! set and otherwise says so loudly and returns.

use std::process::Command;

use bytes::Bytes;
use opdeck::mock::MockTransport;
use opdeck::model::{Method, OperationMeta};
use opdeck::wire::{Payload, Request, ResponseBody};

use super::mock_support::{UNSATISFIABLE, load, mock_base, needs_credentials, valid_request};
use super::spec_ingest::specs_dir;

/// The specs compared, with the port their Prism listens on. Kitsu is left
/// out: Prism ignores its `formData` parameters and skips body checks where
/// it marks properties `required: true` (see tests/peers/prism.sh).
const COMPARED: [(&str, &str, u16); 4] = [
    ("seald-dashboard-v2.openapi.yaml", "seald", 4791),
    ("dracoon-4.42.openapi.json", "dracoon", 4792),
    ("selfprivacy-1.2.0.openapi.yaml", "selfprivacy", 4793),
    ("wildduck-1.46.1.openapi.json", "wildduck", 4794),
];

/// Operations tried per spec, so the test stays well under two minutes.
const PER_SPEC: usize = 40;

fn peers_script() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/prism.sh")
}

/// Starts Prism for `file`; its URL, or why it could not start.
fn start(name: &str, file: &str, port: u16) -> Result<String, String> {
    let spec = specs_dir().join(file);
    let out = Command::new(peers_script())
        .args(["start", name, &spec.to_string_lossy(), &port.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", peers_script().display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn stop(name: &str) {
    let _ = Command::new(peers_script()).args(["stop", name]).output();
}

/// The verdict class of a status.
fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        401 => "401",
        404 | 405 => "404/405",
        415 => "415",
        400 | 422 => "400/422",
        _ => "other",
    }
}

/// A broken or valid variant of a request, with what it tries.
struct Case {
    what: &'static str,
    request: Request,
}

fn cases(meta: &OperationMeta, metas: &[OperationMeta], base: &url::Url) -> Vec<Case> {
    let Ok(valid) = valid_request(meta, base) else { return Vec::new() };
    if matches!(valid.body, Payload::Multipart(_) | Payload::File { .. }) {
        return Vec::new();
    }
    let mut out = vec![Case { what: "valid", request: valid.clone() }];
    if needs_credentials(meta) {
        let mut r = valid.clone();
        r.headers.retain(|h| !h.sensitive);
        for name in std::mem::take(&mut r.secret_query) {
            r.remove_query(&name);
        }
        out.push(Case { what: "no credentials", request: r });
    }
    if let Some(name) = super::mock_support::integer_query(meta) {
        let mut r = valid.clone();
        r.remove_query(&name);
        r.push_query(&name, "not-a-number");
        out.push(Case { what: "query type", request: r });
    }
    if meta.body.as_ref().is_some_and(|b| b.required) {
        let mut r = valid.clone();
        r.body = Payload::Empty;
        out.push(Case { what: "no body", request: r });
    }
    if matches!(&valid.body, Payload::Bytes { content_type, .. } if content_type.contains("json")) {
        let mut r = valid.clone();
        r.body = Payload::Bytes { content_type: "text/x-unknown".into(), data: Bytes::from_static(b"x") };
        out.push(Case { what: "content type", request: r });
    }
    let taken: Vec<Method> = metas.iter().filter(|m| m.path == meta.path).map(|m| m.method).collect();
    if let Some(other) =
        [Method::Patch, Method::Put, Method::Delete, Method::Post].into_iter().find(|m| !taken.contains(m))
    {
        let mut r = valid.clone();
        r.method = other;
        out.push(Case { what: "wrong method", request: r });
    }
    let mut r = valid;
    let nowhere = format!("{}/opdeck-nowhere", r.url.path());
    r.url.set_path(&nowhere);
    out.push(Case { what: "no path", request: r });
    out
}

async fn send_to_prism(client: &reqwest::Client, prism: &str, req: &Request) -> Result<u16, String> {
    let query = req.query();
    let url = if query.is_empty() {
        format!("{prism}{}", req.url.path())
    } else {
        format!("{prism}{}?{query}", req.url.path())
    };
    let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client.request(method, url);
    for h in &req.headers {
        builder = builder.header(&*h.name, &*h.value);
    }
    if let Payload::Bytes { content_type, data } = &req.body {
        builder = builder.header("content-type", content_type.as_str()).body(data.clone());
    }
    let response = builder.send().await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[tokio::test]
async fn verdicts_agree_with_prism() {
    let mut started = Vec::new();
    let mut prisms = Vec::new();
    for (file, service, port) in COMPARED {
        let name = format!("opdeck-mockcmp-{service}");
        match start(&name, file, port) {
            Ok(url) => {
                started.push(name);
                prisms.push((file, service, url));
            }
            Err(why) => {
                started.iter().for_each(|n| stop(n));
                if std::env::var_os("CI").is_some() {
                    panic!("prism could not start for {file}: {why}");
                }
                eprintln!("\n!!!!! PRISM IS NOT AVAILABLE: the simulator/Prism comparison did NOT run !!!!!\n{why}\n");
                return;
            }
        }
    }
    let client = reqwest::Client::new();
    let mut total = 0;
    let mut per_class = std::collections::BTreeMap::<&str, usize>::new();
    let mut disagreements = Vec::new();
    let mut prism_errors = 0;
    for (file, service, prism) in &prisms {
        let (registry, metas) = load(file, service);
        let mock = MockTransport::new(registry, 5);
        let base = mock_base(service);
        // Spread the operations tried over the whole spec.
        let step = (metas.len() / PER_SPEC).max(1);
        // Self-contradicting schemas are judged by how the loader normalizes
        // them, which Prism does not do; they are left out.
        let sampled = metas.iter().step_by(step).take(PER_SPEC);
        for meta in sampled.filter(|m| !UNSATISFIABLE.iter().any(|(id, _)| *id == m.id)) {
            for case in cases(meta, &metas, &base) {
                let ours = mock.respond(&case.request).expect("the simulator answers");
                let theirs = match send_to_prism(&client, prism, &case.request).await {
                    Ok(s) => s,
                    Err(e) => {
                        disagreements.push(format!("{} {}: prism unreachable: {e}", meta.id, case.what));
                        continue;
                    }
                };
                // Prism fails on some of its own error responses; those say
                // nothing about the request.
                if theirs >= 500 {
                    prism_errors += 1;
                    continue;
                }
                total += 1;
                *per_class.entry(class(theirs)).or_default() += 1;
                if class(ours.status) != class(theirs) {
                    let body = match ours.body {
                        ResponseBody::Full(b) => String::from_utf8_lossy(&b).chars().take(300).collect(),
                        ResponseBody::Stream(_) => String::new(),
                    };
                    disagreements.push(format!(
                        "{} [{}] {} {}: simulator {} / prism {theirs}: {body}",
                        meta.id,
                        case.what,
                        case.request.method,
                        case.request.url.path(),
                        ours.status
                    ));
                }
            }
        }
    }
    started.iter().for_each(|n| stop(n));
    eprintln!(
        "compared {total} requests with prism ({prism_errors} prism 5xx skipped); prism's classes: {per_class:?}"
    );
    assert!(total >= 200, "only {total} requests compared");
    assert!(prism_errors * 20 < total, "prism failed {prism_errors} times in {total} requests");
    assert!(
        disagreements.is_empty(),
        "{} of {total} verdicts differ:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
