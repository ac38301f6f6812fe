//! `--filter`: a jq expression over a JSON answer, run by jaq (a jq written
//! in Rust), before the answer is formatted.
//!
//! The expression is compiled once, before the call is sent, so a typo in it
//! is a usage error that costs no request.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use opdeck::{Error, Result};
use serde_json::Value;

/// A compiled jq filter.
pub struct Filter {
    expr: String,
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({:?})", self.expr)
    }
}

impl Filter {
    /// Compiles `expr` with jq's standard definitions.
    pub fn new(expr: &str) -> Result<Filter> {
        let bad = |why: String| Error::usage(format!("--filter `{expr}` is not a jq expression: {why}"));
        let program = File { code: expr, path: () };
        let loader = Loader::new(jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()));
        let arena = Arena::default();
        let modules = loader.load(&arena, program).map_err(|errs| bad(load_errors(errs)))?;
        let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
        let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, undefined)| undefined)
                .map(|(name, what)| format!("undefined {} `{name}`", what.as_str()))
                .collect();
            bad(names.join(", "))
        })?;
        Ok(Filter { expr: expr.to_owned(), filter })
    }

    /// Runs the filter on `input`: every output, in order; a runtime error
    /// (`.a` on a list) is a usage error that names the expression.
    pub fn run(&self, input: Value) -> Result<Vec<Value>> {
        let text = input.to_string();
        let input = jaq_json::read::parse_single(text.as_bytes())
            .map_err(|e| Error::internal(format!("the answer as jaq reads it: {e}")))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = Vec::new();
        for result in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            let val = result.map_err(|e| Error::usage(format!("--filter `{}` failed: {e}", self.expr)))?;
            let shown = val.to_string();
            out.push(serde_json::from_str(&shown).unwrap_or(Value::String(shown)));
        }
        Ok(out)
    }
}

fn load_errors(errs: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error as E;
    let mut out = Vec::new();
    for (_, err) in errs {
        match err {
            E::Io(items) => out.extend(items.into_iter().map(|(path, why)| format!("{path}: {why}"))),
            E::Lex(items) => out.extend(items.into_iter().map(|(expect, at)| near(expect.as_str(), at))),
            E::Parse(items) => out.extend(items.into_iter().map(|(expect, at)| near(expect.as_str(), at))),
        }
    }
    out.join("; ")
}

fn near(expected: &str, at: &str) -> String {
    let at: String = at.chars().take(20).collect();
    if at.is_empty() { format!("expected {expected} at the end") } else { format!("expected {expected} at `{at}`") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_filter_selects_and_reshapes() {
        let f = Filter::new(".[] | select(.n > 1) | {name}").expect("compiles");
        let out = f.run(json!([{"name": "a", "n": 1}, {"name": "b", "n": 2}])).expect("runs");
        assert_eq!(out, vec![json!({"name": "b"})]);
        assert_eq!(
            Filter::new("map(.n) | add").expect("std").run(json!([{"n": 1}, {"n": 2}])).expect("runs"),
            vec![json!(3)]
        );
    }

    #[test]
    fn a_bad_expression_is_a_clear_usage_error() {
        for (expr, says) in [(".[", "expected"), ("nosuchfn", "undefined filter `nosuchfn`")] {
            let err = Filter::new(expr).expect_err(expr);
            assert_eq!(err.kind(), opdeck::ErrorKind::Usage);
            assert!(err.to_string().contains(says) && err.to_string().contains(expr), "{err}");
        }
        let err = Filter::new(".a").expect("compiles").run(json!([1])).expect_err("index a list");
        assert!(err.to_string().contains("--filter `.a` failed"), "{err}");
    }
}
