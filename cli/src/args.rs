//! Command-line arguments and how they become an operation's input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use opdeck::{Error, Method, Result};

use crate::output::Format;

/// The exit codes, as `opdeck --help` lists them.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  anything else (a local file, a script, a limit, an undecodable answer, opdeck itself)
  2  usage or validation: a bad flag or argument, an input the schema refuses, configuration
  3  unknown operation or service
  4  authentication: missing or rejected credentials, a failed login
  5  the server answered with an HTTP 4xx status
  6  the server answered with an HTTP 5xx status (or another non-2xx status)
  7  network or timeout: nothing answered in time
  8  refused by policy (--read-only, the profile's policy rules)";

/// The input syntax, as `opdeck call --help` shows it.
const CALL_SYNTAX: &str = "\
Input fields (as httpie and xh write them):
  name=value       a parameter, else a body property (`body.` may be written, and must be
                   for a property named like a parameter); typed by its schema:
                   a string stays a string (password=12345678), integers, numbers and
                   booleans are parsed (limit=10, active=true); an array comes from
                   repeating the name (tag=a tag=b) or from the schema's separator (ids=1,2
                   for `style: form, explode: false`)
  name:=json       raw JSON: body.tags:='[\"a\",\"b\"]'  body.quota:=1024  body.meta:='{\"k\":1}'
  body.a.b=x       nested objects: body.mailboxes.sent=Sent
  body.items[]=x   append to an array: body.items[]=a body.items[]=b
  name=@file       the text of a file as the value: body.content=@notes.txt
  name:=@file      the JSON of a file as the value
  name@file        a file upload: a multipart part (body.file@photo.png) or, as
                   `body@file`, the whole binary body
  --input TEXT     JSON or YAML text, @FILE or - (stdin). An object with a `body` key, or
                   whose keys are all parameter names, is the whole input; otherwise, when
                   the operation takes a body, the object is the body.

Examples:
  opdeck call wildduck.users.createUser username=ann password=12345678 --mock
  opdeck call wildduck.users.getUsers limit=20 -o table --filter '.results'
  opdeck call kitsu.projects.create --input project.yaml --dry-run --mock
  echo '{\"name\": \"Demo\"}' | opdeck call kitsu.projects.create --input - --mock";

/// One deck for every operation of your services.
#[derive(Debug, Parser)]
#[command(name = "opdeck", version, about, propagate_version = true, after_help = EXIT_CODES, disable_help_subcommand = true)]
pub struct Cli {
    /// The configuration profile to use (default: `OPDECK_PROFILE`, else `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Refuse every operation that changes state (the deck's read-only policy).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// How to print results: json, yaml, table, csv or raw (default: json for
    /// a call, a listing for `ops` and `services`). With json, errors are
    /// JSON objects on stderr even on a terminal.
    #[arg(short = 'o', long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Print each request's and response's headers on stderr (credentials
    /// redacted), from opdeck's tracing events.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the services on the deck with their operation counts.
    Services {
        /// Print JSON (the same as `--output json`).
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
        /// Print a JSON array (the same as `--output json`).
        #[arg(long)]
        json: bool,
    },
    /// Show an operation's method, path, parameters, body and input schema.
    Describe {
        /// The operation id or alias.
        #[arg(index = 1)]
        id: String,
        /// Print JSON (the same as `--output json`).
        #[arg(long)]
        json: bool,
    },
    /// Inspect or add API descriptions.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Call one operation.
    #[command(after_help = CALL_SYNTAX)]
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
    /// Print a completion script for bash, zsh or fish, operation ids included
    /// (e.g. `opdeck completions bash > ~/.local/share/bash-completion/completions/opdeck`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
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
    // Explicit indices: `opdeck completions` gives `id` its values afterwards.
    #[arg(index = 1)]
    pub id: String,
    /// The input as JSON or YAML text, `@FILE` (JSON or YAML), or `-` for
    /// stdin; a bare object is the body when its keys are not parameters
    /// (see below). Fields given as words are applied on top.
    #[arg(long, value_name = "TEXT|@FILE|-")]
    pub input: Option<String>,
    /// Input fields: `name=value`, `name:=json`, `name=@file`, `name@file`,
    /// `body.a.b=x`, `body.items[]=x` (see below).
    #[arg(index = 2, value_name = "FIELD")]
    pub params: Vec<String>,
    /// Apply a jq expression (jaq) to a JSON answer before printing it,
    /// e.g. `--filter '.[] | {id, name}'`.
    #[arg(long, value_name = "JQ")]
    pub filter: Option<String>,
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
    /// Arguments for the script: `name=value` words (in `args`) and other
    /// words (in `argv`); every word after `--` goes to the script as it is.
    /// opdeck's own flags may come before or after them; an unknown flag is
    /// an error, never an argument.
    #[arg(value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// The words after `--`, for the script as they are.
    #[arg(last = true, hide = true)]
    pub raw: Vec<String>,
}

impl Run {
    /// The script's words: the arguments, then `--` and the raw words, so
    /// that the script sees the raw ones as positional (`argv`).
    pub fn script_words(&self) -> Vec<String> {
        let mut words = self.args.clone();
        if !self.raw.is_empty() {
            words.push("--".to_owned());
            words.extend(self.raw.iter().cloned());
        }
        words
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
