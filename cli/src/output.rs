//! How the command line prints what the library returns.
//!
//! One value, five formats: JSON (colored on a terminal), YAML, a table
//! (comfy-table) or CSV of a list of objects, and raw (text and bytes as
//! they are, JSON compact). Colors follow the terminal: anstream decides
//! whether stdout shows them (a terminal, `NO_COLOR`, `CLICOLOR_FORCE`), and
//! otherwise nothing but the plain bytes is written. A body
//! that is not JSON (a CSV answer, text, bytes) prints as it came.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};
use opdeck::PageLimits;
use opdeck::engine::ServiceInfo;
use opdeck::{Body, Deck, Error, Operation, OperationMeta, Result};
use serde_json::{Value, json};

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Pretty JSON, colored on a terminal.
    Json,
    /// YAML.
    Yaml,
    /// A table of a list of objects, a list answer's items included (an object: its keys and values).
    Table,
    /// CSV of a list of objects (a list answer's items), with a header row.
    Csv,
    /// Text as is, bytes as is, JSON compact.
    Raw,
}

/// A closed pipe (`opdeck … | head`) ends the output quietly; other write
/// errors are reported.
fn stdout_result(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

fn write_out(bytes: &[u8]) -> Result<()> {
    stdout_result(std::io::stdout().lock().write_all(bytes))
}

/// Whether stdout shows colors (a terminal, no `NO_COLOR`).
fn colored() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// `opdeck services`: a listing with a header, or the rows in `format`.
pub fn services(services: &[ServiceInfo], format: Option<Format>) -> Result<()> {
    if let Some(format) = format {
        return value(&json!(services), format);
    }
    let mut out = format!("{:<14} {:>10}  {}\n", "SERVICE", "OPERATIONS", "ORIGIN");
    for s in services {
        out.push_str(&format!("{:<14} {:>10}  {}\n", s.name, s.operations, s.origin));
    }
    out.push_str(&format!("{:<14} {:>10}\n", "total", services.iter().map(|s| s.operations).sum::<usize>()));
    write_out(out.as_bytes())
}

/// `opdeck ops`: a listing with a header, or the rows in `format` (JSON has
/// every field; a table and CSV the id, method, path and summary).
pub fn ops(ops: &[Arc<dyn Operation>], format: Option<Format>) -> Result<()> {
    match format {
        None => {
            let mut out = String::with_capacity(ops.len() * 96 + 64);
            out.push_str(&format!("{:<60} {:<7} {}\n", "ID", "METHOD", "PATH"));
            for op in ops {
                let m = op.head();
                let flag = if m.deprecated { " (deprecated)" } else { "" };
                out.push_str(&format!("{:<60} {:<7} {}{flag}\n", m.id, m.method.as_str(), m.path));
            }
            write_out(out.as_bytes())
        }
        Some(format @ (Format::Json | Format::Yaml)) => {
            let list: Vec<Value> = ops
                .iter()
                .map(|op| {
                    let m = op.head();
                    json!({
                        "id": m.id, "alias": m.alias, "method": m.method, "path": m.path,
                        "summary": m.summary, "deprecated": m.deprecated, "since": m.since,
                    })
                })
                .collect();
            if format == Format::Json && !colored() {
                // Compact and quick for programs: a cold `ops` lists 1,413 operations.
                let mut text = Value::Array(list).to_string();
                text.push('\n');
                return write_out(text.as_bytes());
            }
            value(&Value::Array(list), format)
        }
        Some(format) => {
            let list: Vec<Value> = ops
                .iter()
                .map(|op| {
                    let m = op.head();
                    json!({"id": m.id, "method": m.method, "path": m.path, "summary": m.summary})
                })
                .collect();
            value(&Value::Array(list), format)
        }
    }
}

/// `opdeck describe`: text for people, or the description in `format`.
pub fn describe(m: &OperationMeta, format: Option<Format>) -> Result<()> {
    if let Some(format) = format {
        return value(&m.describe(), format);
    }
    let mut out = format!("{}  ({})\n  {}\n\n  {} {}\n", m.id, m.alias, m.summary, m.method, m.path);
    if m.deprecated {
        let since = m.deprecated_since.as_deref().map(|v| format!(" since v{v}")).unwrap_or_default();
        out.push_str(&format!("  deprecated{since}\n"));
    }
    if let Some(v) = &m.since {
        out.push_str(&format!("  since v{v}\n"));
    }
    if !m.parameters.is_empty() {
        out.push_str("\n  parameters:\n");
        for p in &m.parameters {
            let ty = m.definitions.resolve(&p.schema).get("type").map(|t| t.to_string()).unwrap_or_default();
            let req = if p.required { "required" } else { "optional" };
            out.push_str(&format!(
                "    {:<28} {:<7} {:<10} {}\n",
                p.key,
                p.location.as_str(),
                ty.trim_matches('"'),
                req
            ));
        }
    }
    if let Some(body) = &m.body {
        let kinds: Vec<&str> = body.media.iter().map(|x| x.content_type.as_str()).collect();
        let req = if body.required { "required" } else { "optional" };
        out.push_str(&format!("\n  body ({req}): {}\n", kinds.join(", ")));
    }
    if !m.security.is_empty() {
        let alts: Vec<String> =
            m.security.iter().map(|r| r.0.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" + ")).collect();
        out.push_str(&format!("\n  auth: {}\n", alts.join(" or ")));
    }
    out.push_str(&format!(
        "\n  input schema:\n{}\n",
        serde_json::to_string_pretty(&m.input_schema()).unwrap_or_default()
    ));
    write_out(out.as_bytes())
}

/// A call's body: JSON through `filter` and `format`; text and bytes as
/// they came (a filter needs JSON).
pub fn body(body: Body, format: Format, filter: Option<&crate::filter::Filter>) -> Result<()> {
    match body {
        Body::Json(v) => match filter {
            None => value(&v, format),
            Some(f) => values(f.run(v)?, format),
        },
        Body::Text(text) if filter.is_none() => {
            let mut text = text;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            write_out(text.as_bytes())
        }
        // Bytes would garble a terminal: there a summary, piped the bytes.
        Body::Bytes(bytes) if filter.is_none() && format != Format::Raw && std::io::stdout().is_terminal() => {
            eprintln!(
                "opdeck: a binary answer of {} bytes is not printed on a terminal; use --out FILE, or pipe it",
                bytes.len()
            );
            value(&json!({ "bytes": bytes.len() }), format)
        }
        Body::Bytes(bytes) if filter.is_none() => write_out(&bytes),
        Body::Empty if filter.is_none() => match format {
            Format::Json | Format::Yaml => value(&Value::Null, format),
            _ => Ok(()),
        },
        other @ (Body::Text(_) | Body::Bytes(_) | Body::Empty) => {
            let what = match other {
                Body::Text(_) => "a text answer",
                Body::Bytes(_) => "a binary answer",
                _ => "an empty answer",
            };
            Err(Error::usage(format!("--filter needs a JSON answer, and this is {what} (drop --filter to see it)")))
        }
        other => value(&other.into_value(), format),
    }
}

/// The outputs of a filter: each one on its own for JSON and raw, as jq
/// prints them; together as one list for the other formats.
pub fn values(outputs: Vec<Value>, format: Format) -> Result<()> {
    match (format, outputs.len()) {
        (_, 1) => value(&outputs[0], format),
        (Format::Json | Format::Raw, _) => {
            for v in &outputs {
                value(v, format)?;
            }
            Ok(())
        }
        _ => value(&Value::Array(outputs), format),
    }
}

/// Prints one value in `format`.
pub fn value(value: &Value, format: Format) -> Result<()> {
    let mut text = match format {
        Format::Json if colored() => color_json(value),
        Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| Error::usage(format!("cannot print yaml: {e}")))?,
        Format::Table => table(value),
        Format::Csv => csv(value)?,
        Format::Raw => match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    };
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    write_out(text.as_bytes())
}

/// The text of a cell: strings as they are, other values as compact JSON,
/// cut at 60 characters.
fn cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 { format!("{}…", text.chars().take(59).collect::<String>()) } else { text }
}

/// The columns of a list of objects: every key, in the order first seen.
fn columns(rows: &[Value]) -> Option<Vec<String>> {
    let mut cols: Vec<String> = Vec::new();
    for row in rows {
        for k in row.as_object()?.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    Some(cols)
}

/// Rows of cells with their header: a list of objects by its keys, an
/// object by key and value, a list of scalars as one column.
fn grid(value: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    match value {
        Value::Array(rows) if !rows.is_empty() => match columns(rows) {
            Some(cols) => {
                let cells = rows
                    .iter()
                    .map(|r| cols.iter().map(|c| r.get(c).map(cell).unwrap_or_default()).collect())
                    .collect();
                (cols, cells)
            }
            None => (vec!["value".into()], rows.iter().map(|r| vec![cell(r)]).collect()),
        },
        Value::Object(map) => {
            (vec!["key".into(), "value".into()], map.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect())
        }
        Value::Array(_) => (vec![], vec![]),
        other => (vec!["value".into()], vec![vec![cell(other)]]),
    }
}

fn table(value: &Value) -> String {
    let (mut header, mut rows) = grid(value);
    if header.is_empty() {
        return String::new();
    }
    // On a terminal, the columns that fit its width are shown, the first
    // ones first, and the others named on stderr; piped, every column.
    if let Some((_, width)) = console::Term::stdout().size_checked() {
        let shown = fitting_columns(&header, &rows, usize::from(width));
        if shown < header.len() {
            let rest = header.split_off(shown);
            rows.iter_mut().for_each(|row| row.truncate(shown));
            eprintln!(
                "opdeck: {} more column{} not shown: {} (--filter picks columns; -o csv shows them all)",
                rest.len(),
                if rest.len() == 1 { "" } else { "s" },
                rest.join(", ")
            );
        }
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header);
    for row in rows {
        t.add_row(row);
    }
    t.to_string()
}

/// How many of the first columns fit in `width` characters, at least one:
/// each takes its widest cell or header plus a space either side and a
/// border.
fn fitting_columns(header: &[String], rows: &[Vec<String>], width: usize) -> usize {
    let mut used = 1;
    for (i, name) in header.iter().enumerate() {
        let widest = rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0);
        used += widest.max(name.chars().count()) + 3;
        if used > width {
            return i.max(1);
        }
    }
    header.len()
}

fn csv(value: &Value) -> Result<String> {
    let (header, rows) = match value {
        Value::Object(map) => {
            (map.keys().cloned().collect(), vec![map.values().map(csv_cell).collect::<Vec<String>>()])
        }
        Value::Array(rows) => match columns(rows) {
            Some(cols) => {
                let cells = rows
                    .iter()
                    .map(|r| cols.iter().map(|c| r.get(c).map(csv_cell).unwrap_or_default()).collect())
                    .collect();
                (cols, cells)
            }
            None => (vec!["value".to_owned()], rows.iter().map(|r| vec![csv_cell(r)]).collect()),
        },
        other => (vec!["value".to_owned()], vec![vec![csv_cell(other)]]),
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::usage(format!("cannot print csv: {e}"));
    if !header.is_empty() {
        w.write_record(&header).map_err(fail)?;
    }
    for row in rows {
        w.write_record(&row).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::usage(format!("cannot print csv: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// CSV cells are whole: strings as they are, other values as compact JSON.
fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Pretty JSON with ANSI colors: keys blue, strings green, numbers cyan,
/// booleans yellow, null dimmed.
fn color_json(value: &Value) -> String {
    let mut out = String::new();
    paint(value, 0, &mut out);
    out
}

fn paint(value: &Value, depth: usize, out: &mut String) {
    let styled = |style: Style, text: &str, out: &mut String| out.push_str(&format!("{style}{text}{style:#}"));
    let pad = |n: usize| "  ".repeat(n);
    match value {
        Value::Null => styled(Style::new().dimmed(), "null", out),
        Value::Bool(b) => styled(AnsiColor::Yellow.on_default(), if *b { "true" } else { "false" }, out),
        Value::Number(n) => styled(AnsiColor::Cyan.on_default(), &n.to_string(), out),
        Value::String(s) => styled(AnsiColor::Green.on_default(), &Value::String(s.clone()).to_string(), out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                paint(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                styled(AnsiColor::Blue.on_default().bold(), &Value::String(k.clone()).to_string(), out);
                out.push_str(": ");
                paint(v, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
    }
}

/// Follows every page, with a progress bar on a terminal.
pub fn paginate(deck: &Deck, id: &str, input: Value, limits: PageLimits, progress: bool) -> Result<Vec<Value>> {
    let mut pager = deck.pager(id, input, limits)?;
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    let mut items = Vec::new();
    opdeck::runtime::block_on(async {
        while let Some(page) = pager.next_page().await? {
            items.extend(page);
            if let Some(bar) = &bar {
                let p = pager.progress();
                let total = p.total.map(|t| format!(" of {t}")).unwrap_or_default();
                bar.set_message(format!("{} items{total}, {} pages", p.items, p.pages));
                bar.tick();
            }
        }
        Ok::<_, Error>(())
    })??;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(items)
}

/// `spec list`: one line per added source under a header, or a JSON array.
pub fn sources(listed: &[crate::store::Listed], as_json: bool) -> Result<()> {
    let mut out = String::new();
    if as_json {
        out = json!(listed).to_string();
        out.push('\n');
    } else if listed.is_empty() {
        out.push_str("no sources added (opdeck spec add NAME SPEC)\n");
    } else {
        let url = |l: &crate::store::Listed| match (&l.base_url, l.base_url_from) {
            (Some(u), Some(from)) => format!("{u} ({from})"),
            _ => "(none)".to_owned(),
        };
        let name_w = listed.iter().map(|l| l.name.len()).max().unwrap_or(0).max(4);
        let url_w = listed.iter().map(|l| url(l).len()).max().unwrap_or(0).max(8);
        out.push_str(&format!("{:<name_w$}  {:<url_w$}  {:>10}  ORIGIN\n", "NAME", "BASE URL", "OPERATIONS"));
        for l in listed {
            out.push_str(&format!("{:<name_w$}  {:<url_w$}  {:>10}  {}\n", l.name, url(l), l.operations, l.origin));
        }
    }
    stdout_result(std::io::stdout().write_all(out.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_keeps_the_first_columns_that_fit_and_at_least_one() {
        let header: Vec<String> = ["id", "name", "address"].map(String::from).into();
        let rows = vec![vec!["u1".into(), "Ann Lee".into(), "ann.lee@example.com".into()]];
        // │ id ┆ name    ┆ address             │: 1 + 5 + 10 + 22 characters.
        assert_eq!(fitting_columns(&header, &rows, 38), 3);
        assert_eq!(fitting_columns(&header, &rows, 37), 2);
        assert_eq!(fitting_columns(&header, &rows, 16), 2);
        assert_eq!(fitting_columns(&header, &rows, 15), 1);
        assert_eq!(fitting_columns(&header, &rows, 3), 1, "one column however narrow the terminal");
    }

    #[test]
    fn a_list_of_objects_is_a_table_and_csv_with_every_key() {
        let rows = json!([{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo, Jr.", "tags": ["x"]}]);
        let t = table(&rows);
        assert!(t.lines().nth(1).is_some_and(|l| l.contains("id") && l.contains("name") && l.contains("tags")), "{t}");
        assert!(t.contains("Ann") && t.contains(r#"["x"]"#), "{t}");
        assert_eq!(csv(&rows).expect("csv"), "id,name,tags\n1,Ann,\n2,\"Bo, Jr.\",\"[\"\"x\"\"]\"\n");
        assert_eq!(csv(&json!({"a": 1, "b": "x"})).expect("csv"), "a,b\n1,x\n");
    }

    #[test]
    fn colored_json_is_the_pretty_json_once_stripped() {
        let v = json!({"a": [1, true, null, "s"], "b": {}, "c": {"d": 2.5}});
        let plain = anstream::adapter::strip_str(&color_json(&v)).to_string();
        assert_eq!(plain, serde_json::to_string_pretty(&v).expect("json"));
        assert!(color_json(&v).contains("\x1b["));
    }
}
