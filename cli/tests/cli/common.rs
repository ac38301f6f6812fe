use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the server answers: status, content type, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer { status, content_type: "application/json", body: body.to_string() }
    }
}

/// A loopback HTTP/1.1 server that answers every request with one answer
/// and keeps what it was sent.
pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start(answer: Answer) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, answer) = (log.clone(), answer.clone());
                std::thread::spawn(move || serve(stream, &log, &answer));
            }
        });
        Server { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn serve(stream: std::net::TcpStream, log: &Mutex<Vec<Seen>>, answer: &Answer) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let len: usize =
            headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        log.lock().expect("lock").push(Seen { method, target, headers, body });
        let reason = if answer.status < 400 { "OK" } else { "Error" };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nx-request-id: req-42\r\n\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(answer.body.as_bytes())).is_err() {
            return;
        }
    }
}

/// The binary under test.
pub fn bin() -> PathBuf {
    std::env::var_os("OPDECK_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_opdeck")))
}

/// A private place to run in: its own config, cache and working directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    /// Runs opdeck with `args` and extra environment, stdin empty, stdout
    /// and stderr piped.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_in(self.path(), args, env)
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.command(&bin(), cwd, args, env)
    }

    /// Runs `program` (a wrapper such as `script`) in the sandbox's environment.
    pub fn run_with(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.command(program, self.path(), args, env)
    }

    /// Runs opdeck with `stdin` as its standard input.
    pub fn run_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        let mut cmd = self.prepare(&bin(), self.path(), args, env);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("opdeck starts");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        Run(child.wait_with_output().expect("opdeck runs"))
    }

    fn command(&self, program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run(self.prepare(program, cwd, args, env).output().expect("the program runs"))
    }

    fn prepare(&self, program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(cwd).stdin(Stdio::null());
        for (k, _) in std::env::vars() {
            if k.starts_with("OPDECK_") || k == "NO_COLOR" || k.starts_with("CLICOLOR") {
                cmd.env_remove(k);
            }
        }
        cmd.env("OPDECK_CONFIG_DIR", self.path().join("config"))
            .env("XDG_CONFIG_HOME", self.path().join("xdg"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env("HOME", self.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }
}

/// A finished run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Asserts the exit code, showing both streams when it is wrong.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code(), code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
        self
    }
    /// The error object: the last stderr line, one line of JSON when piped.
    pub fn error(&self) -> serde_json::Value {
        let err = self.stderr();
        let line = err.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("the last stderr line is one JSON object ({e}):\n{err}"))
    }
}
