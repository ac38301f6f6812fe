//! Command-line arguments and how they become an operation's input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use opdeck::{Error, Method, OperationMeta, Result};
use serde_json::{Map, Value};

use crate::output::Format;

/// One deck for every operation of your services.
#[derive(Debug, Parser)]
#[command(name = "opdeck", version, about, propagate_version = true, disable_help_subcommand = true)]
pub struct Cli {
    /// The configuration profile to use (default: `OPDECK_PROFILE`, else `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Refuse every operation that changes state (the deck's read-only policy).
    #[arg(long, global = true)]
    pub read_only: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the services on the deck with their operation counts.
    Services {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List or search operations.
    Ops {
        /// Words to search for in ids, labels, paths and parameter names.
        query: Vec<String>,
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        /// Only this HTTP method.
        #[arg(long)]
        method: Option<String>,
        /// Only deprecated operations.
        #[arg(long)]
        deprecated: bool,
        /// Only operations introduced at or after this version (e.g. 4.30).
        #[arg(long)]
        since: Option<String>,
        /// Only operations that read (GET, HEAD, OPTIONS).
        #[arg(long)]
        read_only: bool,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Show an operation's method, path, parameters, body and input schema.
    Describe {
        /// The operation id or alias.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inspect or add API descriptions.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Call one operation.
    Call(Call),
    /// Run a Rhai script, or a Lua script (`.lua`) in the embedded Lua.
    Run(Run),
    /// Forget the tokens logins obtained (kept between runs in the cache directory): all, or one service's.
    Logout {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
    },
    /// Print help: of the CLI, of a subcommand, or `help script` for the script API.
    Help {
        /// `script`, or a subcommand (`call`, `spec add`, ...).
        topic: Vec<String>,
    },
    /// Build the built-in catalogs, and the test inputs, from their specs (for opdeck's developers).
    #[command(subcommand, hide = true)]
    Catalog(CatalogCommand),
}

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Summarize a spec (file, URL or text) without adding it.
    Preview {
        /// A file path, an http(s) URL, or the spec's text.
        spec: String,
    },
    /// Add every operation of a spec as service NAME; it stays on the deck.
    Add {
        /// The service name for the new operations.
        name: String,
        /// A file path or an http(s) URL.
        spec: String,
        /// The base URL calls go to (otherwise the one given before, else the spec's first server).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Remove a service added with `spec add`.
    Remove {
        /// The service name.
        name: String,
    },
    /// List the services added with `spec add`: name, base URL, operations, origin.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one added service: its base URL and where it comes from, its origin, its spec's summary.
    Show {
        /// The service name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Compile the five built-in catalogs.
    Build {
        /// The folder of specs: the stripped ones of tests/specs, or the originals.
        #[arg(long, default_value = "tests/specs")]
        specs: PathBuf,
        /// The folder of seeds, for DRACOON's version markers (default: the
        /// tools data file in the specs folder).
        #[arg(long)]
        seeds: Option<PathBuf>,
        /// Where the catalogs go.
        #[arg(long, default_value = "core/catalogs")]
        out: PathBuf,
        /// Only check that the committed catalogs are current.
        #[arg(long)]
        check: bool,
    },
    /// Write the test inputs of tests/specs (specs without prose, DRACOON's
    /// tools) from the original specs and seeds.
    Strip {
        /// The folder of original specs.
        #[arg(long, default_value = "../shared/specs")]
        specs: PathBuf,
        /// The folder of seeds.
        #[arg(long, default_value = "../shared/seeds")]
        seeds: PathBuf,
        /// Where the test inputs go.
        #[arg(long, default_value = "tests/specs")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct Call {
    /// The operation id or alias.
    pub id: String,
    /// Input as JSON, `@file.json`, or `-` for stdin.
    #[arg(long)]
    pub input: Option<String>,
    /// Input fields as `name=value` (`body.name=value` for body fields).
    pub params: Vec<String>,
    /// How to print the body.
    #[arg(long, value_enum, default_value = "json")]
    pub output: Format,
    /// Stream the response body into this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the request as a curl command (secrets redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Follow every page and print all items.
    #[arg(long)]
    pub all: bool,
    /// With --all: stop after this many pages. Without it at most 1000 are
    /// followed, and a service with more is an error that says so.
    #[arg(long)]
    pub max_pages: Option<u64>,
    /// With --all: stop after this many items (without it: at most 100000,
    /// an error past them).
    #[arg(long)]
    pub max_items: Option<u64>,
    /// The request content type, when the operation offers several.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Retry even if the method is not idempotent.
    #[arg(long)]
    pub force_retry: bool,
    /// The deadline of the whole call in seconds (every try, the waits
    /// between them, the body and a download); default: `OPDECK_TIMEOUT`,
    /// the config's `http.timeout`, or 60. With --all, each page's.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<std::time::Duration>,
    /// The simulator's flags.
    #[command(flatten)]
    pub sim: SimulatorArgs,
}

/// The built-in simulator: `--mock`, its starting state and its seed.
#[derive(Debug, Clone, Default, Args)]
pub struct SimulatorArgs {
    /// Answer from the built-in simulator instead of the network.
    #[arg(long)]
    pub mock: bool,
    /// Start the simulator from the records in FILE (JSON, `{service: {collection path: [records]}}`)
    /// and write them back there at exit; FILE is created when missing. Implies --mock.
    #[arg(long, value_name = "FILE")]
    pub mock_state: Option<PathBuf>,
    /// Seed the simulator's made-up values, for a repeatable run. Implies --mock.
    #[arg(long, value_name = "N")]
    pub mock_seed: Option<u64>,
}

impl SimulatorArgs {
    /// Whether the simulator answers.
    pub fn on(&self) -> bool {
        self.mock || self.mock_state.is_some() || self.mock_seed.is_some()
    }
}

#[derive(Debug, Args)]
pub struct Run {
    /// The script file.
    pub script: PathBuf,
    /// The simulator's flags.
    #[command(flatten)]
    pub sim: SimulatorArgs,
    /// Let the script read files (Rhai: `read_json`, `read_csv`; Lua: read-only `io`, `opdeck.read_json`, `require`).
    #[arg(long)]
    pub allow_read: bool,
    /// Let the script read this environment variable with `env(name)` (Lua: `os.getenv`); repeatable.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,
    /// Print what the script would change instead of changing it (reads still run).
    #[arg(long)]
    pub dry_run: bool,
    /// Lua: bytes the script may allocate (0: no limit; default 512 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<usize>,
    /// Lua: VM instructions the script may run (0: no limit; default 2,000,000,000).
    #[arg(long, value_name = "N")]
    pub max_instructions: Option<u64>,
    /// Seconds the script may run, calls included (default 3600).
    #[arg(long, value_name = "SECONDS")]
    pub wall_time: Option<u64>,

    /// The deadline of each call the script makes, in seconds (default:
    /// `OPDECK_TIMEOUT`, the config's `http.timeout`, or 60).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<std::time::Duration>,
    /// Arguments for the script: `key=value` pairs, flags and words.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

impl Run {
    /// opdeck's own flags may also follow the script
    /// (`opdeck run x.rhai --mock name=ann`); they are taken out of the
    /// script's arguments here.
    pub fn with_flags_from_args(mut self) -> Result<Self> {
        let mut rest = Vec::with_capacity(self.args.len());
        let mut args = std::mem::take(&mut self.args).into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--mock" => self.sim.mock = true,
                "--mock-state" => self.sim.mock_state = args.next().map(PathBuf::from),
                "--mock-seed" => {
                    let value = args.next().unwrap_or_default();
                    self.sim.mock_seed = Some(
                        value
                            .parse()
                            .map_err(|_| Error::usage(format!("--mock-seed takes a whole number, not `{value}`")))?,
                    );
                }
                "--allow-read" => self.allow_read = true,
                "--dry-run" => self.dry_run = true,
                "--allow-env" => self.allow_env.extend(args.next()),
                "--max-memory" | "--max-instructions" | "--wall-time" => {
                    let value = args.next().ok_or_else(|| Error::usage(format!("{arg} needs a value")))?;
                    self.limit(&arg, &value)?;
                }
                _ => match arg.split_once('=') {
                    Some(("--allow-env", name)) => self.allow_env.push(name.to_owned()),
                    Some((flag @ ("--max-memory" | "--max-instructions" | "--wall-time"), value)) => {
                        self.limit(flag, value)?
                    }
                    _ => rest.push(arg),
                },
            }
        }
        self.args = rest;
        Ok(self)
    }

    fn limit(&mut self, flag: &str, value: &str) -> Result<()> {
        let n: u64 = value.parse().map_err(|_| Error::usage(format!("{flag}: `{value}` is not a whole number")))?;
        match flag {
            "--max-memory" => self.max_memory = Some(usize::try_from(n).unwrap_or(usize::MAX)),
            "--max-instructions" => self.max_instructions = Some(n),
            _ => self.wall_time = Some(n),
        }
        Ok(())
    }
}

/// Parses a positive number of seconds (floats allowed).
pub fn seconds(text: &str) -> std::result::Result<std::time::Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}

/// Parses a method name.
pub fn method(name: &str) -> Result<Method> {
    Method::parse(name).ok_or_else(|| Error::usage(format!("unknown http method `{name}`")))
}

/// Builds an operation's input from `--input` and `name=value` pairs.
///
/// A value is taken as a string when the parameter's schema says string, and
/// parsed as JSON otherwise (falling back to a string), so `limit=10` is a
/// number and `name=10` stays text where the spec wants text.
pub fn input(meta: &OperationMeta, raw: Option<&str>, params: &[String]) -> Result<Value> {
    let mut input = match raw {
        None => Map::new(),
        Some(raw) => match parse_input(raw)? {
            Value::Object(map) => map,
            other => return Err(Error::usage(format!("--input must be a JSON object, not {other}"))),
        },
    };
    for pair in params {
        let (key, text) =
            pair.split_once('=').ok_or_else(|| Error::usage(format!("`{pair}` is not a `name=value` pair")))?;
        if let Some(field) = key.strip_prefix("body.").filter(|_| meta.parameter(key).is_none()) {
            let body = input.entry("body").or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(body) = body else {
                return Err(Error::usage("`body.` fields cannot be combined with a non-object body"));
            };
            body.insert(field.to_owned(), typed(None, text));
        } else {
            let schema = meta.parameter(key).map(|p| &p.schema);
            input.insert(key.to_owned(), typed(schema, text));
        }
    }
    Ok(Value::Object(input))
}

fn typed(schema: Option<&Value>, text: &str) -> Value {
    let wants_string = schema.and_then(|s| s.get("type")).is_some_and(|t| {
        t == "string" || t.as_array().is_some_and(|a| a.len() <= 2 && a.iter().any(|x| x == "string"))
    });
    if wants_string {
        return Value::String(text.to_owned());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn parse_input(raw: &str) -> Result<Value> {
    let text = if raw == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| Error::io("<stdin>", e))?
    } else if let Some(path) = raw.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?
    } else {
        raw.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| Error::usage(format!("--input is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::*;

    /// Issue 16, "fuzzing the parsers": the CLI's input syntax (`--input`
    /// JSON and `name=value` pairs) answers with an input or a usage error,
    /// never a panic; a pair's value is kept whole after the first `=`.
    #[test]
    fn fuzz_the_cli_input_syntax_never_panics() {
        let meta: OperationMeta = serde_json::from_value(serde_json::json!({
            "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op", "method": "GET", "path": "/",
            "parameters": [{"name": "name", "key": "name", "in": "query", "style": "form", "schema": {"type": "string"}},
                           {"name": "limit", "key": "limit", "in": "query", "style": "form", "schema": {"type": "integer"}}]
        }))
        .expect("meta");
        let cases = std::env::var("OPDECK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
        let mut runner = TestRunner::new_with_rng(
            Config { cases, failure_persistence: None, ..Config::default() },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let pair = prop_oneof!["(name|limit|body\\.[a-z]{1,4}|[a-z.]{0,6})=.{0,12}", ".{0,16}"];
        let raw = prop_oneof![Just(None), "\\{.{0,24}".prop_map(Some), ".{0,24}".prop_map(Some)];
        runner
            .run(&(raw, prop::collection::vec(pair, 0..5)), |(raw, pairs)| {
                // `-` and `@file` read stdin and files; the syntax is what is fuzzed here.
                let raw = raw.filter(|r| r != "-" && !r.starts_with('@'));
                match input(&meta, raw.as_deref(), &pairs) {
                    Ok(Value::Object(map)) => {
                        if raw.is_none()
                            && let Some(last) = pairs.iter().rev().find(|p| p.starts_with("name="))
                        {
                            prop_assert_eq!(&map["name"], &Value::String(last["name=".len()..].to_owned()));
                        }
                    }
                    Ok(other) => prop_assert!(false, "not an object: {other}"),
                    Err(e) => prop_assert_eq!(e.kind(), opdeck::ErrorKind::Usage, "{}", e),
                }
                Ok(())
            })
            .expect("the input syntax never panics");
    }
}
