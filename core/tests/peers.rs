//! The external peers of the live tests (Prism mocks, the Zou server): where
//! they are, how to start them, what to do when they are missing, and a
//! transport that records every exchange so tests can assert on the wire.
//!
//! A missing peer fails the test under `CI` (a green run must mean the peer
//! was exercised) and only prints a notice on a developer machine.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use opdeck::Result;
use opdeck::model::Method;
use opdeck::wire::{Delivery, Pair, Request, Response, Transport};

/// Whether we run under CI, where a missing peer is a failure.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Reports a missing peer: panics under `CI`, else prints a loud notice.
/// The caller returns early afterwards.
pub fn unavailable(peer: &str, why: &str) {
    let message = format!("{peer} is not available: {why}");
    if ci() {
        panic!("{message} (CI is set, so live tests must run; see tests/peers/)");
    }
    eprintln!("\n!!!! SKIPPED: {message}\n!!!! start it with tests/peers/ (install.sh, zou.sh, prism.sh)\n");
}

/// The workspace root (`/work/main`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where tests/peers/install.sh puts Prism and the Zou virtualenv.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPDECK_PEERS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/opdeck-peers")
}

/// The Prism executable, when it is installed.
pub fn prism_bin() -> Option<PathBuf> {
    let bin = peers_dir().join("node_modules/.bin/prism");
    bin.is_file().then_some(bin)
}

/// A running `prism mock` for one spec.
#[derive(Debug)]
pub struct Prism {
    /// The name it was started under (for logs).
    pub name: String,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
    child: Mutex<Child>,
}

impl Prism {
    /// The base URL opdeck must use: Prism serves the spec's paths without
    /// the server URL's path prefix.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops Prism and its watchdog (their whole process group).
    pub fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = Command::new("kill").arg("-TERM").arg("--").arg(format!("-{}", child.id())).status();
    }
}

/// A port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The shell that runs one Prism and stops it when the test process ends,
/// so mocks never outlive the tests even when a test panics or a filter
/// leaves the fixture's other users unrun.
const WATCHDOG: &str = r#"
"$1" mock -h 127.0.0.1 -p "$2" "$3" </dev/null >"$5" 2>&1 &
p=$!
while kill -0 "$4" 2>/dev/null && kill -0 "$p" 2>/dev/null; do sleep 1; done
kill -TERM 0 2>/dev/null
"#;

/// Running mocks by name, or why one could not start.
pub type Prisms = HashMap<String, std::result::Result<Arc<Prism>, String>>;

/// Starts one Prism per `(name, spec)`, all at once, and waits for each to
/// answer. Each entry is the running mock or why it could not start.
pub fn start_prisms(bin: &Path, specs: &[(&str, PathBuf)]) -> Prisms {
    let logs = std::env::temp_dir().join(format!("opdeck-prism-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&logs);
    let mut started = Vec::new();
    let mut out = HashMap::new();
    for (name, spec) in specs {
        let log = logs.join(format!("{name}.log"));
        let spawned = free_port().and_then(|port| {
            Command::new("sh")
                .arg("-c")
                .arg(WATCHDOG)
                .arg("prism-watchdog")
                .arg(bin)
                .arg(port.to_string())
                .arg(spec)
                .arg(std::process::id().to_string())
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .map(|child| (port, child))
        });
        match spawned {
            Ok((port, child)) => {
                started.push(Prism { name: (*name).to_owned(), port, log, child: Mutex::new(child) });
            }
            Err(e) => {
                out.insert((*name).to_owned(), Err(format!("cannot start prism for {}: {e}", spec.display())));
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    for prism in started {
        let name = prism.name.clone();
        out.insert(name, wait_until_up(prism, deadline).map(Arc::new));
    }
    out
}

fn wait_until_up(prism: Prism, deadline: Instant) -> std::result::Result<Prism, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], prism.port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(prism);
        }
        let exited = prism.child.lock().unwrap_or_else(|e| e.into_inner()).try_wait().ok().flatten().is_some();
        if exited || Instant::now() > deadline {
            let mut log = String::new();
            let _ = std::fs::File::open(&prism.log).and_then(|mut f| f.read_to_string(&mut log));
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let what = if exited { "exited" } else { "did not answer in time" };
            prism.stop();
            return Err(format!(
                "prism `{}` {what} (log {}):\n{}",
                prism.name,
                prism.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Zou server's coordinates, from `eval "$(tests/peers/zou.sh env)"`.
#[derive(Clone)]
pub struct Zou {
    /// The base URL (`http://127.0.0.1:5099`).
    pub url: String,
    /// The admin's email.
    pub username: String,
    /// The admin's password.
    pub password: String,
    /// The key Zou signs its JWTs with (HS256).
    pub secret_key: String,
}

impl std::fmt::Debug for Zou {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zou").field("url", &self.url).field("username", &self.username).finish_non_exhaustive()
    }
}

/// The Zou server from the environment, when all four variables are set and
/// it answers on its health route.
pub fn zou() -> std::result::Result<Zou, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("{name} is unset"));
    let zou = Zou {
        url: var("OPDECK_KITSU_URL")?,
        username: var("OPDECK_KITSU_USERNAME")?,
        password: var("OPDECK_KITSU_PASSWORD")?,
        secret_key: var("OPDECK_KITSU_SECRET_KEY")?,
    };
    let url = url::Url::parse(&zou.url).map_err(|e| format!("OPDECK_KITSU_URL is not a url: {e}"))?;
    let addrs = url.socket_addrs(|| Some(80)).map_err(|e| format!("cannot resolve {url}: {e}"))?;
    let up = addrs.iter().any(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).is_ok());
    if !up {
        return Err(format!("nothing listens at {url}"));
    }
    Ok(zou)
}

/// One request and the head of its response, as a [`Recorder`] saw them.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request's operation id (or the auth layer's label for logins).
    pub operation: String,
    /// The method.
    pub method: Method,
    /// The URL path.
    pub path: String,
    /// The query string as sent, credentials redacted.
    pub query: String,
    /// The request headers, credentials marked sensitive (so Debug hides them).
    pub headers: Vec<Pair>,
    /// The response status; 0 when the transport failed.
    pub status: u16,
    /// The response headers.
    pub response_headers: http::HeaderMap,
}

impl Exchange {
    /// The request header `name`'s value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| &*p.value)
    }

    /// The response header `name`'s value.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A transport that records every exchange of the one it wraps, and can
/// replace a header of one later request (to play an expired credential).
pub struct Recorder {
    inner: Arc<dyn Transport>,
    log: Mutex<Vec<Exchange>>,
    tamper: Mutex<Option<(Method, String, Pair)>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.log.lock().map(|l| l.len()).unwrap_or(0);
        f.debug_struct("Recorder").field("inner", &self.inner).field("exchanges", &n).finish_non_exhaustive()
    }
}

impl Recorder {
    /// Records what `inner` sends and receives.
    pub fn new(inner: Arc<dyn Transport>) -> Arc<Recorder> {
        Arc::new(Recorder { inner, log: Mutex::new(Vec::new()), tamper: Mutex::new(None) })
    }

    /// Every exchange so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the exchanges recorded so far.
    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The last exchange of `operation`.
    pub fn last_of(&self, operation: &str) -> Option<Exchange> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().find(|x| x.operation == operation).cloned()
    }

    /// Replaces header `pair.name` of the next `method path` request with
    /// `pair`, once.
    pub fn tamper_next(&self, method: Method, path: &str, pair: Pair) {
        *self.tamper.lock().unwrap_or_else(|e| e.into_inner()) = Some((method, path.to_owned(), pair));
    }
}

#[async_trait]
impl Transport for Recorder {
    async fn send(&self, request: &Request, delivery: Delivery) -> Result<Response> {
        let armed = {
            let mut tamper = self.tamper.lock().unwrap_or_else(|e| e.into_inner());
            let hit = tamper.as_ref().is_some_and(|(m, p, _)| *m == request.method && p == request.url.path());
            if hit { tamper.take().map(|(_, _, pair)| pair) } else { None }
        };
        let tampered;
        let request = match armed {
            Some(pair) => {
                let mut copy = request.clone();
                copy.set_header(pair);
                tampered = copy;
                &tampered
            }
            None => request,
        };
        let result = self.inner.send(request, delivery).await;
        let (status, response_headers) = match &result {
            Ok(r) => (r.status, r.headers.clone()),
            Err(_) => (0, http::HeaderMap::new()),
        };
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(Exchange {
            operation: request.operation.to_string(),
            method: request.method,
            path: request.url.path().to_owned(),
            query: request.redacted_query().into_owned(),
            headers: request.headers.clone(),
            status,
            response_headers,
        });
        result
    }
}
