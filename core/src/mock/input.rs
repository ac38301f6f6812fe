//! A valid input for any operation, made from its schemas: what a first call
//! of an unknown operation looks like, and the valid half of the simulator's
//! and Prism's conformance tests.

use serde_json::{Map, Value};

use crate::model::{Location, OperationMeta};
use crate::schema::{BODY_KEY, body_input_schema, is_json};

use super::generate::{Generator, Mode};

/// The seed of [`example_input`]: fixed, so the example of an operation
/// never changes between runs.
const INPUT_SEED: u64 = 0x6f70_6465_636b;

/// An input that passes `meta`'s input schema: every required parameter
/// (path parameters always, as their template needs them), and the body
/// (required or not) in the media type opdeck sends by default (JSON when
/// offered, else the first), with only required properties. Deterministic
/// for one operation.
pub fn example_input(meta: &OperationMeta) -> Value {
    let mut generator = Generator::new(&meta.definitions, INPUT_SEED ^ fnv(meta.id.as_bytes()), Mode::Request);
    let mut input = Map::new();
    for p in meta.parameters.iter().filter(|p| p.required || p.location == Location::Path) {
        let value = generator.value(&p.schema);
        input.insert(p.key.clone(), value);
    }
    let body = meta.body.as_ref().map(|b| &b.media);
    if let Some(media) = body.and_then(|m| m.iter().find(|x| is_json(&x.content_type)).or(m.first())) {
        let schema = body_input_schema(&meta.definitions, media);
        let value = if meta.definitions.resolve(&schema).as_object().is_none_or(Map::is_empty) {
            Value::Object(Map::new())
        } else {
            generator.value(&schema)
        };
        input.insert(BODY_KEY.into(), value);
    }
    Value::Object(input)
}

/// FNV-1a: a stable 64-bit hash, so seeds derived from requests are the same
/// on every platform and Rust version.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
