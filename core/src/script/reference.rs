//! The script API as a table: what `opdeck help script` prints, one line per
//! function. A test below builds a Rhai engine with opdeck's registrations
//! and checks that every function registered is in the table with the
//! numbers of arguments it takes, and nothing else is: adding a function
//! without a line here fails the test.

/// One function a script can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptFunction {
    /// The name scripts call it by.
    pub name: &'static str,
    /// How it is called, optional arguments in brackets.
    pub signature: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The numbers of arguments it is registered with (overloads).
    pub arities: &'static [usize],
}

const fn f(
    name: &'static str,
    signature: &'static str,
    arities: &'static [usize],
    summary: &'static str,
) -> ScriptFunction {
    ScriptFunction { name, signature, summary, arities }
}

/// Every function of the script API, in the order the reference lists them.
pub const FUNCTIONS: &[ScriptFunction] = &[
    f("call", "call(id, [input])", &[1, 2], "runs operation `id` (input an object map, default #{}); its body"),
    f("call_full", "call_full(id, [input])", &[1, 2], "runs operation `id`; #{status, headers, body}"),
    f(
        "paginate",
        "paginate(id, [input], [limits])",
        &[1, 2, 3],
        "every item of every page, one array; limits #{max_pages, max_items}",
    ),
    f("items", "items(id, [input], [limits])", &[1, 2, 3], "the items page by page, for `for x in items(..)`"),
    f(
        "parallel",
        "parallel(calls, limit)",
        &[2],
        "calls [[id, input], ...], at most `limit` at once; bodies in order; the first failure raised",
    ),
    f(
        "parallel_settled",
        "parallel_settled(calls, limit)",
        &[2],
        "like parallel, never raises: [#{ok, value} or #{ok: false, error}]",
    ),
    f(
        "ops",
        "ops([query], [filter])",
        &[0, 1, 2],
        "operations ranked by the query; filter #{service, group, method, read_only, deprecated, since}",
    ),
    f("describe", "describe(id)", &[1], "an operation's method, path, parameters, body and input schema"),
    f("services", "services()", &[0], "[#{name, operations, origin}]"),
    f("groups", "<service>.groups()", &[1], "the group names of a service variable (`wildduck.groups()`)"),
    f("sleep", "sleep(ms)", &[1], "waits, counted against the wall time"),
    f("env", "env(name)", &[1], "an environment variable the host allows (--allow-env), or ()"),
    f("log", "log([level], message)", &[1, 2], "to stderr, with the level (info by default)"),
    f("read_json", "read_json(path)", &[1], "a JSON file's value, only with --allow-read"),
    f("read_csv", "read_csv(path)", &[1], "a CSV file as an array of maps by header, only with --allow-read"),
    f(
        "dracoon_filter",
        "dracoon_filter(terms)",
        &[1],
        "a DRACOON filter: #{type: [\"eq\", \"room\"]} → `type:eq:room`",
    ),
    f(
        "dracoon_sort",
        "dracoon_sort(fields)",
        &[1],
        "a DRACOON sort: [\"name\", \"-createdAt\"] → `name:asc|createdAt:desc`",
    ),
];

/// What every script also has, besides the functions.
pub const VARIABLES: &[(&str, &str)] = &[
    ("service.group.name(input)", "an operation by name (`wildduck.users.getUsers(#{})`), also inside `fn`"),
    ("args", "the `name=value` arguments, an object map"),
    ("argv", "the other arguments, an array"),
    ("dry_run", "true under --dry-run: writes are printed as plan lines, not sent"),
];

/// The reference `opdeck help script` prints: one line per function, then
/// the variables.
pub fn text() -> String {
    let width = FUNCTIONS.iter().map(|f| f.signature.len()).chain(VARIABLES.iter().map(|v| v.0.len())).max();
    let width = width.unwrap_or(0);
    debug_assert!(width < 40, "keep signatures short: the reference is read in a terminal");
    let mut out = String::from("Functions:\n");
    for f in FUNCTIONS {
        out.push_str(&format!("  {:width$}  {}\n", f.signature, f.summary));
    }
    out.push_str("\nVariables:\n");
    for (name, summary) in VARIABLES {
        out.push_str(&format!("  {name:width$}  {summary}\n"));
    }
    out.push_str("\nAlso Rhai's own: print, debug, try/catch, and the standard packages.\n");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;

    /// The (name, arity) pairs opdeck registers, as a script calls them.
    fn registered() -> BTreeSet<(String, usize)> {
        let deck = crate::Deck::empty(crate::Config::default()).expect("deck");
        let host = Arc::new(super::super::host::Host::for_tests(deck));
        let mut engine = rhai::Engine::new_raw();
        super::super::services::register(&mut engine);
        super::super::api::register(&mut engine, &host);
        engine
            .collect_fn_metadata(None, |info| Some((info.metadata.name.to_string(), info.metadata.num_params)), false)
            .into_iter()
            .filter_map(|(name, n)| match name.as_str() {
                // Service-style calls and the proxy's printing are plumbing, not API.
                super::super::services::OP_FN | "to_string" | "to_debug" => None,
                _ if name.starts_with("index$") => None,
                // Rhai's own `call(fn_ptr, ...)` shares the name: not ours to list.
                super::super::api::CALL_FN if n > 2 => None,
                super::super::api::CALL_FN => Some(("call".to_owned(), n)),
                _ => Some((name, n)),
            })
            .collect()
    }

    #[test]
    fn the_table_lists_exactly_the_registered_functions() {
        let listed: BTreeSet<(String, usize)> =
            FUNCTIONS.iter().flat_map(|f| f.arities.iter().map(|n| (f.name.to_owned(), *n))).collect();
        let registered = registered();
        assert!(registered.contains(&("paginate".to_owned(), 3)) && registered.len() > 20, "{registered:?}");
        let missing: Vec<_> = registered.difference(&listed).collect();
        let stale: Vec<_> = listed.difference(&registered).collect();
        assert!(missing.is_empty(), "registered but not in the reference: {missing:?}");
        assert!(stale.is_empty(), "in the reference but not registered: {stale:?}");
    }

    #[test]
    fn the_text_has_one_line_per_function() {
        let text = text();
        for f in FUNCTIONS {
            assert_eq!(text.lines().filter(|l| l.trim_start().starts_with(f.signature)).count(), 1, "{}", f.name);
        }
    }
}
