//! DRACOON's `filter` and `sort` query strings, built from script values.
//!
//! DRACOON filters are `field:op:value` terms joined by `|` (all must hold),
//! with several values of one term joined by `:`; sorts are `field:asc` or
//! `field:desc` joined by `|`, in priority order. Building them by hand is
//! where typos hide, so scripts write:
//!
//! ```rhai
//! dracoon_filter(#{ type: ["eq", ["room", "folder"]], name: ["cn", "q1"] })
//! //  → "name:cn:q1|type:eq:room:folder"
//! dracoon_sort(["name", "-createdAt"])      // → "name:asc|createdAt:desc"
//! ```
//!
//! Object maps are unordered, which does not matter for a filter (every
//! term must hold) but does for a sort, so sorts take an array.

use rhai::{Array, Dynamic, Map};

use super::host::{Host, RhaiResult};
use crate::error::Error;

/// The operators DRACOON's filters accept.
const OPERATORS: [&str; 6] = ["eq", "neq", "cn", "sw", "ge", "le"];

/// Registers `dracoon_filter` and `dracoon_sort`.
pub(crate) fn register(engine: &mut rhai::Engine) {
    engine.register_fn("dracoon_filter", |terms: Map| filter(&terms));
    engine.register_fn("dracoon_sort", |fields: Array| sort(&fields));
}

fn bad<T>(message: String) -> RhaiResult<T> {
    Host::fail(Error::usage(message))
}

fn text(value: &Dynamic, what: &str) -> RhaiResult<String> {
    let s = if value.is_string() {
        value.clone().into_string().unwrap_or_default()
    } else if value.is_int() || value.is_bool() || value.is_float() {
        value.to_string()
    } else {
        return bad(format!("{what} must be a string, number or bool, not {}", value.type_name()));
    };
    if s.contains(['|', ':']) {
        return bad(format!("{what} `{s}` contains `|` or `:`, which the filter syntax reserves"));
    }
    Ok(s)
}

fn filter(terms: &Map) -> RhaiResult<String> {
    let mut out = Vec::with_capacity(terms.len());
    for (field, term) in terms {
        let field = text(&Dynamic::from(field.to_string()), "dracoon_filter: a field name")?;
        let Some(parts) = term.read_lock::<Array>().map(|a| a.clone()).filter(|a| a.len() == 2) else {
            return bad(format!("dracoon_filter: `{field}` must be [op, value] like [\"eq\", \"room\"]"));
        };
        let op = text(&parts[0], "dracoon_filter: an operator")?;
        if !OPERATORS.contains(&op.as_str()) {
            return bad(format!(
                "dracoon_filter: unknown operator `{op}` for `{field}`; use one of {}",
                OPERATORS.join(", ")
            ));
        }
        let values = match parts[1].read_lock::<Array>() {
            Some(list) => list.iter().map(|v| text(v, "dracoon_filter: a value")).collect::<RhaiResult<Vec<_>>>()?,
            None => vec![text(&parts[1], "dracoon_filter: a value")?],
        };
        if values.is_empty() {
            return bad(format!("dracoon_filter: `{field}` has no value"));
        }
        out.push(format!("{field}:{op}:{}", values.join(":")));
    }
    Ok(out.join("|"))
}

fn sort(fields: &Array) -> RhaiResult<String> {
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let field = text(field, "dracoon_sort: a field")?;
        let term = match field.strip_prefix('-') {
            Some(name) if !name.is_empty() => format!("{name}:desc"),
            None if !field.is_empty() => format!("{}:asc", field.strip_prefix('+').unwrap_or(&field)),
            _ => return bad("dracoon_sort: an empty field name".into()),
        };
        out.push(term);
    }
    Ok(out.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(items: &[Dynamic]) -> Dynamic {
        Dynamic::from_array(items.to_vec())
    }

    #[test]
    fn filters_join_terms_and_multiple_values() {
        let mut terms = Map::new();
        terms.insert("type".into(), arr(&["eq".into(), arr(&["room".into(), "folder".into()])]));
        terms.insert("name".into(), arr(&["cn".into(), "q1".into()]));
        terms.insert("size".into(), arr(&["ge".into(), Dynamic::from(10_i64)]));
        assert_eq!(filter(&terms).expect("valid"), "name:cn:q1|size:ge:10|type:eq:room:folder");
    }

    #[test]
    fn filters_reject_unknown_operators_and_reserved_characters() {
        let mut terms = Map::new();
        terms.insert("name".into(), arr(&["like".into(), "x".into()]));
        assert!(filter(&terms).is_err());
        let mut terms = Map::new();
        terms.insert("name".into(), arr(&["eq".into(), "a|b".into()]));
        assert!(filter(&terms).is_err());
    }

    #[test]
    fn sorts_keep_order_and_read_a_minus_as_descending() {
        let fields: Array = vec!["name".into(), "-createdAt".into(), "+size".into()];
        assert_eq!(sort(&fields).expect("valid"), "name:asc|createdAt:desc|size:asc");
        assert!(sort(&vec!["-".into()]).is_err());
    }
}
