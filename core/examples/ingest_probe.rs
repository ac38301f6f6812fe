//! Loads one spec the way the deck does (bytes → `Document`, then every
//! operation's input schema) and prints one JSON line: the file, its size,
//! the operation count, the load time and this process's peak RSS (`VmHWM`).
//!
//! `bench/ingest.sh` runs it once per file in a fresh process, so each peak
//! RSS belongs to one load only.
//!
//! Usage: `cargo run --release -p opdeck --example ingest_probe -- <spec> [service]`

use std::time::Instant;

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: ingest_probe <spec> [service]");
        return std::process::ExitCode::from(2);
    };
    let service = args.next().unwrap_or_else(|| "bench".into());
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let start = Instant::now();
    let doc = match opdeck::spec::load(&bytes, &service, &opdeck::spec::LoadOptions::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let loaded = start.elapsed();
    let schema_bytes: usize = doc.operations.iter().map(|o| o.input_schema().to_string().len()).sum();
    let total = start.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "file": path,
            "bytes": bytes.len(),
            "operations": doc.operations.len(),
            "load_ms": loaded.as_secs_f64() * 1000.0,
            "load_and_schemas_ms": total.as_secs_f64() * 1000.0,
            "input_schema_bytes": schema_bytes,
            "peak_rss_kb": peak_rss_kb(),
        })
    );
    std::process::ExitCode::SUCCESS
}
