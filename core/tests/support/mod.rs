//! Test support: a hermetic HTTP/1.1 server on 127.0.0.1 that records the
//! bytes on the wire ([`server`]), and shortcuts to run hand-written
//! operations against it ([`call`]).
#![allow(dead_code)]

pub mod call;
pub mod server;

pub use call::{Harness, meta};
#[allow(unused_imports)]
pub use server::{Fault, RecordedRequest, Reply, TestServer};
