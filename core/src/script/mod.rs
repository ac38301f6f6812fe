//! Rhai automation: scripts that drive a [`Deck`](crate::Deck).
//!
//! Scripts are synchronous and sandboxed: they reach the deck's operations
//! and nothing else (no `import` of files, no processes, files only through
//! `read_json`/`read_csv` when the host allows it), inside [`Limits`] on
//! operations, call depth, data sizes and wall time. Each call blocks the
//! script's own thread on the shared tokio runtime, so [`Engine::run`] never
//! blocks an executor and [`Engine::run_async`] moves the script to a thread.
//!
//! # The script API
//!
//! [`FUNCTIONS`] is the reference, one entry per function (`opdeck help
//! script` prints [`reference`]); a test checks it against the functions
//! the engine registers. Examples:
//!
//! ```rhai
//! // Services read like their APIs: `<service>.<group>.<name>(input)`.
//! let users = wildduck.users.getUsers(#{ query: "ann" });
//! // The same call by id, for ids that are not identifiers or keywords.
//! let users = call("wildduck.users.getUsers", #{ query: "ann" });
//! let me = call("kitsu.auth.getAuthenticated");            // no input = #{}
//! let full = call_full("kitsu.projects.getProjects");      // #{status, headers, body}
//!
//! // Failures are catchable objects with the fields of Error::to_json.
//! try { call("seald.users.get", #{ id: "x" }) }
//! catch (e) { print(`${e.kind} ${e.status} ${e.operation}: ${e.message}`); e.body }
//!
//! let all = paginate("dracoon.users.requestUsers", #{}, #{ max_items: 500 });  // an array
//! for user in items("dracoon.users.requestUsers") { print(user.userName) }     // page by page
//!
//! // At most 8 in flight; bodies in input order; the first failure (by
//! // input order) is raised once all are done.
//! let bodies = parallel([["kitsu.projects.getProject", #{ project_id: a }],
//!                        ["kitsu.projects.getProject", #{ project_id: b }]], 8);
//! // Never raises: [#{ok: true, value}, #{ok: false, error: #{kind, status, ..}}].
//! let results = parallel_settled(calls, 8);
//!
//! services()                           // [#{name, operations, origin}]
//! ops("create user")                   // [#{id, alias, method, path, summary, deprecated}]
//! ops("users", #{ service: "wildduck", read_only: true })
//! describe("wildduck.users.getUsers")  // method, path, parameters, body, input schema, ...
//! wildduck.groups()                    // the group names of a service
//!
//! sleep(500)                           // milliseconds, counted against the wall time
//! env("HOME")                          // a string, or () when unset
//! args.email; args["dry-run"]; argv[0] // `key=value` and `--flag` words; the rest
//! dry_run                              // true under --dry-run: writes are printed, not sent
//! print("to stdout"); debug("to stderr"); log("warn", "to stderr")
//! read_json("people.json"); read_csv("people.csv")  // only with --allow-read
//! dracoon_filter(#{ type: ["eq", ["room", "folder"]] })   // "type:eq:room:folder"
//! dracoon_sort(["name", "-createdAt"])                    // "name:asc|createdAt:desc"
//! ```
//!
//! Service variables are named after the service with every character that
//! is not a letter or digit turned into `_`. They cost one small value each
//! at start; a service's group maps are built the first time the script
//! reads one of its groups. Functions (`fn`) see them too, through the
//! engine's variable hook, though Rhai functions see no other outer variable.
//! A name a group does not have (`wildduck.users.getUsr(#{})`) is an unknown
//! operation error with the registry's suggestions.
//!
//! # Errors
//!
//! An uncaught error ends the run with [`Error::Script`](crate::Error::Script)
//! whose message starts with `file:line:column`, and which keeps the failing
//! call's operation id and HTTP status; a limit ends it with
//! [`Error::Limit`](crate::Error::Limit) named like the [`Limits`] field.
//! Limits cannot be caught by `try`. What was printed before stays printed.
//!
//! # Large lists
//!
//! Rhai enforces the size limits by re-counting a value (nested arrays,
//! maps and strings included) after every change to it, so filling a list
//! with `push` in a loop costs time quadratic in its length (on a 2-core test
//! machine 1,000 `[id, input]` pairs take 7 ms, 3,000 take 64 ms; see the
//! `script` bench). Lists made in one step are counted once:
//! `calls.pad(1000, ["kitsu.persons.getPerson", #{}])`, `ids.map(|id| [op,
//! #{ id }])`, or the array a call or `paginate` returns. A
//! host that trusts its scripts can set the three size limits to 0 (no
//! limit), which makes `push` constant time again.
//!
//! # Embedding
//!
//! ```no_run
//! # fn demo(deck: opdeck::Deck) -> opdeck::Result<()> {
//! use opdeck::script::{Engine, Limits, ScriptArgs};
//! let mut engine = Engine::new(deck);
//! engine.set_limits(Limits { max_operations: 1_000_000, ..Limits::default() });
//! engine.register_fn("double", |x: i64| x * 2);
//! let value = engine.run_file("scripts/kitsu_report.rhai", &ScriptArgs::parse(["open=true"]))?;
//! # Ok(()) }
//! ```

mod api;
mod args;
mod convert;
mod dracoon;
mod engine;
mod errors;
mod files;
mod host;
mod limits;
mod reference;
mod services;

pub use api::Items;
pub use args::ScriptArgs;
pub use convert::{to_dynamic, to_value};
pub use engine::Engine;
pub use host::Sink;
pub use limits::Limits;
pub use reference::{FUNCTIONS, ScriptFunction, VARIABLES, text as reference};
pub use services::ServiceProxy;
