//! From a transport [`Response`] to an [`Output`] or a typed error.
//!
//! Downloads are written to a temporary file beside the target and renamed
//! into place only once the whole body arrived, so an interrupted transfer
//! never leaves a half file where a complete one is expected.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::model::{Body, Output};
use crate::schema::is_json;
use crate::wire::client::too_big;
use crate::wire::{Response, ResponseBody};

/// Headers servers use to name a request in their logs.
const REQUEST_ID_HEADERS: [&str; 5] =
    ["x-request-id", "request-id", "x-correlation-id", "x-amzn-requestid", "x-trace-id"];

/// How much of an error answer's body is read.
pub const ERROR_BODY_CAP: u64 = 1024 * 1024;

/// Reads a body whole, with the in-memory cap.
pub async fn collect(operation: &str, body: ResponseBody, cap: u64) -> Result<Bytes> {
    match body {
        ResponseBody::Full(b) if b.len() as u64 > cap => Err(too_big(operation, cap)),
        ResponseBody::Full(b) => Ok(b),
        ResponseBody::Stream(mut s) => {
            let mut out = BytesMut::new();
            while let Some(chunk) = s.next().await {
                let chunk = chunk?;
                if (out.len() + chunk.len()) as u64 > cap {
                    return Err(too_big(operation, cap));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out.freeze())
        }
    }
}

/// Decodes bytes by content type: JSON, text, or raw bytes.
///
/// With `raw_json`, a JSON body is checked against the JSON budget and
/// handed over as it arrived ([`Body::RawJson`]), for a caller that parses
/// it straight into values of its own.
pub fn decode_body(operation: &str, content_type: Option<&str>, bytes: Bytes, raw_json: bool) -> Result<Body> {
    if bytes.is_empty() {
        return Ok(Body::Empty);
    }
    let ct = content_type.unwrap_or("");
    let ct = if ct.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(ct.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(ct)
    };
    if is_json(&ct) && ct != "*/*" {
        crate::spec::budget::admit(&bytes).map_err(|m| Error::Decode {
            operation: operation.to_owned(),
            message: format!("the json response body is over budget: {m}"),
        })?;
        if raw_json {
            return Ok(Body::RawJson(bytes));
        }
        return serde_json::from_slice(&bytes)
            .map(Body::Json)
            .map_err(|e| Error::Decode { operation: operation.to_owned(), message: format!("invalid json: {e}") });
    }
    if ct.starts_with("text/") || ct.contains("xml") || ct.starts_with("application/x-www-form-urlencoded") {
        return Ok(Body::Text(String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(Body::Bytes(bytes))
}

/// The error for a non-2xx answer, with its body parsed and its request id.
pub async fn status_error(operation: &str, response: Response, cap: u64) -> Error {
    let bytes = collect(operation, response.body, cap.min(ERROR_BODY_CAP)).await.unwrap_or_default();
    status_error_from(operation, response.status, &response.headers, &bytes)
}

/// [`status_error`] from a body already read.
pub fn status_error_from(operation: &str, status: u16, headers: &http::HeaderMap, bytes: &[u8]) -> Error {
    let request_id = REQUEST_ID_HEADERS.iter().find_map(|h| headers.get(*h)?.to_str().ok()).map(str::to_owned);
    let mut shown = crate::model::headers_json(headers);
    // A session cookie set on an error answer is still a credential.
    if let Some(cookie) = shown.get_mut("set-cookie") {
        *cookie = serde_json::Value::String(crate::wire::REDACTED.to_owned());
    }
    Error::Status {
        operation: operation.to_owned(),
        status,
        body: Box::new(error_body(bytes)),
        request_id,
        headers: Box::new(shown),
    }
}

/// An error body as JSON when it parses, else as a string.
pub fn error_body(bytes: &[u8]) -> Value {
    if crate::spec::budget::admit(bytes).is_err() {
        return Value::String(String::from_utf8_lossy(bytes).into_owned());
    }
    crate::model::json_or_text(bytes)
}

/// Turns a response into an [`Output`]: errors for non-2xx, the body streamed
/// to `download_to` when given, else decoded in memory.
pub async fn decode(operation: &str, response: Response, cap: u64, download_to: Option<&Path>) -> Result<Output> {
    let Some(path) = download_to else { return decode_buffered(operation, response, cap, false).await };
    if !(200..300).contains(&response.status) {
        return Err(status_error(operation, response, cap).await);
    }
    let Response { status, headers, body } = response;
    Ok(Output { status, headers, body: download(body, path).await? })
}

/// [`decode`] without a download: the body is decoded in memory. A body the
/// transport already read whole is decoded without waiting (see
/// [`decode_full`]); a streamed one is read first.
pub async fn decode_buffered(operation: &str, response: Response, cap: u64, raw_json: bool) -> Result<Output> {
    match response.body {
        ResponseBody::Full(_) => decode_full(operation, response, cap, raw_json),
        ResponseBody::Stream(_) if !(200..300).contains(&response.status) => {
            Err(status_error(operation, response, cap).await)
        }
        ResponseBody::Stream(stream) => {
            let bytes = collect(operation, ResponseBody::Stream(stream), cap).await?;
            decode_full(operation, Response { body: ResponseBody::Full(bytes), ..response }, cap, raw_json)
        }
    }
}

/// Decodes a response whose body is in memory, or returns its status error.
/// Nothing in it waits, so a call's future need not hold it.
pub(crate) fn decode_full(operation: &str, response: Response, cap: u64, raw_json: bool) -> Result<Output> {
    let Response { status, headers, body } = response;
    let bytes = match body {
        ResponseBody::Full(b) if !(200..300).contains(&status) => {
            // As `status_error` reads it: a body past the error cap is left out.
            let shown: &[u8] = if b.len() as u64 > cap.min(ERROR_BODY_CAP) { &[] } else { &b };
            return Err(status_error_from(operation, status, &headers, shown));
        }
        ResponseBody::Full(b) if b.len() as u64 > cap => return Err(too_big(operation, cap)),
        ResponseBody::Full(b) => b,
        ResponseBody::Stream(_) => {
            return Err(Error::Decode { operation: operation.to_owned(), message: "the body was not read".into() });
        }
    };
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let body = decode_body(operation, content_type, bytes, raw_json)?;
    Ok(Output { status, headers, body })
}

/// Streams `body` into `target` through a temporary file in the same directory.
pub async fn download(body: ResponseBody, target: &Path) -> Result<Body> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let temp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io(&dir, e))?;
    let std_file = temp.as_file().try_clone().map_err(|e| Error::io(temp.path(), e))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut written: u64 = 0;
    match body {
        ResponseBody::Full(b) => {
            file.write_all(&b).await.map_err(|e| Error::io(temp.path(), e))?;
            written = b.len() as u64;
        }
        ResponseBody::Stream(mut s) => {
            while let Some(chunk) = s.next().await {
                // On error `temp` is dropped here, which deletes the partial file.
                let chunk = chunk?;
                file.write_all(&chunk).await.map_err(|e| Error::io(temp.path(), e))?;
                written += chunk.len() as u64;
            }
        }
    }
    file.flush().await.map_err(|e| Error::io(temp.path(), e))?;
    file.sync_all().await.map_err(|e| Error::io(temp.path(), e))?;
    drop(file);
    temp.persist(target).map_err(|e| Error::io(target, e.error))?;
    Ok(Body::File { path: target.to_path_buf(), bytes: written })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_by_content_type() {
        let json =
            decode_body("o", Some("application/json; charset=utf-8"), Bytes::from("{\"a\":1}"), false).expect("json");
        assert_eq!(json, Body::Json(serde_json::json!({"a": 1})));
        assert_eq!(
            decode_body("o", Some("text/plain"), Bytes::from("hi"), false).expect("text"),
            Body::Text("hi".into())
        );
        assert_eq!(
            decode_body("o", Some("image/png"), Bytes::from_static(b"\x89P"), false).expect("bytes"),
            Body::Bytes(Bytes::from_static(b"\x89P"))
        );
        assert_eq!(decode_body("o", Some("application/json"), Bytes::new(), false).expect("empty"), Body::Empty);
        let err = decode_body("svc.g.op", Some("application/json"), Bytes::from("{"), false).expect_err("invalid");
        assert!(matches!(&err, Error::Decode { operation, .. } if operation == "svc.g.op"), "{err}");
    }

    #[tokio::test]
    async fn collect_enforces_the_cap() {
        let err = collect("o", ResponseBody::Full(Bytes::from(vec![0u8; 11])), 10).await.expect_err("cap");
        assert!(err.to_string().contains("--out"), "{err}");
        let stream = futures::stream::iter(vec![Ok(Bytes::from("12345")), Ok(Bytes::from("678901"))]).boxed();
        assert!(collect("o", ResponseBody::Stream(stream), 10).await.is_err());
    }
}
