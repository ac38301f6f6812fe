//! The `opdeck` binary driven as people and scripts drive it: the bytes it
//! sends to a loopback server, what it prints, and its exit code.
//!
//! `OPDECK_TEST_BIN` runs these tests against another build of the binary
//! (e.g. main's, to see which findings of issue 14 they catch).

// One loopback HTTP server and a runner with a private config.
mod common;
// Unknown flags are refused by every subcommand and nothing is sent.
mod flags;
// The input syntax: typed values, nesting, raw JSON, files, --input.
mod input;
// The server's reason on the error line, and one exit code per class.
mod errors;
// --output formats, --filter, non-JSON bodies, headers on listings, -v, completions.
mod output;
// Every command of the README marked runnable runs as written.
mod readme;
