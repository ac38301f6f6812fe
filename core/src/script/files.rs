//! `read_json` and `read_csv`: the only file access a script has, and only
//! when the host allows it (`--allow-read`). Files larger than the string
//! limit are refused, counting the bytes actually read.

use std::path::Path;
use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use super::convert;
use super::host::{Host, RhaiResult};
use crate::error::Error;

/// Registers `read_json` and `read_csv`.
pub(crate) fn register(engine: &mut rhai::Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("read_json", move |path: &str| read_json(&h, path));
    let h = host.clone();
    engine.register_fn("read_csv", move |path: &str| read_csv(&h, path));
}

fn read(host: &Host, function: &str, path: &str) -> RhaiResult<Vec<u8>> {
    if !host.allow_read {
        return Host::fail(Error::usage(format!(
            "{function}(\"{path}\") is disabled: file reading is off unless the host allows it \
             (run with --allow-read, or Engine::allow_read(true))"
        )));
    }
    let path = Path::new(path);
    // Bounded by the bytes read, not the size the file reports (a device
    // such as /dev/zero reports none).
    crate::spec::read_capped(path, host.limits.max_string_size as u64, "max_string_size").or_else(Host::fail)
}

fn read_json(host: &Host, path: &str) -> RhaiResult<Dynamic> {
    let bytes = read(host, "read_json", path)?;
    if let Err(m) = crate::spec::budget::check(&bytes) {
        return Host::fail(Error::Limit {
            limit: "json decoding budget".into(),
            detail: format!("read_json: {path}: {m}"),
        });
    }
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok(convert::to_dynamic(value)),
        Err(e) => Host::fail(Error::usage(format!("read_json: {path} is not valid json: {e}"))),
    }
}

/// Every row as a map from the header row's names to the cell text.
fn read_csv(host: &Host, path: &str) -> RhaiResult<Array> {
    let bytes = read(host, "read_csv", path)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes.as_slice());
    let bad = |e: csv::Error| Host::fail(Error::usage(format!("read_csv: {path}: {e}")));
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return bad(e),
    };
    let mut rows = Array::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => return bad(e),
        };
        let row: Map =
            headers.iter().zip(record.iter()).map(|(k, v)| (k.into(), Dynamic::from(v.to_owned()))).collect();
        rows.push(Dynamic::from_map(row));
    }
    Ok(rows)
}
