//! A cold `opdeck ops` process listing all 1,413 built-in operations, beside
//! the start of `true` measured in the same run (target: ≤ 20 ms wall time).
//!
//! Run with `cargo bench -p opdeck --bench cold_ops`. Each figure is the
//! median of many runs, stdout to /dev/null, so it measures start-up, catalog
//! parsing and listing, not the terminal.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 40;

fn median(mut command: Command) -> Duration {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let status = command.status().expect("the command starts");
            assert!(status.success(), "{command:?} failed");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let opdeck = env!("CARGO_BIN_EXE_opdeck");
    let listed = Command::new(opdeck).arg("ops").output().expect("opdeck ops runs");
    let lines = String::from_utf8_lossy(&listed.stdout).lines().count();
    assert!(lines >= 1413, "opdeck ops listed {lines} lines");

    let baseline = median(Command::new("true"));
    let mut ops = Command::new(opdeck);
    ops.arg("ops");
    let ops = median(ops);
    let mut json = Command::new(opdeck);
    json.args(["ops", "--json"]);
    let json = median(json);
    let mut services = Command::new(opdeck);
    services.arg("services");
    let services = median(services);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("cold process, median of {RUNS} runs ({lines} operations listed):");
    println!("  true                 {:8.2} ms", ms(baseline));
    for (name, d) in [("opdeck ops", ops), ("opdeck ops --json", json), ("opdeck services", services)] {
        println!("  {name:<20} {:8.2} ms  ({:.1}x true; target 20 ms)", ms(d), ms(d) / ms(baseline));
    }
}
