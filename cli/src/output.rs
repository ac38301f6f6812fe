//! How the command line prints what the library returns.

use std::io::Write;
use std::sync::Arc;

use opdeck::PageLimits;
use opdeck::engine::ServiceInfo;
use opdeck::{Deck, Error, Operation, OperationMeta, Result};
use serde_json::{Value, json};

/// How a body is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Pretty JSON.
    Json,
    /// YAML.
    Yaml,
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

pub fn services(services: &[ServiceInfo], as_json: bool) {
    if as_json {
        println!("{}", json!(services));
        return;
    }
    let mut out = String::new();
    for s in services {
        out.push_str(&format!("{:<14} {:>5}  {}\n", s.name, s.operations, s.origin));
    }
    out.push_str(&format!("{:<14} {:>5}\n", "total", services.iter().map(|s| s.operations).sum::<usize>()));
    print!("{out}");
}

pub fn ops(ops: &[Arc<dyn Operation>], as_json: bool) {
    let mut out = String::with_capacity(ops.len() * 96);
    if as_json {
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
        out = Value::Array(list).to_string();
        out.push('\n');
    } else {
        for op in ops {
            let m = op.head();
            let flag = if m.deprecated { " (deprecated)" } else { "" };
            out.push_str(&format!("{:<60} {:<7} {}{flag}\n", m.id, m.method.as_str(), m.path));
        }
    }
    // Listing cannot fail but for a closed pipe, which ends it quietly.
    let _ = stdout_result(std::io::stdout().lock().write_all(out.as_bytes()));
}

pub fn describe(m: &OperationMeta, as_json: bool) {
    if as_json {
        println!("{}", serde_json::to_string_pretty(&m.describe()).unwrap_or_default());
        return;
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
    print!("{out}");
}

pub fn value(value: &Value, format: Format) -> Result<()> {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| Error::usage(format!("cannot print yaml: {e}")))?,
        Format::Raw => match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    };
    let mut out = std::io::stdout().lock();
    stdout_result(writeln!(out, "{}", text.trim_end()))
}

pub fn raw(bytes: &[u8]) -> Result<()> {
    stdout_result(std::io::stdout().lock().write_all(bytes))
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
