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
    /// Bytes in one string.
    pub max_string_size: usize,
    /// Items in one array.
    pub max_array_size: usize,
    /// Entries in one object map.
    pub max_map_size: usize,
    /// Time from the start of the run until it is stopped, calls included.
    pub wall_time: Duration,
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
        }
    }
}

/// The token the progress callback ends a run with when time runs out.
pub(crate) const WALL_TIME_TOKEN: &str = "opdeck:wall_time";

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
            "max_string_size" => format!("{} bytes", self.max_string_size),
            "max_array_size" => format!("{} items", self.max_array_size),
            "max_map_size" => format!("{} entries", self.max_map_size),
            "wall_time" => format!("{:?}", self.wall_time),
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
        assert_eq!(limits.describe("max_array_size"), "1000000 items");
    }
}
