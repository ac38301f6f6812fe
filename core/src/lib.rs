//! # opdeck
//!
//! One deck for every operation of the services an administrator runs.
//!
//! Operations come from API descriptions (OpenAPI 3.0, 3.1, Swagger 2.0),
//! from the compiled catalogs of the built-in services, or from Rust code.
//! They all land in one [`Registry`] as `Arc<dyn Operation>`, named
//! `<service>.<group>.<name>`, and run through one [`Deck`]:
//!
//! ```text
//! spec ──► spec::load ──► OperationMeta ──► Registry ──► Operation::invoke
//!                                                          │ validate (schema)
//!                                                          │ build request (wire::request)
//!                                                          │ authorize (auth)
//!                                                          ▼
//!                                         Transport (reqwest, or the simulator)
//!                                                          │
//!                                                          ▼
//!                                        Output { status, headers, body }
//! ```
//!
//! Everything crosses the public API as `serde_json::Value`, every failure is
//! an [`Error`], and every entry point has a blocking twin that runs on one
//! shared tokio runtime, so bindings stay thin wrappers.
//!
//! Embedding starts at [`Deck::builder`]; `examples/host.rs` is a whole host.
//!
//! ## Cargo features
//!
//! All are additive and on by default; a host that turns them off
//! (`default-features = false`) compiles none of clap, indicatif, csv, rhai,
//! toml or dirs.
//!
//! - `catalogs`: the compiled catalogs of the five built-in services (about
//!   1.5 MB of data), [`Builtins`] and the catalog build.
//! - `simulator`: the offline simulator behind `mock` and `mock:` base URLs.
//! - `scripting`: Rhai scripts ([`script::Engine`]), with `read_json` and
//!   `read_csv`.
//! - `config-file`: `opdeck.toml` and `$XDG_CONFIG_HOME/opdeck/config.toml`
//!   ([`Config::load`] reads only the environment without it).
#![deny(missing_docs)]

// Layers, bottom-up; a module imports only from the layers below it.
// 0: errors and the runtime.
pub mod error;
pub mod runtime;
// 1: the model: plain data every layer shares.
pub mod model;
pub mod naming;
// 2: pure parts: spec parsing, schemas, configuration, service profiles, policies.
pub mod config;
pub mod policy;
pub mod schema;
pub mod services;
pub mod spec;
// 3: the wire: requests, responses, transports, retries.
pub mod wire;
// 4: credentials on requests, through a narrow seam (`auth::Host`).
pub mod auth;
// 5: the engine: operations, the call context, the registry, sources, pages.
pub mod engine;
// 6: the simulator and the built-in catalogs.
#[cfg(feature = "catalogs")]
pub mod catalog;
#[cfg(feature = "simulator")]
pub mod mock;
// 7: the one door.
pub mod deck;
// 8: scripting.
#[cfg(feature = "scripting")]
pub mod script;

pub use config::Config;
pub use deck::{Builtins, Deck, DeckBuilder, OpInfo, Streamed};
pub use engine::{Context, Filter, NativeOperation, Operation, PageLimits, Pager, Registry, ServiceInfo, Source};
pub use error::{Error, ErrorKind, Result, Violation};
pub use model::{Body, CallOptions, Head, Method, OperationMeta, Output, Secret};
pub use policy::{Action, Policy, Rule};
pub use services::Paging;
