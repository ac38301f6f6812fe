//! The engine: what runs a call. The [`Operation`] trait and the operations
//! that implement it (over HTTP, native functions, the `openapi.*` meta
//! operations), the [`Context`] a call runs in, the [`Registry`] that holds
//! them, the sources that fill it, and the [`Pager`] that walks lists.

mod context;
mod http;
mod meta;
mod native;
mod operation;
mod pager;
mod registry;
mod source;

pub use context::Context;
pub use http::{HttpOperation, Streamed};
pub use meta::{ADD_SOURCE, AddSource, MetaSource, PREVIEW_SPEC, PreviewSpec, add_document, meta_source};
pub use native::NativeOperation;
pub use operation::Operation;
pub use pager::{DEFAULT_MAX_ITEMS, DEFAULT_MAX_PAGES, PageLimits, Pager, Progress};
pub use registry::{Filter, Registry, ServiceInfo, Source, compare_versions, suggest};
pub use source::{
    FETCH_CONNECT_TIMEOUT, FETCH_TIMEOUT, OpenApiSource, fetch, fetch_within, load_input, load_input_blocking,
    load_options,
};
