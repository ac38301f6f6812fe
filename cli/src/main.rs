//! The `opdeck` command line: discovery, single calls, scripts, catalogs.
//!
//! It only parses arguments, calls the library and formats what comes back;
//! every behaviour lives in the `opdeck` crate so that Python, Lua and Rhai
//! get the same one.

mod args;
mod output;
mod store;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use opdeck::{CallOptions, Deck, Error, ErrorKind, Filter};
use serde_json::Value;

use args::{CatalogCommand, Cli, Command, SpecCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => fail(&err),
    }
}

/// Prints an error as JSON on stderr and picks the exit code: 1 when the
/// service or the network failed, 2 when the caller's input was wrong.
fn fail(err: &Error) -> ExitCode {
    eprintln!("{}", serde_json::to_string_pretty(&err.to_json()).unwrap_or_else(|_| err.to_string()));
    match err.kind() {
        ErrorKind::Usage | ErrorKind::Validation | ErrorKind::NotFound | ErrorKind::Config | ErrorKind::Spec => {
            ExitCode::from(2)
        }
        _ => ExitCode::from(1),
    }
}

/// The flags every subcommand shares.
#[derive(Debug, Clone, Copy)]
struct Global<'a> {
    profile: Option<&'a str>,
    read_only: bool,
}

fn deck(global: Global<'_>, mock: bool) -> opdeck::Result<Deck> {
    let deck = Deck::builder().load_config(global.profile).read_only(global.read_only).build()?;
    for (name, err) in crate::store::Store::user()?.load_into(&deck)? {
        eprintln!("opdeck: added source `{name}` was skipped: {err}");
    }
    Ok(if mock { deck.with_options(CallOptions { mock: true, ..CallOptions::default() }) } else { deck })
}

fn run(cli: Cli) -> opdeck::Result<ExitCode> {
    let profile = Global { profile: cli.profile.as_deref(), read_only: cli.read_only };
    match cli.command {
        Command::Services { json } => {
            let deck = deck(profile, false)?;
            output::services(&deck.registry().services(), json);
        }
        Command::Ops { query, service, group, method, deprecated, since, read_only, json } => {
            let deck = deck(profile, false)?;
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
            output::ops(&ops, json);
        }
        Command::Describe { id, json } => {
            let deck = deck(profile, false)?;
            let op = deck.registry().get(&id)?;
            output::describe(op.meta(), json);
        }
        Command::Spec(SpecCommand::Preview { spec }) => {
            let deck = deck(profile, false)?;
            let preview = deck.preview_spec_blocking(&spec)?;
            output::value(&preview, output::Format::Json)?;
        }
        Command::Spec(SpecCommand::Add { name, spec, base_url }) => {
            let deck = deck(profile, false)?;
            let added = crate::store::Store::user()?.add(&deck, &name, &spec, base_url.as_deref())?;
            eprintln!("added service `{name}` with {} operations", added.len());
        }
        Command::Spec(SpecCommand::Remove { name }) => {
            if !crate::store::Store::user()?.remove(&name)? {
                return Err(Error::UnknownService { service: name, suggestions: vec![] });
            }
            eprintln!("removed service `{name}`");
        }
        Command::Call(call) => return call_command(profile, call),
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

fn call_command(profile: Global<'_>, call: args::Call) -> opdeck::Result<ExitCode> {
    let deck = deck(profile, call.mock)?;
    let op = deck.registry().get(&call.id)?;
    let input = args::input(op.meta(), call.input.as_deref(), &call.params)?;
    let options = CallOptions {
        content_type: call.content_type.clone(),
        download_to: call.out.clone(),
        force_retry: call.force_retry,
        mock: call.mock,
        timeout: call.timeout,
    };
    let deck = deck.with_options(options);
    if call.dry_run {
        let request = deck.prepare(&call.id, &input)?;
        println!("{}", opdeck::wire::curl::render(&request));
        return Ok(ExitCode::SUCCESS);
    }
    if call.all {
        let limits = opdeck::engine::PageLimits { max_pages: call.max_pages, max_items: call.max_items };
        let items = output::paginate(&deck, &call.id, input, limits, std::io::stderr().is_terminal())?;
        output::value(&Value::Array(items), call.output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = deck.call_full_blocking(&call.id, input)?;
    if out.header(opdeck::mock::SIMULATED_HEADER).is_some() {
        eprintln!("opdeck: simulated response; nothing was sent to `{}`", op.meta().service);
    }
    match (call.output, out.body) {
        (output::Format::Raw, opdeck::Body::Bytes(bytes)) => output::raw(&bytes)?,
        (format, body) => output::value(&body.into_value(), format)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn run_command(profile: Global<'_>, run: args::Run) -> opdeck::Result<ExitCode> {
    let run = run.with_flags_from_args();
    let deck = deck(profile, run.mock)?;
    let deck = match run.timeout {
        Some(timeout) => deck.with_options(CallOptions { timeout: Some(timeout), ..deck.options().clone() }),
        None => deck,
    };
    if run.mock {
        eprintln!("opdeck: running on the simulator (--mock); nothing is sent to any service");
    }
    let mut engine = opdeck::script::Engine::new(deck);
    engine.allow_read(run.allow_read).allow_env(run.allow_env.iter().cloned()).dry_run(run.dry_run);
    engine.run_file(&run.script, &opdeck::script::ScriptArgs::parse(&run.args))?;
    Ok(ExitCode::SUCCESS)
}
