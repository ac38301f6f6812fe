//! [`SessionCache`]: where tokens obtained by login flows and OAuth2 grants
//! are kept beyond one deck, so that a loop of CLI runs logs in once.
//!
//! The deck's own [`Sessions`](super::Sessions) hold tokens for its life;
//! a cache is asked when a session is missing, and told when a new one was
//! obtained or a cached one failed. The default keeps nothing. The CLI
//! gives the deck a [`FileSessionCache`] (feature `config-file`): one file
//! per session in the user's cache directory, mode 0600.
//!
//! A cache entry is keyed by profile, service, base URL, flow and user name,
//! never by the password, and holds the token, the refresh token and when
//! the token expires; the password is never stored. An expired entry is not
//! used. The tokens are [`Secret`]s, so `Debug` and errors never show them.

use std::time::{Duration, SystemTime};

use super::Secret;

/// Which session an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SessionKey {
    /// The configuration profile (`default`).
    pub profile: String,
    /// The service.
    pub service: String,
    /// The base URL the token was obtained from.
    pub base_url: String,
    /// The flow within the service (`kitsu/login`, `dracoon/oauth2/oauth2`).
    pub flow: String,
    /// The user the token belongs to, when the flow has one.
    pub username: Option<String>,
}

/// A token as a cache keeps it.
#[derive(Debug, Clone)]
pub struct CachedSession {
    /// The access token (or session cookie value).
    pub access: Secret,
    /// The refresh token, when the server gave one.
    pub refresh: Option<Secret>,
    /// When to stop using `access`, when known.
    pub expires_at: Option<SystemTime>,
}

impl CachedSession {
    /// Whether the token may still be used.
    pub fn is_fresh(&self) -> bool {
        self.expires_at.is_none_or(|t| SystemTime::now() < t)
    }

    /// How long the token may still be used, when its expiry is known.
    pub fn remaining(&self) -> Option<Duration> {
        self.expires_at.map(|t| t.duration_since(SystemTime::now()).unwrap_or_default())
    }
}

/// Keeps sessions beyond one deck. Implementations must not fail loudly: a
/// cache that cannot read or write behaves as an empty one (the call then
/// logs in), since a cache is never the only way to a token.
pub trait SessionCache: Send + Sync + std::fmt::Debug {
    /// The session kept for `key`, if any. Expired ones may be returned;
    /// the caller checks [`CachedSession::is_fresh`].
    fn load(&self, key: &SessionKey) -> Option<CachedSession>;
    /// Keeps `session` for `key`, replacing what was there.
    fn store(&self, key: &SessionKey, session: &CachedSession);
    /// Forgets the session of `key` (its token was refused).
    fn remove(&self, key: &SessionKey);
    /// Forgets every session, or those of one service. Returns how many.
    fn clear(&self, service: Option<&str>) -> usize;
}

/// The default cache: keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSessionCache;

impl SessionCache for NoSessionCache {
    fn load(&self, _key: &SessionKey) -> Option<CachedSession> {
        None
    }
    fn store(&self, _key: &SessionKey, _session: &CachedSession) {}
    fn remove(&self, _key: &SessionKey) {}
    fn clear(&self, _service: Option<&str>) -> usize {
        0
    }
}

/// A cache in memory, shared by the decks that hold it (for hosts that build
/// many short-lived decks, and for tests).
#[derive(Debug, Default)]
pub struct MemorySessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<SessionKey, CachedSession>>,
}

impl MemorySessionCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<SessionKey, CachedSession>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SessionCache for MemorySessionCache {
    fn load(&self, key: &SessionKey) -> Option<CachedSession> {
        self.entries().get(key).cloned()
    }
    fn store(&self, key: &SessionKey, session: &CachedSession) {
        self.entries().insert(key.clone(), session.clone());
    }
    fn remove(&self, key: &SessionKey) {
        self.entries().remove(key);
    }
    fn clear(&self, service: Option<&str>) -> usize {
        let mut entries = self.entries();
        let before = entries.len();
        entries.retain(|k, _| service.is_some_and(|s| s != k.service));
        before - entries.len()
    }
}

#[cfg(feature = "config-file")]
pub use file::FileSessionCache;

#[cfg(feature = "config-file")]
mod file {
    //! One JSON file per session, named by a hash of its key, in a folder
    //! only the user can enter (0700), each file 0600 from the moment it
    //! exists: written to a temporary file created with that mode, then
    //! renamed over the old one, so a reader never sees half a file.

    use std::path::{Path, PathBuf};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Serialize};

    use super::{CachedSession, SessionCache, SessionKey};
    use crate::error::{Error, Result};
    use crate::model::Secret;

    /// The largest session file read; they are a few hundred bytes.
    const MAX_FILE: u64 = 64 * 1024;

    /// Sessions kept as files under one folder.
    #[derive(Debug, Clone)]
    pub struct FileSessionCache {
        dir: PathBuf,
    }

    #[derive(Serialize, Deserialize)]
    struct Stored {
        key: SessionKey,
        access: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh: Option<String>,
        /// Seconds since the Unix epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
    }

    impl FileSessionCache {
        /// The cache in the user's cache directory: `OPDECK_CACHE_DIR`, else
        /// `dirs::cache_dir()/opdeck` (`$XDG_CACHE_HOME/opdeck`), then
        /// `sessions/`.
        pub fn user() -> Result<FileSessionCache> {
            let base = match std::env::var_os("OPDECK_CACHE_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => dirs::cache_dir()
                    .ok_or_else(|| Error::config("no cache directory: set XDG_CACHE_HOME or OPDECK_CACHE_DIR"))?
                    .join("opdeck"),
            };
            Ok(FileSessionCache::at(base.join("sessions")))
        }

        /// A cache in `dir` (created on first store).
        pub fn at(dir: impl Into<PathBuf>) -> FileSessionCache {
            FileSessionCache { dir: dir.into() }
        }

        /// The folder the files live in.
        pub fn dir(&self) -> &Path {
            &self.dir
        }

        fn path(&self, key: &SessionKey) -> PathBuf {
            // The name says nothing about the key; the key is inside.
            let text = serde_json::to_string(key).unwrap_or_default();
            let hash =
                text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            self.dir.join(format!("{hash:016x}.json"))
        }

        fn read(path: &Path) -> Option<Stored> {
            let file = std::fs::File::open(path).ok()?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_FILE), &mut text).ok()?;
            serde_json::from_str(&text).ok()
        }

        fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
            create_private_dir(&self.dir)?;
            let mut builder = tempfile::Builder::new();
            builder.prefix(".session-").suffix(".tmp");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o600));
            }
            let mut tmp = builder.tempfile_in(&self.dir)?;
            std::io::Write::write_all(&mut tmp, bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(())
        }

        fn entries(&self) -> Vec<(PathBuf, Option<Stored>)> {
            let Ok(dir) = std::fs::read_dir(&self.dir) else { return Vec::new() };
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .map(|p| {
                    let stored = Self::read(&p);
                    (p, stored)
                })
                .collect()
        }
    }

    #[cfg(unix)]
    fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        // A folder that existed before keeps its owner's choice, unless others can enter it.
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn unix_seconds(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    impl SessionCache for FileSessionCache {
        fn load(&self, key: &SessionKey) -> Option<CachedSession> {
            let stored = Self::read(&self.path(key)).filter(|s| s.key == *key)?;
            Some(CachedSession {
                access: Secret::new(stored.access),
                refresh: stored.refresh.map(Secret::new),
                expires_at: stored.expires_at.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            })
        }

        fn store(&self, key: &SessionKey, session: &CachedSession) {
            let stored = Stored {
                key: key.clone(),
                access: session.access.expose().to_owned(),
                refresh: session.refresh.as_ref().map(|r| r.expose().to_owned()),
                expires_at: session.expires_at.map(unix_seconds),
            };
            let Ok(bytes) = serde_json::to_vec(&stored) else { return };
            // A cache that cannot write is an empty cache: the next run logs in.
            if let Err(e) = self.write(&self.path(key), &bytes) {
                tracing::debug!(dir = %self.dir.display(), error = %e, "session cache not written");
            }
        }

        fn remove(&self, key: &SessionKey) {
            let _ = std::fs::remove_file(self.path(key));
        }

        fn clear(&self, service: Option<&str>) -> usize {
            let mut removed = 0;
            for (path, stored) in self.entries() {
                let ours = match (service, &stored) {
                    (None, _) => true,
                    (Some(s), Some(stored)) => stored.key.service == s,
                    // An unreadable file cannot be told apart; only `logout` of all removes it.
                    (Some(_), None) => false,
                };
                if ours && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
            removed
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn key(service: &str) -> SessionKey {
            SessionKey {
                profile: "default".into(),
                service: service.into(),
                base_url: "http://127.0.0.1:1/api".into(),
                flow: format!("{service}/login"),
                username: Some("ann@example.com".into()),
            }
        }

        #[test]
        fn sessions_round_trip_with_mode_0600_and_clear_by_service() {
            let dir = tempfile::tempdir().expect("tempdir");
            let cache = FileSessionCache::at(dir.path().join("sessions"));
            let session = CachedSession {
                access: Secret::new("jwt-SECRET-1"),
                refresh: None,
                expires_at: Some(SystemTime::now() + Duration::from_secs(600)),
            };
            cache.store(&key("kitsu"), &session);
            cache.store(&key("seald"), &session);
            let back = cache.load(&key("kitsu")).expect("stored");
            assert_eq!(back.access.expose(), "jwt-SECRET-1");
            assert!(back.is_fresh());
            assert!(!format!("{cache:?} {back:?}").contains("SECRET"));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                for (path, _) in cache.entries() {
                    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
                    assert_eq!(mode, 0o600, "{}", path.display());
                }
                let mode = std::fs::metadata(cache.dir()).expect("meta").permissions().mode() & 0o777;
                assert_eq!(mode, 0o700);
            }
            // Another base URL is another session.
            assert!(cache.load(&SessionKey { base_url: "http://other".into(), ..key("kitsu") }).is_none());
            assert_eq!(cache.clear(Some("kitsu")), 1);
            assert!(cache.load(&key("kitsu")).is_none() && cache.load(&key("seald")).is_some());
            assert_eq!(cache.clear(None), 1);
            assert!(cache.entries().is_empty(), "no temporary files left");
        }

        #[test]
        fn a_damaged_file_is_an_empty_entry() {
            let dir = tempfile::tempdir().expect("tempdir");
            let cache = FileSessionCache::at(dir.path());
            std::fs::write(cache.path(&key("kitsu")), "{not json").expect("write");
            assert!(cache.load(&key("kitsu")).is_none());
        }
    }
}
