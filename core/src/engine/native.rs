//! Native operations: Rust closures (or a binding's callables) that join the
//! registry as `<service>.<group>.<name>` beside the operations a spec gave.
//!
//! A native operation is described like any other. Its input schema's
//! top-level properties become its parameters, so the input is validated by
//! the same [`Validator`] every operation uses, listings and `describe` show
//! it, and Rhai, the CLI and the bindings call it by id.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::Value;

use super::Operation;
use crate::engine::Context;
use crate::error::{Error, Result};
use crate::model::{Method, OperationMeta, Output, Parameter};
use crate::schema::Validator;

type Handler = dyn Fn(Value) -> BoxFuture<'static, Result<Value>> + Send + Sync;

/// An operation whose body is a function.
pub struct NativeOperation {
    meta: OperationMeta,
    validator: Validator,
    handler: Arc<Handler>,
}

impl fmt::Debug for NativeOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeOperation").field("id", &self.meta.id).finish_non_exhaustive()
    }
}

impl NativeOperation {
    /// An operation `id` (`<service>.<group>.<name>`) taking an object that
    /// follows `input_schema` (`{"type": "object", "properties": …,
    /// "required": […]}`; `{}` or `null` takes no input), answered by `f`.
    /// Its method is `POST` unless [`NativeOperation::method`] says otherwise,
    /// which is what read-only mode and policies go by.
    pub fn new<F, Fut>(id: &str, input_schema: Value, f: F) -> Result<NativeOperation>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value>> + Send + 'static,
    {
        let handler: Arc<Handler> = Arc::new(move |input| Box::pin(f(input)));
        Self::with_handler(id, &input_schema, handler)
    }

    /// [`NativeOperation::new`] for a function that blocks (a Python or Lua
    /// callable, a database driver): it runs on tokio's blocking threads, so
    /// it never stalls the calls running beside it.
    pub fn blocking<F>(id: &str, input_schema: Value, f: F) -> Result<NativeOperation>
    where
        F: Fn(Value) -> Result<Value> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let handler: Arc<Handler> = Arc::new(move |input| {
            let f = f.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || f(input))
                    .await
                    .map_err(|e| Error::internal(format!("a native operation's function failed: {e}")))?
            })
        });
        Self::with_handler(id, &input_schema, handler)
    }

    fn with_handler(id: &str, input_schema: &Value, handler: Arc<Handler>) -> Result<NativeOperation> {
        let meta = describe(id, input_schema)?;
        let validator = Validator::new(&meta)?;
        Ok(NativeOperation { meta, validator, handler })
    }

    /// The same operation with another method (`GET` for one that only reads).
    pub fn method(mut self, method: Method) -> Self {
        self.meta.method = method;
        self
    }

    /// The same operation with a short label for listings.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.meta.summary = summary.into();
        self
    }
}

/// The description of a native operation from its id and input schema.
fn describe(id: &str, schema: &Value) -> Result<OperationMeta> {
    let parts: Vec<&str> = id.split('.').collect();
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let [service, group, name] = parts[..] else {
        return Err(Error::usage(format!("native operation id `{id}`: expected `<service>.<group>.<name>`")));
    };
    if ![service, group, name].into_iter().all(valid) {
        return Err(Error::usage(format!(
            "native operation id `{id}`: each part takes letters, digits, `_` and `-` only"
        )));
    }
    let bad = |message: &str| Error::spec(format!("#/operations/{id}/input_schema"), message);
    let (properties, required) = match schema {
        Value::Null => (serde_json::Map::new(), Vec::new()),
        Value::Object(obj) => {
            if obj.get("type").is_some_and(|t| t != "object") {
                return Err(bad("the input of an operation is an object: `type` must be \"object\""));
            }
            let properties = match obj.get("properties") {
                None => serde_json::Map::new(),
                Some(Value::Object(p)) => p.clone(),
                Some(_) => return Err(bad("`properties` must be an object of schemas")),
            };
            let required: Vec<String> = match obj.get("required") {
                None => Vec::new(),
                Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(_) => return Err(bad("`required` must be a list of property names")),
            };
            if let Some(missing) = required.iter().find(|r| !properties.contains_key(*r)) {
                return Err(bad(&format!("`required` names `{missing}`, which is not among the properties")));
            }
            (properties, required)
        }
        _ => return Err(bad("expected a JSON Schema object")),
    };
    let parameters = properties
        .into_iter()
        .map(|(key, schema)| Parameter::input(key.clone(), required.contains(&key), schema))
        .collect();
    Ok(OperationMeta::native(service, group, name, parameters))
}

#[async_trait]
impl Operation for NativeOperation {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, _ctx: &Context, input: Value) -> Result<Output> {
        let input = if input.is_null() { Value::Object(Default::default()) } else { input };
        self.validator.validate(&input)?;
        Ok(Output::json((self.handler)(input).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_schemas_are_checked() {
        let f = |v: Value| async move { Ok(v) };
        assert!(NativeOperation::new("a.b", Value::Null, f).is_err());
        assert!(NativeOperation::new("a.b c.d", Value::Null, f).is_err());
        let err = NativeOperation::new("a.b.c", serde_json::json!({"type": "array"}), f).expect_err("array");
        assert!(err.to_string().contains("object"), "{err}");
        let err = NativeOperation::new("a.b.c", serde_json::json!({"required": ["x"]}), f).expect_err("required");
        assert!(err.to_string().contains("`x`"), "{err}");
        let op = NativeOperation::new(
            "myapp.users.sync",
            serde_json::json!({"properties": {"name": {"type": "string"}}, "required": ["name"]}),
            f,
        )
        .expect("valid");
        assert_eq!(op.meta().parameters.len(), 1);
        assert!(op.meta().parameters[0].required);
    }
}
