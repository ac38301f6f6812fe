//! [`HttpOperation`]: an operation described by a spec and run over HTTP.
//!
//! The pipeline: validate the input → resolve the base URL → build the
//! [`Request`] → authorize → send with retries → (renew the session and
//! resend once if it expired) → decode. `prepare` runs the same steps up to
//! authorization, with placeholders for credentials, so `--dry-run` shows
//! what `invoke` would send without logging in.

use std::sync::{Arc, OnceLock, RwLock};

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::Value;
use url::Url;

use super::Operation;
use crate::engine::Context;
use crate::error::{Error, Result};
use crate::model::{OperationMeta, Output};
use crate::schema::Validator;
use crate::services::ServiceProfile;
use crate::wire::sse::{self, Event};
use crate::wire::{Delivery, Pair, Request, request, response, retry};

/// A response whose body is still arriving ([`Deck::stream`](crate::Deck::stream)).
pub struct Streamed {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The body, chunk by chunk.
    pub body: BoxStream<'static, Result<bytes::Bytes>>,
}

impl std::fmt::Debug for Streamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamed").field("status", &self.status).finish_non_exhaustive()
    }
}

/// An operation from a spec or a catalog, run over HTTP.
#[derive(Debug)]
pub struct HttpOperation {
    meta: OperationMeta,
    validator: OnceLock<std::result::Result<Validator, String>>,
    /// The last base URL used, as configured and parsed, so a hot loop
    /// neither re-parses nor copies it.
    base: RwLock<Option<Arc<(String, Url)>>>,
    /// Whether a failed call may be retried: fixed by the method, the path
    /// and the service's profile, so decided once.
    may_retry: OnceLock<bool>,
    /// The parts of every request that do not depend on the input.
    plan: OnceLock<request::Plan>,
    /// The URL the last call was sent to, before its query.
    last_url: request::LastUrl,
}

impl HttpOperation {
    /// Wraps a description.
    pub fn new(meta: OperationMeta) -> Self {
        HttpOperation {
            meta,
            validator: OnceLock::new(),
            base: RwLock::new(None),
            may_retry: OnceLock::new(),
            plan: OnceLock::new(),
            last_url: request::LastUrl::default(),
        }
    }

    /// Validates `input` against the input schema (compiled on first use).
    pub fn validate(&self, input: &Value) -> Result<()> {
        match self.validator.get_or_init(|| Validator::new(&self.meta).map_err(|e| e.to_string())) {
            Ok(v) => v.validate(input),
            Err(message) => Err(Error::spec(format!("#/operations/{}", self.meta.id), message.clone())),
        }
    }

    /// The base URL of the service, parsed (cached while it does not change).
    /// With the simulator it is the service's simulated host.
    fn base_url(&self, ctx: &Context) -> Result<Arc<(String, Url)>> {
        let raw = ctx.base_url_ref(&self.meta.service)?;
        let raw = if ctx.options.mock || raw.starts_with("mock:") {
            std::borrow::Cow::Owned(crate::wire::simulator_url(&self.meta.service))
        } else {
            raw
        };
        if let Some(cached) = self.base.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && cached.0 == raw
        {
            return Ok(cached.clone());
        }
        let url = request::parse_base(&self.meta.service, &raw)?;
        let fresh = Arc::new((raw.into_owned(), url));
        *self.base.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }

    /// The request before credentials are added.
    fn build(&self, ctx: &Context, input: &Value) -> Result<Request> {
        self.validate(input)?;
        let base = self.base_url(ctx)?;
        let plan = self.plan.get_or_init(|| request::Plan::new(&self.meta));
        request::build_with(plan, &self.last_url, &self.meta, input, &base.1, &ctx.options)
    }

    /// The request `invoke` would send, without sending it or logging in
    /// (`--dry-run`; render it with [`crate::wire::curl::render`]).
    /// Credentials appear as [`REDACTED`](crate::wire::REDACTED) placeholders.
    pub async fn prepare(&self, ctx: &Context, input: &Value) -> Result<Request> {
        self.prepare_offline(ctx, input)
    }

    /// [`HttpOperation::prepare`] without a future: nothing in it waits.
    ///
    /// The input is validated as given, then the request is built from it
    /// with its secret values (by schema and by name, see
    /// [`crate::wire::redact`]) already replaced, so no rendering of the
    /// request can show them. Without a base URL the profile's placeholder
    /// (`https://tenant.example/api`) stands in, since nothing is sent.
    fn prepare_offline(&self, ctx: &Context, input: &Value) -> Result<Request> {
        self.validate(input)?;
        let shown = crate::wire::redact::redact_input(&self.meta, input);
        let base = match self.base_url(ctx) {
            Ok(base) => base,
            Err(err) if ctx.has_base_url(&self.meta.service) => return Err(err),
            Err(_) => {
                let placeholder = ServiceProfile::for_service(&self.meta.service).placeholder_base_url();
                Arc::new((placeholder.clone(), request::parse_base(&self.meta.service, &placeholder)?))
            }
        };
        let plan = self.plan.get_or_init(|| request::Plan::new(&self.meta));
        let mut request = request::build_with(plan, &self.last_url, &self.meta, &shown, &base.1, &ctx.options)?;
        crate::auth::authorize_offline(ctx, &self.meta, &mut request);
        Ok(request)
    }

    /// Authorizes and sends `unsigned`; when the answer says the session
    /// expired and the auth layer renewed it, signs and sends once more.
    ///
    /// An operation without security sends `unsigned` as it is; the auth
    /// steps run in their own boxed future, so the future of a plain call
    /// (and of `invoke`, which holds it) stays small and cheap to allocate.
    async fn send(&self, ctx: &Context, unsigned: &Request, delivery: Delivery) -> Result<crate::wire::Response> {
        let settings = &ctx.config().http;
        let may_retry = self.may_retry(ctx);
        if self.meta.security.is_empty() {
            return retry::send(ctx.transport().as_ref(), unsigned, delivery, settings, may_retry).await;
        }
        Box::pin(self.send_signed(ctx, unsigned, delivery, may_retry)).await
    }

    /// Whether a failed call may be retried.
    fn may_retry(&self, ctx: &Context) -> bool {
        ctx.options.force_retry
            || *self.may_retry.get_or_init(|| ServiceProfile::for_service(&self.meta.service).may_retry(&self.meta))
    }

    /// [`HttpOperation::send`] for an operation with security.
    async fn send_signed(
        &self,
        ctx: &Context,
        unsigned: &Request,
        delivery: Delivery,
        may_retry: bool,
    ) -> Result<crate::wire::Response> {
        let settings = &ctx.config().http;
        let mut request = unsigned.clone();
        crate::auth::authorize(ctx, &self.meta, &mut request).await?;
        let resp = retry::send(ctx.transport().as_ref(), &request, delivery, settings, may_retry).await?;
        if !(400..500).contains(&resp.status) {
            return Ok(resp);
        }
        let (status, headers) = (resp.status, resp.headers);
        let bytes =
            response::collect(&self.meta.id, resp.body, settings.max_body_bytes.min(response::ERROR_BODY_CAP)).await?;
        if crate::auth::refresh(ctx, &self.meta, &request, status, &response::error_body(&bytes)).await? {
            let mut request = unsigned.clone();
            crate::auth::authorize(ctx, &self.meta, &mut request).await?;
            return retry::send(ctx.transport().as_ref(), &request, delivery, settings, may_retry).await;
        }
        Err(response::status_error_from(&self.meta.id, status, &headers, &bytes))
    }

    /// `invoke` with the body streamed to `path`.
    async fn invoke_download(&self, ctx: &Context, request: Request, path: &std::path::Path) -> Result<Output> {
        let resp = self.send(ctx, &request, Delivery::Streamed).await?;
        response::decode(&self.meta.id, resp, ctx.config().http.max_body_bytes, Some(path)).await
    }

    /// Sends the request and hands the body over as it arrives; an error
    /// status is an error, as for [`Operation::invoke`].
    pub async fn stream(&self, ctx: &Context, input: Value) -> Result<Streamed> {
        let request = self.build(ctx, &input)?;
        let resp = self.send(ctx, &request, Delivery::Streamed).await?;
        if !(200..300).contains(&resp.status) {
            return Err(response::status_error(&self.meta.id, resp, ctx.config().http.max_body_bytes).await);
        }
        let body = match resp.body {
            crate::wire::ResponseBody::Stream(s) => s,
            crate::wire::ResponseBody::Full(b) => Box::pin(futures::stream::once(futures::future::ready(Ok(b)))),
        };
        Ok(Streamed { status: resp.status, headers: resp.headers, body })
    }

    /// Subscribes to a `text/event-stream` operation and yields its events
    /// as they arrive.
    pub async fn events(&self, ctx: &Context, input: Value) -> Result<BoxStream<'static, Result<Event>>> {
        let mut request = self.build(ctx, &input)?;
        request.set_header(Pair::plain("Accept", "text/event-stream"));
        let resp = self.send(ctx, &request, Delivery::Streamed).await?;
        if !(200..300).contains(&resp.status) {
            return Err(response::status_error(&self.meta.id, resp, ctx.config().http.max_body_bytes).await);
        }
        match resp.body {
            crate::wire::ResponseBody::Stream(s) => Ok(sse::events(s)),
            crate::wire::ResponseBody::Full(b) => {
                Ok(sse::events(Box::pin(futures::stream::once(futures::future::ready(Ok(b))))))
            }
        }
    }
}

#[async_trait]
impl Operation for HttpOperation {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    fn dry_run(&self, ctx: &Context, input: &Value) -> Result<Request> {
        self.prepare_offline(ctx, input)
    }

    fn as_http(&self) -> Option<&HttpOperation> {
        Some(self)
    }

    async fn invoke(&self, ctx: &Context, input: Value) -> Result<Output> {
        let request = self.build(ctx, &input)?;
        drop(input);
        if let Some(path) = ctx.options.download_to.as_deref() {
            return Box::pin(self.invoke_download(ctx, request, path)).await;
        }
        let resp = self.send(ctx, &request, Delivery::Buffered).await?;
        drop(request);
        let (cap, raw) = (ctx.config().http.max_body_bytes, ctx.options.raw_json);
        match resp.body {
            // What the transports hand back for a buffered call: decoded
            // without another future in this one.
            crate::wire::ResponseBody::Full(_) => response::decode_full(&self.meta.id, resp, cap, raw),
            crate::wire::ResponseBody::Stream(_) => {
                Box::pin(response::decode_buffered(&self.meta.id, resp, cap, raw)).await
            }
        }
    }
}
