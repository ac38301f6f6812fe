//! The network transport: reqwest on the shared runtime.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::http::{Delivery, Payload, Request, Response, ResponseBody, Transport};

/// Sends requests over the network with one pooled reqwest client.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A transport with default settings.
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::config(format!("cannot build the http client: {e}")))?;
        Ok(HttpTransport { client })
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: &Request, _delivery: Delivery) -> Result<Response> {
        let method =
            reqwest::Method::from_bytes(request.method.as_str().as_bytes()).map_err(|e| Error::usage(e.to_string()))?;
        let mut url = request.url.clone();
        if !request.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for p in &request.query {
                q.append_pair(&p.name, &p.value);
            }
        }
        let mut builder = self.client.request(method, url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        if let Payload::Bytes { content_type, data } = &request.body {
            builder = builder.header("content-type", content_type).body(data.clone());
        }
        let transport = |e: reqwest::Error| Error::Transport {
            operation: request.operation.clone(),
            message: e.without_url().to_string(),
        };
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = resp.bytes().await.map_err(transport)?;
        Ok(Response { status, headers, body: ResponseBody::Full(body) })
    }
}
