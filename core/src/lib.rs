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
//!                                                          │ build request (http::request)
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
#![deny(missing_docs)]

pub mod auth;
#[cfg(feature = "catalogs")]
pub mod catalog;
pub mod config;
pub mod context;
pub mod deck;
pub mod error;
pub mod http;
#[cfg(feature = "simulator")]
pub mod mock;
pub mod naming;
pub mod native;
pub mod operation;
pub mod paginate;
pub mod policy;
pub mod registry;
pub mod runtime;
pub mod schema;
#[cfg(feature = "scripting")]
pub mod script;
pub mod services;
pub mod spec;

pub use config::Config;
pub use context::{CallOptions, Context};
pub use deck::{Builtins, Deck, DeckBuilder, OpInfo, Streamed};
pub use error::{Error, ErrorKind, Result, Violation};
pub use native::NativeOperation;
pub use operation::{Body, Method, Operation, OperationMeta, Output};
pub use paginate::{PageLimits, Pager, Paging};
pub use policy::{Action, Policy, Rule};
pub use registry::{Filter, Registry, ServiceInfo, Source};
