//! `--mock-state FILE`: the simulator's records read from a file before a
//! run and written back after it, so a demo or a test starts from known data.

use std::path::Path;

use opdeck::{Deck, Error, Result};

/// Loads the records of `path` into the deck's simulator; a missing file is
/// an empty start (it is created at exit).
pub fn load(deck: &Deck, path: &Path) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let state: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!("{}: not JSON (line {}, column {}): {e}", path.display(), e.line(), e.column()))
    })?;
    deck.load_simulator_state(&state).map_err(|e| Error::usage(format!("{}: {e}", path.display())))
}

/// Writes the simulator's records to `path`, atomically: a temporary file
/// beside it, renamed into place.
pub fn save(deck: &Deck, path: &Path) -> Result<()> {
    let state = deck.simulator_state()?;
    let text = serde_json::to_string_pretty(&state).map_err(|e| Error::internal(format!("simulator state: {e}")))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
