//! The decoding budget of JSON: a cheap pass over the bytes, before they are
//! parsed, that bounds nesting, the number of values and the memory the
//! parsed tree would take.
//!
//! YAML has node and depth budgets in serde-saphyr; serde_json has only a
//! recursion limit (128), so 60 MB of arrays nested 100 deep once parsed
//! into 9 GB. Every JSON that opdeck parses into a tree goes through
//! [`check`] first: specs (`spec::load`), responses (`wire::response`),
//! error bodies and `read_json` in scripts, so the CLI, Rhai and the
//! bindings share one budget.
//!
//! The memory estimate counts what a `serde_json::Value` tree costs per
//! value ([`CONTAINER_COST`] per array or object, [`SCALAR_COST`] per
//! number, literal or string, plus the string bytes, which the input holds
//! already) and must stay within [`MEMORY_FACTOR`] × the input plus
//! [`MEMORY_SLACK`]. Ordinary documents (records, specs) cost 5–30× their
//! bytes; `[[[[…]]]]` costs about 80×.

/// The deepest nesting accepted (serde_json stops at 128 too).
pub const MAX_DEPTH: usize = 128;

/// The most values (containers, keys and scalars) in one document.
pub const MAX_NODES: u64 = 20_000_000;

/// What one array or object is counted as, in bytes.
pub const CONTAINER_COST: u64 = 160;

/// What one scalar or key is counted as, in bytes.
pub const SCALAR_COST: u64 = 40;

/// The estimate may be this many times the input...
pub const MEMORY_FACTOR: u64 = 48;

/// ...plus this much, so small documents are never refused for their shape.
pub const MEMORY_SLACK: u64 = 16 * 1024 * 1024;

/// What a pass over a document found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// The deepest nesting.
    pub depth: usize,
    /// Arrays and objects.
    pub containers: u64,
    /// Keys, strings, numbers and literals.
    pub scalars: u64,
}

impl Tally {
    /// The bytes the parsed tree is estimated to take.
    pub fn estimate(&self, input: usize) -> u64 {
        self.containers * CONTAINER_COST + self.scalars * SCALAR_COST + input as u64
    }
}

/// The most a value can be estimated at per byte of input: a container
/// takes two bytes (`[]`), a scalar one, and every byte counts once more.
const MAX_COST_PER_BYTE: u64 = max(CONTAINER_COST / 2, SCALAR_COST) + 1;

const fn max(a: u64, b: u64) -> u64 {
    if a > b { a } else { b }
}

/// The longest input that is within the memory and value budgets whatever
/// its shape (about 500 KB): its worst estimate, [`MAX_COST_PER_BYTE`] a
/// byte, is still under what [`MEMORY_FACTOR`] and [`MEMORY_SLACK`] allow,
/// and it cannot hold [`MAX_NODES`] values.
pub const WITHIN_ANY_SHAPE: usize = {
    let len = MEMORY_SLACK / (MAX_COST_PER_BYTE - MEMORY_FACTOR);
    assert!(len < MAX_NODES);
    len as usize
};

/// [`check`] for bytes that serde_json parses right after, whose own
/// recursion limit is [`MAX_DEPTH`]: an input of at most
/// [`WITHIN_ANY_SHAPE`] bytes needs no pass, so the ordinary response is
/// walked once, by the parser.
pub fn admit(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() <= WITHIN_ANY_SHAPE {
        return Ok(());
    }
    check(bytes).map(drop)
}

/// Checks `bytes` (JSON) against the budget. The message says which limit,
/// with the numbers; callers put it in their own error, naming the source.
/// Bytes that are not valid JSON pass when they are within the budget: the
/// parser reports them.
pub fn check(bytes: &[u8]) -> Result<Tally, String> {
    scan(bytes, MAX_DEPTH)
}

/// [`check`] without the depth limit, for a spec read as a lazy document:
/// an entry nested too deeply fails when it is parsed, at its own pointer.
pub fn check_size(bytes: &[u8]) -> Result<Tally, String> {
    scan(bytes, usize::MAX)
}

fn scan(bytes: &[u8], max_depth: usize) -> Result<Tally, String> {
    let mut tally = Tally::default();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_scalar = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                in_scalar = false;
                tally.scalars += 1;
            }
            b'[' | b'{' => {
                in_scalar = false;
                depth += 1;
                tally.containers += 1;
                if depth > max_depth {
                    return Err(format!("nesting deeper than {max_depth} levels (the json decoding budget)"));
                }
                tally.depth = tally.depth.max(depth);
            }
            b']' | b'}' => {
                in_scalar = false;
                depth = depth.saturating_sub(1);
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => in_scalar = false,
            _ => {
                if !in_scalar {
                    in_scalar = true;
                    tally.scalars += 1;
                }
            }
        }
    }
    let nodes = tally.containers + tally.scalars;
    if nodes > MAX_NODES {
        return Err(format!("more than {MAX_NODES} values ({nodes}; the json decoding budget)"));
    }
    let estimate = tally.estimate(bytes.len());
    let allowed = MEMORY_FACTOR * bytes.len() as u64 + MEMORY_SLACK;
    if estimate > allowed {
        return Err(format!(
            "{} arrays and objects and {} values in {} bytes would take about {} MB once parsed, \
             more than {MEMORY_FACTOR}× the input (the json decoding budget)",
            tally.containers,
            tally.scalars,
            bytes.len(),
            estimate / (1024 * 1024)
        ));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worst shapes of [`WITHIN_ANY_SHAPE`] bytes pass the full check,
    /// so [`admit`] skipping it for them changes no answer.
    #[test]
    fn inputs_within_any_shape_pass_the_full_check() {
        let n = WITHIN_ANY_SHAPE;
        let pairs = "[]".repeat(n / 2);
        let scalars = "1".repeat(n);
        let listed = format!("[{}]", "[],".repeat((n - 2) / 3));
        for doc in [&pairs, &scalars, &listed] {
            assert!(doc.len() <= n);
            let tally = check_size(doc.as_bytes()).expect("within the budget");
            assert!(tally.estimate(doc.len()) <= MEMORY_FACTOR * doc.len() as u64 + MEMORY_SLACK);
        }
        // Just past it, the full check runs and still refuses what it should.
        let deep = format!("{}{}", "[".repeat(n + 1), "]".repeat(n + 1));
        assert!(admit(deep.as_bytes()).is_err());
    }

    #[test]
    fn ordinary_documents_pass_and_deep_or_dense_nesting_does_not() {
        let records: String = format!(
            "[{}]",
            (0..50_000).map(|i| format!(r#"{{"id":{i},"name":"n{i}"}}"#)).collect::<Vec<_>>().join(",")
        );
        let t = check(records.as_bytes()).expect("records pass");
        assert_eq!((t.depth, t.containers, t.scalars), (2, 50_001, 200_000));
        let numbers = format!("[{}]", vec!["1"; 1_000_000].join(","));
        check(numbers.as_bytes()).expect("a dense array of numbers passes");
        let too_deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(check(too_deep.as_bytes()).expect_err("too deep").contains("128 levels"));
        let nest = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let many = format!("[{}]", vec![nest.as_str(); 100_000].join(","));
        assert!(check(many.as_bytes()).expect_err("dense nesting").contains("once parsed"));
        // Brackets inside strings are text, not nesting.
        check(format!(r#"{{"a":"{}"}}"#, "[".repeat(1000)).as_bytes()).expect("strings are text");
    }
}
