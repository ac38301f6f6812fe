//! The `opdeck` command line.

fn main() {}
