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

/// The variables every part of a script sees, functions included, by name.
pub(crate) type Globals = std::sync::Arc<dyn Fn(&str) -> Option<Dynamic> + Send + Sync>;

/// What one value is counted as besides its strings' bytes.
const VALUE_COST: usize = 32;

/// What a value holds, nested values included.
#[derive(Debug, Default, Clone, Copy)]
struct Weight {
    bytes: usize,
    string_bytes: usize,
    array_items: usize,
    map_entries: usize,
    walked: usize,
}

impl Weight {
    fn add(&mut self, o: &Weight) {
        self.bytes += o.bytes;
        self.string_bytes += o.string_bytes;
        self.array_items += o.array_items;
        self.map_entries += o.map_entries;
        self.walked += o.walked;
    }
}

fn weigh(value: &Dynamic) -> Weight {
    let mut w = Weight { bytes: VALUE_COST, walked: 1, ..Weight::default() };
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        w.bytes += s.len();
        w.string_bytes += s.len();
    } else if let Some(b) = value.read_lock::<rhai::Blob>() {
        w.bytes += b.len();
        w.array_items += b.len();
    } else if let Some(a) = value.read_lock::<rhai::Array>() {
        w.array_items += a.len();
        for v in a.iter() {
            w.add(&weigh(v));
        }
    } else if let Some(m) = value.read_lock::<rhai::Map>() {
        w.map_entries += m.len();
        for (k, v) in m.iter() {
            w.bytes += k.len();
            w.add(&weigh(v));
        }
    }
    w
}

fn over(max: usize, n: usize, what: &str) -> Result<(), Box<rhai::EvalAltResult>> {
    if max > 0 && n > max {
        Err(rhai::EvalAltResult::ErrorDataTooLarge(what.to_owned(), rhai::Position::NONE).into())
    } else {
        Ok(())
    }
}

/// The built-ins that can make a large value in one call (`pad` of strings,
/// arrays and blobs), checked before they allocate, since Rhai's own checks
/// are off. They do what Rhai's do.
fn register_checked(engine: &mut rhai::Engine, limits: Limits) {
    use rhai::{Array, EvalAltResult, INT, ImmutableString};
    type R = Result<(), Box<EvalAltResult>>;
    let size = move |len: INT, max: usize, what: &str| -> Result<Option<usize>, Box<EvalAltResult>> {
        if len <= 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        over(max, len, what)?;
        Ok(Some(len))
    };
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, c: char| -> R {
        let Some(len) = size(len, limits.max_string_size, "Length of string")? else { return Ok(()) };
        let have = s.chars().count();
        if len > have {
            let p = s.make_mut();
            p.extend(std::iter::repeat_n(c, len - have));
        }
        over(limits.max_string_size, s.len(), "Length of string")
    });
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, padding: &str| -> R {
        let Some(len) = size(len, limits.max_string_size, "Length of string")? else { return Ok(()) };
        let mut have = s.chars().count();
        let step = padding.chars().count();
        if len <= have || step == 0 {
            return Ok(());
        }
        let p = s.make_mut();
        while have < len {
            if have + step <= len {
                p.push_str(padding);
                have += step;
            } else {
                p.extend(padding.chars().take(len - have));
                have = len;
            }
        }
        over(limits.max_string_size, s.len(), "Length of string")
    });
    engine.register_fn("pad", move |a: &mut Array, len: INT, item: Dynamic| -> R {
        let Some(len) = size(len, limits.max_array_size, "Size of array")? else { return Ok(()) };
        if len > a.len() {
            let w = weigh(&item);
            let extra = len - a.len();
            over(limits.max_string_size, w.string_bytes.saturating_mul(extra), "Length of string")?;
            over(limits.max_map_size, w.map_entries.saturating_mul(extra), "Size of object map")?;
            a.resize(len, item);
        }
        Ok(())
    });
    engine.register_fn("pad", move |b: &mut rhai::Blob, len: INT, value: INT| -> R {
        let Some(len) = size(len, limits.max_array_size, "Size of array/BLOB")? else { return Ok(()) };
        if len > b.len() {
            b.resize(len, (value & 0xff) as u8);
        }
        Ok(())
    });
    engine.register_fn("blob", move |len: INT| -> Result<rhai::Blob, Box<EvalAltResult>> {
        let len = size(len, limits.max_array_size, "Size of array/BLOB")?.unwrap_or(0);
        Ok(vec![0; len])
    });
    engine.register_fn("blob", move |len: INT, value: INT| -> Result<rhai::Blob, Box<EvalAltResult>> {
        let len = size(len, limits.max_array_size, "Size of array/BLOB")?.unwrap_or(0);
        Ok(vec![(value & 0xff) as u8; len])
    });
}

impl Limits {
    /// Puts the limits on `engine`, counting wall time from `start`.
    /// `globals` answers for a variable the scope does not have (the service
    /// variables, which functions see too): Rhai allows one variable hook,
    /// and the limits' watch is it.
    pub(crate) fn apply(&self, engine: &mut rhai::Engine, start: Instant, globals: Globals) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_depth)
            // Rhai's own size checks walk a whole value after every change
            // to it, so a loop of `push` was quadratic; they are off, and the
            // same limits are held here instead (see `watch`), in constant
            // time per access of a variable and amortised over the values.
            .set_max_string_size(0)
            .set_max_array_size(0)
            .set_max_map_size(0)
            // Rhai's defaults halve in debug builds; fixed here so a script parses alike in both.
            .set_max_expr_depths(64, 64);
        self.watch(engine, globals);
        register_checked(engine, *self);
        let wall = self.wall_time;
        engine.on_progress(move |ops| {
            // Reading the clock costs more than an operation; every 256th is enough.
            if ops % 256 == 0 && start.elapsed() > wall { Some(Dynamic::from(WALL_TIME_TOKEN)) } else { None }
        });
    }

    /// Holds the size limits and `max_memory` as variables are used: the
    /// variable read is checked at once (its length, in constant time), and
    /// every so many reads, more rarely the more the scope holds, the whole
    /// scope is weighed, nested values included.
    fn watch(&self, engine: &mut rhai::Engine, globals: Globals) {
        let limits = *self;
        let accesses = std::sync::atomic::AtomicUsize::new(0);
        let next = std::sync::atomic::AtomicUsize::new(0);
        #[allow(deprecated)] // "volatile", not deprecated (Rhai's own words)
        engine.on_var(move |name, _index, ctx| {
            use std::sync::atomic::Ordering::Relaxed;
            match ctx.scope().get(name) {
                Some(value) => limits.check_top(value)?,
                // A variable no scope holds: inside a `fn` the script's own
                // variables are out of sight, the services are not.
                None => {
                    if let Some(value) = globals(name) {
                        return Ok(Some(value));
                    }
                }
            }
            let n = accesses.fetch_add(1, Relaxed);
            if n < next.load(Relaxed) {
                return Ok(None);
            }
            let mut total = Weight::default();
            for (_, _, value) in ctx.scope().iter_raw() {
                let w = weigh(value);
                limits.check_weight(&w)?;
                total.add(&w);
            }
            next.store(n + 16 + total.walked / 4, Relaxed);
            if limits.max_memory > 0 && total.bytes > limits.max_memory {
                return Err(
                    rhai::EvalAltResult::ErrorTerminated(Dynamic::from(MEMORY_TOKEN), rhai::Position::NONE).into()
                );
            }
            Ok(None)
        });
    }

    /// The length of one value, in constant time.
    fn check_top(&self, value: &Dynamic) -> Result<(), Box<rhai::EvalAltResult>> {
        if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
            return over(self.max_string_size, s.len(), "Length of string");
        }
        if let Some(a) = value.read_lock::<rhai::Array>() {
            return over(self.max_array_size, a.len(), "Size of array");
        }
        if let Some(b) = value.read_lock::<rhai::Blob>() {
            return over(self.max_array_size, b.len(), "Size of array/BLOB");
        }
        if let Some(m) = value.read_lock::<rhai::Map>() {
            return over(self.max_map_size, m.len(), "Size of object map");
        }
        Ok(())
    }

    /// One value's nested totals, as Rhai counts them.
    fn check_weight(&self, w: &Weight) -> Result<(), Box<rhai::EvalAltResult>> {
        over(self.max_string_size, w.string_bytes, "Length of string")?;
        over(self.max_array_size, w.array_items, "Size of array")?;
        over(self.max_map_size, w.map_entries, "Size of object map")
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
