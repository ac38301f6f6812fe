//! `deck:prepare(id, input)`: the request a call would send, as a table,
//! secrets already redacted by core.

use mlua::{Lua, Table};
use opdeck::wire::{Payload, Request};

/// `{ method, url, headers = { {name, value}, ... }, body, curl }`; `body`
/// is the text of a byte body (nil for none, multipart or a file).
pub(crate) fn to_lua(lua: &Lua, request: &Request) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 5)?;
    t.raw_set("operation", &*request.operation)?;
    t.raw_set("method", request.method.to_string())?;
    t.raw_set("url", request.redacted_url())?;
    let headers = lua.create_table_with_capacity(request.headers.len(), 0)?;
    for (i, h) in request.headers.iter().enumerate() {
        headers.raw_set(i + 1, lua.create_sequence_from([&*h.name, h.shown()])?)?;
    }
    t.raw_set("headers", headers)?;
    if let Payload::Bytes { content_type, data } = &request.body {
        t.raw_set("content_type", content_type.as_str())?;
        t.raw_set("body", lua.create_string(data)?)?;
    }
    t.raw_set("curl", request.curl())?;
    Ok(t)
}
