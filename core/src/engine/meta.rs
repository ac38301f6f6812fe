//! The meta-operations of service `openapi`: `openapi.previewSpec` reads a
//! spec and says what is in it; `openapi.addSource` registers its operations
//! in the running deck. They are native operations, so scripts and tool
//! clients add services the same way they call anything else.
//!
//! Their ids have two parts (`openapi.previewSpec`), as the tool listings
//! they mirror do; group and name are `openapi` and `previewSpec`.
//!
//! A `baseUrl` given to `addSource` is kept by the context
//! ([`Context::set_source_url`]), so calls to the new service go there unless
//! the configuration names another URL; without one, the spec's first
//! server is used (`servers`, or Swagger 2's scheme, host and `basePath`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::OpenApiSource;
use super::Operation;
use crate::engine::Context;
use crate::engine::Source;
use crate::error::{Error, Result};
use crate::model::{OperationMeta, Output, Parameter};
use crate::schema::Validator;
use crate::spec::LoadOptions;

/// The service the meta-operations belong to.
pub const SERVICE: &str = "openapi";
/// The id of `openapi.previewSpec`.
pub const PREVIEW_SPEC: &str = "openapi.previewSpec";
/// The id of `openapi.addSource`.
pub const ADD_SOURCE: &str = "openapi.addSource";

fn string_param(name: &str, required: bool, schema: Value) -> Parameter {
    Parameter::input(name, required, schema)
}

fn meta(name: &str, summary: &str, parameters: Vec<Parameter>) -> OperationMeta {
    OperationMeta { summary: summary.into(), ..OperationMeta::native(SERVICE, SERVICE, name, parameters) }
}

fn spec_param() -> Parameter {
    string_param("spec", true, json!({"type": "string", "minLength": 1}))
}

fn text<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

/// `openapi.previewSpec`: `{spec}` (text, path or URL) → title, version,
/// format, servers, security schemes, operation count, tags and warnings.
#[derive(Debug)]
pub struct PreviewSpec {
    meta: OperationMeta,
    validator: Validator,
}

impl PreviewSpec {
    /// The operation.
    pub fn new() -> Result<Self> {
        let meta = meta("previewSpec", "Preview an API description", vec![spec_param()]);
        let validator = Validator::new(&meta)?;
        Ok(PreviewSpec { meta, validator })
    }
}

#[async_trait]
impl Operation for PreviewSpec {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, _ctx: &Context, input: Value) -> Result<Output> {
        self.validator.validate(&input)?;
        let spec = text(&input, "spec").unwrap_or_default();
        let doc = super::load_input(spec, "preview", &LoadOptions::default()).await?;
        let mut summary = doc.summary();
        if let Some(obj) = summary.as_object_mut() {
            obj.remove("service");
        }
        Ok(Output::json(summary))
    }
}

/// `openapi.addSource`: `{spec, service, baseUrl?}` → registers every
/// operation of the spec as `<service>.*` and returns `{service, ids}`.
#[derive(Debug)]
pub struct AddSource {
    meta: OperationMeta,
    validator: Validator,
}

impl AddSource {
    /// The operation.
    pub fn new() -> Result<Self> {
        let meta = meta(
            "addSource",
            "Add the operations of an API description",
            vec![
                spec_param(),
                string_param("service", true, json!({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]{0,63}$"})),
                string_param("baseUrl", false, json!({"type": "string", "pattern": "^https?://"})),
            ],
        );
        let validator = Validator::new(&meta)?;
        Ok(AddSource { meta, validator })
    }
}

#[async_trait]
impl Operation for AddSource {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, ctx: &Context, input: Value) -> Result<Output> {
        self.validator.validate(&input)?;
        let spec = text(&input, "spec").unwrap_or_default();
        let service = text(&input, "service").unwrap_or_default();
        if service == SERVICE {
            return Err(Error::usage("service `openapi` is reserved for the meta-operations"));
        }
        let base_url = text(&input, "baseUrl");
        if let Some(url) = base_url {
            url::Url::parse(url).map_err(|e| Error::usage(format!("baseUrl is not a url: {e}")))?;
        }
        let options = super::load_options(service);
        let doc = super::load_input(spec, service, &options).await?;
        let warnings = doc.warnings.len();
        let origin = if spec.contains('\n') || spec.trim_start().starts_with('{') {
            "inline".into()
        } else {
            spec.trim().to_owned()
        };
        let server = doc.server_url(Some(spec.trim()));
        let source = OpenApiSource::new(doc, origin);
        let ids = ctx.registry().register(&source)?;
        set_base_url(ctx, service, base_url, server);
        Ok(Output::json(json!({ "service": service, "ids": ids, "warnings": warnings })))
    }
}

/// Registers the document in `bytes` as service `service` (what
/// `openapi.addSource` does once it has the bytes). Returns the ids added.
pub fn add_document(
    ctx: &Context,
    service: &str,
    bytes: &[u8],
    origin: &str,
    base_url: Option<&str>,
) -> Result<Vec<String>> {
    if service == SERVICE {
        return Err(Error::usage("service `openapi` is reserved for the meta-operations"));
    }
    if let Some(url) = base_url {
        url::Url::parse(url).map_err(|e| Error::usage(format!("base url `{url}` is not a url: {e}")))?;
    }
    let doc = crate::spec::load(bytes, service, &super::load_options(service))
        .map_err(|e| e.in_spec_source(&crate::wire::redact_text(origin)))?;
    let server = doc.server_url(Some(origin));
    let ids = ctx.registry().register(&OpenApiSource::new(doc, origin))?;
    set_base_url(ctx, service, base_url, server);
    Ok(ids)
}

/// Records where an added service's calls go: the base URL given, else the
/// document's first server ([`crate::spec::Document::server_url`]), else
/// nowhere (a call then asks for one). Configuration still wins over both.
fn set_base_url(ctx: &Context, service: &str, given: Option<&str>, server: Option<String>) {
    match given.map(str::to_owned).or(server) {
        Some(url) => ctx.set_source_url(service, &url),
        None => ctx.clear_source_url(service),
    }
}

/// The source of the meta-operations, service `openapi`.
#[derive(Debug, Default, Clone, Copy)]
pub struct MetaSource;

impl Source for MetaSource {
    fn service(&self) -> &str {
        SERVICE
    }

    fn origin(&self) -> String {
        "builtin".into()
    }

    fn operations(&self) -> Result<Vec<Arc<dyn Operation>>> {
        Ok(vec![Arc::new(PreviewSpec::new()?), Arc::new(AddSource::new()?)])
    }
}

/// The meta-operations as a [`Source`] to register.
pub fn meta_source() -> MetaSource {
    MetaSource
}
