//! One field word: its name, how it gives its value (`=`, `:=`, `=@`,
//! `:=@`, `@`) and the path its name walks (`body.a.b`, `items[]`).

use opdeck::{Error, Result};

/// How a field word gives its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `name=value`: typed by the schema.
    Typed,
    /// `name:=json`.
    Json,
    /// `name=@file`: the text of the file.
    Text,
    /// `name:=@file`: the JSON of the file.
    JsonFile,
    /// `name@file`: an upload.
    Upload,
}

/// One parsed field word.
#[derive(Debug)]
pub(super) struct Field<'a> {
    pub(super) word: &'a str,
    /// The name as written (`body.tags[]`).
    pub(super) name: &'a str,
    pub(super) kind: Kind,
    pub(super) value: &'a str,
}

impl<'a> Field<'a> {
    /// Splits at the first `=` or `@`: `:=` and `:=@` are JSON, `=@` a file's
    /// text, `@` an upload. So `email=ann@example.com` is a plain value.
    pub(super) fn parse(word: &'a str) -> Result<Field<'a>> {
        let at = word.find(['=', '@']).filter(|&i| i > 0).ok_or_else(|| {
            Error::usage(format!("`{word}` is not a field: write name=value, name:=json or name@file"))
        })?;
        let (head, rest) = word.split_at(at);
        let (name, kind, value) = if let Some(v) = rest.strip_prefix('@') {
            (head, Kind::Upload, v)
        } else if let Some(name) = head.strip_suffix(':') {
            let v = &rest[1..];
            match v.strip_prefix('@') {
                Some(file) => (name, Kind::JsonFile, file),
                None => (name, Kind::Json, v),
            }
        } else {
            let v = &rest[1..];
            match v.strip_prefix('@') {
                Some(file) => (head, Kind::Text, file),
                None => (head, Kind::Typed, v),
            }
        };
        if name.is_empty() {
            return Err(Error::usage(format!("`{word}` has no name before `{}`", &rest[..1])));
        }
        Ok(Field { word, name, kind, value })
    }
}

/// One step of a field's path.
#[derive(Debug, PartialEq)]
pub(super) enum Step<'a> {
    Key(&'a str),
    /// `[]`: append to an array.
    Push,
}

pub(super) fn steps<'a>(field: &Field<'a>) -> Result<Vec<Step<'a>>> {
    let mut out = Vec::new();
    for segment in field.name.split('.') {
        let mut key = segment;
        let mut pushes = 0;
        while let Some(k) = key.strip_suffix("[]") {
            key = k;
            pushes += 1;
        }
        if key.is_empty() || key.contains(['[', ']']) {
            return Err(Error::usage(format!(
                "`{}`: `{segment}` is not a name (write body.a.b=x or body.items[]=x)",
                field.word
            )));
        }
        out.push(Step::Key(key));
        out.extend((0..pushes).map(|_| Step::Push));
    }
    Ok(out)
}
