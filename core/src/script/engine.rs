//! [`Engine`]: runs Rhai scripts against a [`Deck`].
//!
//! An `Engine` is configuration, cheap to clone. Each run builds a fresh
//! Rhai engine (the standard library is built once per process and shared),
//! so runs do not leak variables, limits or wall-time clocks into each other,
//! and a host's native functions are replayed onto every run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rhai::packages::{Package, StandardPackage};
use rhai::{Dynamic, Module, RhaiNativeFunc, Scope, Shared};
use serde_json::Value;

use super::args::ScriptArgs;
use super::host::{Host, Sink};
use super::limits::Limits;
use super::{api, convert, errors, services};
use crate::deck::Deck;
use crate::error::{Error, Result};

type Setup = Arc<dyn Fn(&mut rhai::Engine) + Send + Sync>;

/// Runs scripts against a deck, inside the configured [`Limits`].
#[derive(Clone)]
pub struct Engine {
    deck: Deck,
    limits: Limits,
    allow_read: bool,
    allow_env: Arc<[String]>,
    dry_run: bool,
    out: Sink,
    err: Sink,
    setup: Vec<Setup>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("limits", &self.limits)
            .field("allow_read", &self.allow_read)
            .field("dry_run", &self.dry_run)
            .field("native_functions", &self.setup.len())
            .finish_non_exhaustive()
    }
}

fn standard_package() -> Shared<Module> {
    static STD: OnceLock<Shared<Module>> = OnceLock::new();
    STD.get_or_init(|| StandardPackage::new().as_shared_module()).clone()
}

impl Engine {
    /// An engine over `deck` with default limits, printing to stdout and
    /// logging to stderr, with file reading off.
    pub fn new(deck: Deck) -> Self {
        Engine {
            deck,
            limits: Limits::default(),
            allow_read: false,
            allow_env: Arc::from([]),
            dry_run: false,
            out: Arc::new(|s: &str| println!("{s}")),
            err: Arc::new(|s: &str| eprintln!("{s}")),
            setup: Vec::new(),
        }
    }

    /// The deck scripts call.
    pub fn deck(&self) -> &Deck {
        &self.deck
    }

    /// Replaces the limits.
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Lets scripts read these environment variables with `env(name)` (the
    /// CLI's `--allow-env NAME`). Every other name is refused, so a script
    /// cannot read the tokens the deck itself was configured with.
    pub fn allow_env<I, S>(&mut self, names: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow_env = names.into_iter().map(Into::into).collect();
        self
    }

    /// Lets scripts use `read_json` and `read_csv` (the CLI's `--allow-read`).
    pub fn allow_read(&mut self, allow: bool) -> &mut Self {
        self.allow_read = allow;
        self
    }

    /// Dry run: operations that write (POST, PUT, PATCH, DELETE) are printed
    /// as a plan line, with secret-looking fields redacted, instead of sent;
    /// reads still run. Scripts see it as the constant `dry_run`.
    pub fn dry_run(&mut self, dry_run: bool) -> &mut Self {
        self.dry_run = dry_run;
        self
    }

    /// Where `print` and dry-run plan lines go (stdout by default).
    pub fn on_print(&mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> &mut Self {
        self.out = Arc::new(sink);
        self
    }

    /// Where `debug` and `log` go (stderr by default).
    pub fn on_log(&mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> &mut Self {
        self.err = Arc::new(sink);
        self
    }

    /// Adds a native function scripts can call, as Rhai's `register_fn`
    /// takes it. It must be `Clone` because every run gets its own copy.
    pub fn register_fn<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Clone + Send + Sync + 'static,
        const F: bool,
        Func,
    >(
        &mut self,
        name: &str,
        func: Func,
    ) -> &mut Self
    where
        Func: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + Clone + 'static,
    {
        let name = name.to_owned();
        self.setup.push(Arc::new(move |engine: &mut rhai::Engine| {
            engine.register_fn(name.as_str(), func.clone());
        }));
        self
    }

    /// Runs `configure` on the Rhai engine of every run, after opdeck's own
    /// functions, for hosts that need more than [`Engine::register_fn`]
    /// (custom types, operators).
    pub fn configure(&mut self, configure: impl Fn(&mut rhai::Engine) + Send + Sync + 'static) -> &mut Self {
        self.setup.push(Arc::new(configure));
        self
    }

    /// One proxy per service, shared by the scope and the variable hook.
    fn service_variables(&self) -> Arc<HashMap<String, Dynamic>> {
        Arc::new(services::proxies(self.deck.registry()).into_iter().map(|(var, p)| (var, Dynamic::from(p))).collect())
    }

    fn build(&self, host: &Arc<Host>, services: &Arc<HashMap<String, Dynamic>>) -> rhai::Engine {
        let mut engine = rhai::Engine::new_raw();
        engine.register_global_module(standard_package());
        // No `import` of files: a script reaches nothing but the deck.
        engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
        let globals = services.clone();
        self.limits.apply(&mut engine, host.start, Arc::new(move |name| globals.get(name).cloned()));
        // See `api::CALL_FN`: the token stream is the only place where the
        // script's `call` can be told apart from Rhai's built-in one.
        #[allow(deprecated)] // Rhai flags the token mapper as volatile, not as going away.
        engine.on_parse_token(|token, _, _| match token {
            rhai::Token::Reserved(name) | rhai::Token::Identifier(name) if name.as_str() == "call" => {
                rhai::Token::Identifier(Box::new(api::CALL_FN.into()))
            }
            other => other,
        });
        let out = self.out.clone();
        engine.on_print(move |s| out(s));
        let err = self.err.clone();
        engine.on_debug(move |s, source, pos| match (source, pos.line()) {
            (Some(src), Some(line)) => err(&format!("[debug] {src}:{line}: {s}")),
            _ => err(&format!("[debug] {s}")),
        });
        services::register(&mut engine);
        services::unknown_operations(&mut engine, host);
        api::register(&mut engine, host);
        for setup in &self.setup {
            setup(&mut engine);
        }
        engine
    }

    /// Checks that `source` compiles, without running it.
    pub fn check(&self, source: &str, name: &str) -> Result<()> {
        let host = self.host();
        self.build(&host, &self.service_variables()).compile(source).map(drop).map_err(|e| errors::from_parse(e, name))
    }

    fn host(&self) -> Arc<Host> {
        Arc::new(Host {
            deck: self.deck.clone(),
            limits: self.limits,
            start: Instant::now(),
            allow_read: self.allow_read,
            allow_env: self.allow_env.clone(),
            dry_run: self.dry_run,
            out: self.out.clone(),
            err: self.err.clone(),
        })
    }

    /// Runs `source`, named `name` in error messages (usually its file name),
    /// and returns the value of its last expression (or of `exit(value)`).
    ///
    /// Blocking: calls wait on the shared runtime, so this must not be called
    /// from inside an async task; use [`Engine::run_async`] there.
    pub fn run(&self, source: &str, name: &str, args: &ScriptArgs) -> Result<Value> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::usage("Engine::run was called inside an async runtime; use Engine::run_async"));
        }
        let host = self.host();
        let variables = self.service_variables();
        let engine = self.build(&host, &variables);
        let mut ast = engine.compile(source).map_err(|e| errors::from_parse(e, name))?;
        ast.set_source(name);
        let mut scope = Scope::new();
        scope.push_constant("args", args.map());
        scope.push_constant("argv", args.array());
        scope.push_constant("dry_run", self.dry_run);
        // Top-level code finds the services in its scope; functions, which
        // see no outer scope, through the variable hook (`Limits::apply`).
        for (var, proxy) in variables.iter() {
            scope.push(var.clone(), proxy.clone());
        }
        let result: Dynamic =
            engine.eval_ast_with_scope(&mut scope, &ast).map_err(|e| errors::from_eval(e, name, &self.limits))?;
        convert::to_value(&result, &format!("the result of {name}"))
    }

    /// Reads and runs the script at `path` (see [`Engine::run`]).
    pub fn run_file(&self, path: impl AsRef<Path>, args: &ScriptArgs) -> Result<Value> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        self.run(&source, &path.display().to_string(), args)
    }

    /// [`Engine::run`] for async hosts: the script runs on a thread of its
    /// own, because a synchronous script must not block an executor thread.
    pub async fn run_async(&self, source: String, name: String, args: ScriptArgs) -> Result<Value> {
        let engine = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("opdeck-script".into())
            .spawn(move || {
                let _ = tx.send(engine.run(&source, &name, &args));
            })
            .map_err(|e| Error::usage(format!("cannot start a thread for the script: {e}")))?;
        rx.await.map_err(|_| Error::usage("the script thread ended without a result"))?
    }

    /// [`Engine::run_file`] for async hosts (see [`Engine::run_async`]).
    pub async fn run_file_async(&self, path: impl AsRef<Path>, args: ScriptArgs) -> Result<Value> {
        let path = path.as_ref();
        let source = tokio::fs::read_to_string(path).await.map_err(|e| Error::io(path, e))?;
        self.run_async(source, path.display().to_string(), args).await
    }
}
