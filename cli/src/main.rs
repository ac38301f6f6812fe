//! The `opdeck` command line: discovery, single calls, scripts, catalogs.
//!
//! It only parses arguments, calls the library and formats what comes back;
//! every behaviour lives in the `opdeck` crate so that Python, Lua and Rhai
//! get the same one.

mod args;
mod completions;
mod errors;
mod filter;
mod input;
mod output;
mod simulator;
mod store;
mod verbose;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use opdeck::{CallOptions, Deck, Error, Filter};
use serde_json::Value;

use args::{CatalogCommand, Cli, Command, SpecCommand};
use output::Format;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` print on stdout and exit 0; a bad flag or
        // argument is a usage error (exit 2) before anything is sent.
        Err(e) if e.use_stderr() && !std::io::stderr().is_terminal() => {
            return errors::fail(&errors::from_clap(&e), errors::Audience::Program);
        }
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(errors::code::USAGE) } else { ExitCode::SUCCESS };
        }
    };
    if cli.verbose {
        verbose::install();
    }
    let audience = errors::Audience::detect(cli.output == Some(Format::Json));
    match run(cli) {
        Ok(code) => code,
        Err(err) => errors::fail(&err, audience),
    }
}

/// The flags every subcommand shares.
#[derive(Debug, Clone, Copy)]
struct Global<'a> {
    profile: Option<&'a str>,
    read_only: bool,
}

fn deck(global: Global<'_>, sim: &args::SimulatorArgs) -> opdeck::Result<Deck> {
    let mut builder = Deck::builder().load_config(global.profile).read_only(global.read_only).mock(sim.on());
    // Tokens from logins are kept between runs (`opdeck logout` forgets them);
    // without a cache directory every run logs in.
    if let Ok(cache) = opdeck::auth::FileSessionCache::user() {
        builder = builder.session_cache(std::sync::Arc::new(cache));
    }
    if let Some(seed) = sim.mock_seed {
        builder = builder.mock_seed(seed);
    }
    let deck = builder.build()?;
    for (name, err) in crate::store::Store::user()?.load_into(&deck)? {
        eprintln!("opdeck: added source `{name}` was skipped: {err}");
    }
    if let Some(path) = &sim.mock_state {
        simulator::load(&deck, path)?;
    }
    Ok(deck)
}

/// Runs `command` on `deck`, then writes the simulator's records back to
/// `--mock-state`, whether the command succeeded or not (a failed script's
/// records are what a rerun starts from).
fn with_state<T>(
    deck: &Deck,
    sim: &args::SimulatorArgs,
    command: impl FnOnce() -> opdeck::Result<T>,
) -> opdeck::Result<T> {
    let result = command();
    if let Some(path) = &sim.mock_state {
        simulator::save(deck, path)?;
    }
    result
}

fn run(cli: Cli) -> opdeck::Result<ExitCode> {
    let profile = Global { profile: cli.profile.as_deref(), read_only: cli.read_only };
    let listing = |json: bool| if json { Some(Format::Json) } else { cli.output };
    match cli.command {
        Command::Services { json } => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            output::services(&deck.registry().services(), listing(json))?;
        }
        Command::Ops { query, service, group, method, deprecated, since, read_only, json } => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            if let Some(s) = &service {
                deck.registry().service(s)?;
            }
            let filter = Filter {
                service,
                group,
                deprecated: deprecated.then_some(true),
                method: method.as_deref().map(args::method).transpose()?,
                read_only,
                since,
            };
            let ops = deck.registry().search(&query.join(" "), &filter);
            output::ops(&ops, listing(json))?;
        }
        Command::Describe { id, json } => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            let op = deck.registry().get(&id)?;
            output::describe(op.meta(), listing(json))?;
        }
        Command::Spec(SpecCommand::Preview { spec }) => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            let preview = deck.preview_spec_blocking(&spec)?;
            output::value(&preview, cli.output.unwrap_or(Format::Json))?;
        }
        Command::Spec(SpecCommand::Add { name, spec, base_url }) => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            let added = crate::store::Store::user()?.add(&deck, &name, &spec, base_url.as_deref())?;
            eprintln!("added service `{name}` with {} operations", added.len());
            match deck.context().base_url(&name) {
                Ok(url) => eprintln!("calls go to {url}"),
                Err(_) => {
                    eprintln!("the spec names no server: give one with --base-url or set it in the configuration")
                }
            }
        }
        Command::Spec(SpecCommand::List { json }) => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            output::sources(&crate::store::Store::user()?.list(&deck)?, json)?;
        }
        Command::Spec(SpecCommand::Show { name }) => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            output::value(&crate::store::Store::user()?.show(&deck, &name)?, output::Format::Json)?;
        }
        Command::Spec(SpecCommand::Remove { name }) => {
            if !crate::store::Store::user()?.remove(&name)? {
                return Err(Error::UnknownService { service: name, suggestions: vec![] });
            }
            eprintln!("removed service `{name}`");
        }
        Command::Help { topic } => help(&topic)?,
        Command::Logout { service } => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            if let Some(s) = &service {
                deck.registry().service(s)?;
            }
            let n = deck.logout(service.as_deref());
            let which = service.map_or_else(|| "all services".to_owned(), |s| format!("`{s}`"));
            eprintln!("logged out of {which}: {n} cached session{} removed", if n == 1 { "" } else { "s" });
        }
        Command::Call(call) => return call_command(profile, call, cli.output.unwrap_or(Format::Json)),
        Command::Completions { shell } => {
            let deck = deck(profile, &args::SimulatorArgs::default())?;
            completions::print(shell, &deck)?;
        }
        Command::Run(run) => return run_command(profile, run),
        Command::Catalog(CatalogCommand::Build { specs, seeds, out, check }) => {
            let compiled = opdeck::catalog::build::compile_all(&specs, seeds.as_deref())?;
            if check {
                let stale = opdeck::catalog::build::stale(&compiled, &out)?;
                if !stale.is_empty() {
                    return Err(Error::usage(format!("catalogs out of date: {}", stale.join(", "))));
                }
            } else {
                opdeck::catalog::build::write_all(&compiled, &out)?;
            }
            for c in &compiled {
                eprintln!("{:<12} {:>4} operations", c.service, c.operations);
            }
        }
        Command::Catalog(CatalogCommand::Strip { specs, seeds, out }) => {
            for name in opdeck::catalog::strip::write_test_inputs(&specs, &seeds, &out)? {
                eprintln!("wrote {}", out.join(name).display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `opdeck help [topic]`: the script API from core's table, else clap's help
/// of the named subcommand.
fn help(topic: &[String]) -> opdeck::Result<()> {
    if topic.len() == 1 && topic[0] == "script" {
        print!("{}", opdeck::script::reference());
        return Ok(());
    }
    let mut command = <Cli as clap::CommandFactory>::command();
    // Built, each subcommand knows its full name (`opdeck spec add`).
    command.build();
    let mut at = &mut command;
    for word in topic {
        let known: Vec<String> = at.get_subcommands().map(|c| c.get_name().to_owned()).collect();
        match at.find_subcommand_mut(word) {
            Some(sub) => at = sub,
            None => {
                let mut suggestions = opdeck::engine::suggest(word, known.iter().map(String::as_str));
                if !suggestions.contains(&"script".to_owned()) && topic.len() == 1 {
                    suggestions.extend(opdeck::engine::suggest(word, ["script"].into_iter()));
                }
                return Err(Error::usage(format!(
                    "no help topic `{}`{}",
                    topic.join(" "),
                    suggestions.first().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
                )));
            }
        }
    }
    // A closed pipe (`opdeck help | head`) is not an error worth reporting.
    let _ = at.print_long_help();
    Ok(())
}

fn call_command(profile: Global<'_>, call: args::Call, format: Format) -> opdeck::Result<ExitCode> {
    // A bad expression costs no request.
    let filter = call.filter.as_deref().map(filter::Filter::new).transpose()?;
    let deck = deck(profile, &call.sim)?;
    let op = deck.registry().get(&call.id)?;
    let input = input::build(op.meta(), call.content_type.as_deref(), call.input.as_deref(), &call.params)?;
    let options = CallOptions {
        content_type: call.content_type.clone(),
        download_to: call.out.clone(),
        force_retry: call.force_retry,
        mock: call.sim.on(),
        timeout: call.timeout,
        raw_json: false,
    };
    let deck = deck.with_options(options);
    with_state(&deck, &call.sim, || call_on(&deck, &call, op.as_ref(), input, format, filter.as_ref()))
}

fn call_on(
    deck: &Deck,
    call: &args::Call,
    op: &dyn opdeck::Operation,
    input: Value,
    format: Format,
    filter: Option<&filter::Filter>,
) -> opdeck::Result<ExitCode> {
    if call.dry_run {
        let service = &op.meta().service;
        if !deck.context().has_base_url(service) {
            let placeholder = opdeck::services::ServiceProfile::for_service(service).placeholder_base_url();
            eprintln!("opdeck: no base url for `{service}` is configured; the dry run shows it as {placeholder}");
        }
        let request = deck.prepare(&call.id, &input)?;
        println!("{}", opdeck::wire::curl::render(&request));
        return Ok(ExitCode::SUCCESS);
    }
    if call.all {
        let limits = opdeck::engine::PageLimits { max_pages: call.max_pages, max_items: call.max_items };
        let items = output::paginate(deck, &call.id, input, limits, std::io::stderr().is_terminal())?;
        output::body(opdeck::Body::Json(Value::Array(items)), format, filter)?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = deck.call_full_blocking(&call.id, input)?;
    if out.header(opdeck::mock::SIMULATED_HEADER).is_some() {
        eprintln!("opdeck: simulated response; nothing was sent to `{}`", op.meta().service);
    }
    let body = match (format, filter) {
        (Format::Table | Format::Csv, None) => list_items(deck, op.meta(), out.body),
        _ => out.body,
    };
    output::body(body, format, filter)?;
    Ok(ExitCode::SUCCESS)
}

/// A list answer's items, where the service's paging rule says they are
/// (WildDuck's `results`, DRACOON's `items`): a table or CSV of the answer
/// is one of them, a row an item, as `--all` prints them. Other answers
/// are left as they are.
fn list_items(deck: &Deck, meta: &opdeck::OperationMeta, body: opdeck::Body) -> opdeck::Body {
    match (deck.context().paging_of(meta), body) {
        (Some(rule), opdeck::Body::Json(mut value)) => match value.pointer_mut(rule.items()) {
            Some(items @ Value::Array(_)) => opdeck::Body::Json(items.take()),
            _ => opdeck::Body::Json(value),
        },
        (_, body) => body,
    }
}

fn run_command(profile: Global<'_>, run: args::Run) -> opdeck::Result<ExitCode> {
    let deck = deck(profile, &run.sim)?;
    let deck = match run.timeout {
        Some(timeout) => deck.with_options(CallOptions { timeout: Some(timeout), ..deck.options().clone() }),
        None => deck,
    };
    if run.sim.on() {
        eprintln!("opdeck: running on the simulator (--mock); nothing is sent to any service");
    }
    if run.script.extension().is_some_and(|e| e == "lua") {
        let (sim, lua_deck) = (run.sim.clone(), deck.clone());
        return with_state(&deck, &sim, || run_lua(profile, lua_deck, run));
    }
    let mut engine = opdeck::script::Engine::new(deck.clone());
    engine.allow_read(run.allow_read).allow_env(run.allow_env.iter().cloned()).dry_run(run.dry_run);
    if let Some(secs) = run.wall_time {
        let wall_time = std::time::Duration::from_secs(secs);
        engine.set_limits(opdeck::script::Limits { wall_time, ..opdeck::script::Limits::default() });
    }
    with_state(&deck, &run.sim, || {
        engine.run_file(&run.script, &opdeck::script::ScriptArgs::parse(run.script_words()))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `opdeck run x.lua`: the script in the embedded, sandboxed Lua, whose
/// `opdeck.new()` is this deck.
fn run_lua(global: Global<'_>, deck: Deck, run: args::Run) -> opdeck::Result<ExitCode> {
    let defaults = opdeck_lua::Defaults {
        profile: global.profile.map(str::to_owned),
        mock: run.sim.on(),
        read_only: global.read_only,
    };
    let mut runner = opdeck_lua::embed::Runner::new(Some(deck), defaults);
    runner.access = opdeck_lua::embed::Access { read: run.allow_read, env: run.allow_env.clone() };
    runner.dry_run = run.dry_run;
    if let Some(bytes) = run.max_memory {
        runner.limits.max_memory = bytes;
    }
    if let Some(n) = run.max_instructions {
        runner.limits.max_instructions = n;
    }
    if let Some(secs) = run.wall_time {
        runner.limits.wall_time = std::time::Duration::from_secs(secs);
    }
    runner.run_file(&run.script, &run.script_words())?;
    Ok(ExitCode::SUCCESS)
}
