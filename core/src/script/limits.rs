//! The sandbox's limits and how they are put on a Rhai engine.
//!
//! Rhai counts operations, call depth and data sizes itself; wall time is
//! checked in its progress callback, and the remaining time also bounds every
//! call a script makes, so a script stuck waiting on a server ends too.

use std::time::{Duration, Instant};

use rhai::Dynamic;

/// What one script run may use. Every limit is named in the error that
/// reports it, by the name of its field here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations (roughly: expressions evaluated) per run.
    pub max_operations: u64,
    /// Nested function calls (recursion depth).
    pub max_call_depth: usize,
    /// Bytes in one string, and in all the strings nested in one value.
    pub max_string_size: usize,
    /// Items in one array, and in all the arrays nested in one value.
    pub max_array_size: usize,
    /// Entries in one object map, and in all the maps nested in one value
    /// (a list of 100,000 calls with one input map each counts 100,000).
    pub max_map_size: usize,
    /// Time from the start of the run until it is stopped, calls included.
    pub wall_time: Duration,
    /// Bytes that all the script's variables may hold together (strings,
    /// arrays and maps, nested values included; estimated), `0` for no limit.
    /// Checked as variables are used, so a value built by index assignment
    /// (`m[k] = s`, `a[i] = s`) or `+=` is counted like one built by `push`.
    pub max_memory: usize,
}

impl Default for Limits {
    /// Generous for automations that page through thousands of records,
    /// small enough that a runaway loop ends in seconds.
    fn default() -> Self {
        Limits {
            max_operations: 50_000_000,
            max_call_depth: 64,
            max_string_size: 16 * 1024 * 1024,
            max_array_size: 1_000_000,
            max_map_size: 100_000,
            wall_time: Duration::from_secs(3600),
            max_memory: 512 * 1024 * 1024,
        }
    }
}

/// The token the progress callback ends a run with when time runs out.
pub(crate) const WALL_TIME_TOKEN: &str = "opdeck:wall_time";

/// The token a run is ended with when its variables take more than `max_memory`.
pub(crate) const MEMORY_TOKEN: &str = "opdeck:max_memory";

/// What one value is counted as besides its strings' bytes.
const VALUE_COST: usize = 32;

/// The estimated bytes of `value` and the number of values walked.
fn weigh(value: &Dynamic) -> (usize, usize) {
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return (VALUE_COST + s.len(), 1);
    }
    if let Some(b) = value.read_lock::<rhai::Blob>() {
        return (VALUE_COST + b.len(), 1);
    }
    if let Some(a) = value.read_lock::<rhai::Array>() {
        return a.iter().map(weigh).fold((VALUE_COST, 1), |(b, n), (b2, n2)| (b + b2, n + n2));
    }
    if let Some(m) = value.read_lock::<rhai::Map>() {
        return m
            .iter()
            .map(|(k, v)| {
                let (b, n) = weigh(v);
                (b + k.len(), n)
            })
            .fold((VALUE_COST, 1), |(b, n), (b2, n2)| (b + b2, n + n2));
    }
    (VALUE_COST, 1)
}

impl Limits {
    /// Puts the limits on `engine`, counting wall time from `start`.
    pub(crate) fn apply(&self, engine: &mut rhai::Engine, start: Instant) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            // Rhai's defaults halve in debug builds; fixed here so a script parses alike in both.
            .set_max_expr_depths(64, 64);
        if self.max_memory > 0 {
            // The scope is weighed every so many variable accesses, more
            // rarely the more it holds, so the checks cost a fixed share of
            // the run however large the values grow.
            let max_memory = self.max_memory;
            let accesses = std::sync::atomic::AtomicUsize::new(0);
            let next = std::sync::atomic::AtomicUsize::new(0);
            #[allow(deprecated)] // "volatile", not deprecated (Rhai's own words)
            engine.on_var(move |_name, _index, ctx| {
                use std::sync::atomic::Ordering::Relaxed;
                let n = accesses.fetch_add(1, Relaxed);
                if n < next.load(Relaxed) {
                    return Ok(None);
                }
                let (mut bytes, mut walked) = (0usize, 0usize);
                for (_, _, value) in ctx.scope().iter_raw() {
                    let (b, w) = weigh(value);
                    bytes += b;
                    walked += w;
                    ctx.engine().ensure_data_size_within_limits(value)?;
                }
                next.store(n + 16 + walked / 4, Relaxed);
                if bytes > max_memory {
                    return Err(rhai::EvalAltResult::ErrorTerminated(
                        Dynamic::from(MEMORY_TOKEN),
                        rhai::Position::NONE,
                    )
                    .into());
                }
                Ok(None)
            });
        }
        let wall = self.wall_time;
        engine.on_progress(move |ops| {
            // Reading the clock costs more than an operation; every 256th is enough.
            if ops % 256 == 0 && start.elapsed() > wall { Some(Dynamic::from(WALL_TIME_TOKEN)) } else { None }
        });
    }

    /// The time left of the wall-time budget of a run started at `start`.
    pub(crate) fn remaining(&self, start: Instant) -> Duration {
        self.wall_time.saturating_sub(start.elapsed())
    }

    /// The `(limit, configured value)` pair a limit error reports.
    pub(crate) fn describe(&self, limit: &str) -> String {
        match limit {
            "max_operations" => self.max_operations.to_string(),
            "max_call_depth" => self.max_call_depth.to_string(),
            "max_string_size" => format!("{} bytes in one value, nested strings counted", self.max_string_size),
            "max_array_size" => format!("{} items in one value, nested arrays counted", self.max_array_size),
            "max_map_size" => format!("{} entries in one value, nested maps counted", self.max_map_size),
            "wall_time" => format!("{:?}", self.wall_time),
            "max_memory" => format!("{} bytes", self.max_memory),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_never_goes_negative() {
        let limits = Limits { wall_time: Duration::from_millis(1), ..Limits::default() };
        let start = Instant::now() - Duration::from_secs(5);
        assert_eq!(limits.remaining(start), Duration::ZERO);
        assert_eq!(limits.describe("max_array_size"), "1000000 items in one value, nested arrays counted");
    }
}
