//! A real Sentry-compatible server for integration tests: Bugsink on 127.0.0.1, one fresh
//! instance (empty project, own port, own temporary directory) per [`SentryServer`].
//!
//! The server and Sentry's own event normalizer live in a Python environment that
//! `tests/servers/sentry/install.sh` makes (`.ci/run` calls it); the instance is driven by
//! `tests/servers/sentry/bugsink.py`. Without that environment [`SentryServer::start`] returns
//! `None` after saying so, and the test should return early, unless `SAFE_REPORT_REQUIRE_SENTRY=1`,
//! which turns the missing environment into a failure.
//!
//! Declare it from a test file with
//! `#[path = "support/sentry_server.rs"] mod sentry_server;`.
//!
//! What the instance is like:
//! - each event is digested inside its ingest request: when the HTTP answer arrives, the event
//!   is stored, or dropped;
//! - Bugsink validates strictly against Sentry's event schema: an invalid event is answered 200
//!   and then dropped; [`SentryServer::validation_errors`] lists those;
//! - with a quota of N, the project takes N events per 5 minutes, and the next are answered 429
//!   with `X-Sentry-Rate-Limits`; without one no quota is reached.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Makes a missing Python environment a failure instead of a skip.
pub const REQUIRE_VAR: &str = "SAFE_REPORT_REQUIRE_SENTRY";
/// Where the Python environment is; relative paths are taken from the repository root.
pub const VENV_VAR: &str = "SAFE_REPORT_SENTRY_VENV";
/// Keeps an instance's directory (SQLite databases, logs) after the test, for a look.
pub const KEEP_VAR: &str = "SAFE_REPORT_KEEP_SENTRY_DIR";

const INSTALL: &str = "tests/servers/sentry/install.sh";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scripts() -> PathBuf {
    repository().join("tests/servers/sentry")
}

/// The environment's Python, when install.sh has completed there.
pub fn python() -> Option<PathBuf> {
    let venv = std::env::var_os(VENV_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/sentry-venv"));
    let venv = repository().join(venv);
    let python = venv.join("bin/python");
    // install.sh writes the stamp once pip has installed everything.
    (python.exists() && venv.join(".safe-report-requirements").exists()).then_some(python)
}

/// The environment's Python; `None` (after saying why on stderr) when it is not installed and
/// `SAFE_REPORT_REQUIRE_SENTRY` is not `1`, a panic when it is.
pub fn python_or_skip() -> Option<PathBuf> {
    let found = python();
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but the Sentry test server is not installed: run {INSTALL}"
        );
        eprintln!(
            "skipped: the Sentry test server (Bugsink, sentry-relay) is not installed; \
             run {INSTALL} (as .ci/run does) to run this test"
        );
    }
    found
}

fn run(python: &Path, script: &str, args: &[&str], input: Option<&[u8]>) -> Output {
    let mut command = Command::new(python);
    command
        .arg(scripts().join(script))
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {script} with {}: {e}", python.display()));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_vec();
        // Written from a thread, so a large input cannot fill the pipe while the child waits
        // for us to read its output.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{script} {args:?}: {e}"))
}

fn stdout_of(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn unique_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "safe-report-sentry-{}-{}-{nanos:08x}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// One Bugsink instance; stopped, and its directory removed, when dropped.
pub struct SentryServer {
    python: PathBuf,
    dir: PathBuf,
    dsn: String,
    api: String,
    token: String,
    project: u64,
    port: u16,
    running: bool,
}

impl SentryServer {
    /// Starts a fresh instance; with `quota`, the project takes that many events per 5 minutes.
    /// `None` when the Python environment is not installed (see the module's docs).
    pub fn start(quota: Option<u32>) -> Option<SentryServer> {
        let python = python_or_skip()?;
        let dir = unique_dir();
        let dir_arg = dir.to_str().expect("a UTF-8 temporary directory");
        let quota = quota.map(|q| q.to_string());
        let mut args = vec!["start", "--dir", dir_arg];
        if let Some(quota) = &quota {
            args.extend(["--quota", quota.as_str()]);
        }
        let output = run(&python, "bugsink.py", &args, None);
        let mut server = SentryServer {
            python,
            dir,
            dsn: String::new(),
            api: String::new(),
            token: String::new(),
            project: 0,
            port: 0,
            running: true,
        };
        if !output.status.success() {
            server.running = false;
            panic!(
                "bugsink.py start failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        server.take_info(&String::from_utf8_lossy(&output.stdout));
        Some(server)
    }

    fn take_info(&mut self, stdout: &str) {
        let line = stdout.lines().last().unwrap_or_default();
        let info: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("bugsink.py printed {stdout:?}, not its JSON line: {e}"));
        let text = |key: &str| {
            info[key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in {line}"))
                .to_owned()
        };
        self.dsn = text("dsn");
        self.api = text("api");
        self.token = text("token");
        self.project = info["project"].as_u64().expect("project id");
        self.port = info["port"].as_u64().expect("port") as u16;
    }

    fn script(&self, args: &[&str]) -> String {
        let mut all = vec![args[0], "--dir", self.dir.to_str().expect("UTF-8 path")];
        all.extend(&args[1..]);
        let output = run(&self.python, "bugsink.py", &all, None);
        stdout_of(&output, &format!("bugsink.py {}", args[0]))
    }

    /// `http://<public key>@127.0.0.1:<port>/<project>`: what a Sentry client is configured with.
    pub fn dsn(&self) -> &str {
        &self.dsn
    }

    /// The server's base URL, `http://127.0.0.1:<port>` (its REST API is under `/api/canonical/0/`).
    pub fn api(&self) -> &str {
        &self.api
    }

    /// A full-access token for the REST API (`Authorization: Bearer <token>`).
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn project(&self) -> u64 {
        self.project
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The DSN's public key (`sentry_key`).
    pub fn public_key(&self) -> &str {
        let rest = self.dsn.split_once("://").map_or("", |(_, rest)| rest);
        rest.split_once('@').map_or("", |(key, _)| key)
    }

    /// The instance's directory: SQLite databases, `server.log`, `access.log`,
    /// `validation.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every stored event of the project in the order received: the event JSON as Bugsink
    /// keeps it (what was sent, `_meta` included), read back through the REST API.
    pub fn events(&self) -> Vec<Value> {
        self.script(&["events"])
            .lines()
            .map(|line| serde_json::from_str(line).expect("an event as JSON"))
            .collect()
    }

    /// The stored event with this `event_id` (32 hex digits), if there is one.
    pub fn event(&self, event_id: &str) -> Option<Value> {
        let dir = self.dir.to_str().expect("UTF-8 path");
        let args = ["event", "--dir", dir, "--event-id", event_id];
        let output = run(&self.python, "bugsink.py", &args, None);
        if output.status.code() == Some(1) {
            return None;
        }
        let text = stdout_of(&output, "bugsink.py event");
        Some(serde_json::from_str(&text).expect("an event as JSON"))
    }

    /// Polls until at least `n` events are stored, for at most `timeout`, and returns them all.
    /// Panics when they do not arrive in time, with what did arrive and the events the strict
    /// schema dropped.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            let events = self.events();
            if events.len() >= n {
                return events;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} of {n} events stored after {timeout:?}; dropped by validation: {:#?}\n\
                     server log (end):\n{}",
                    events.len(),
                    self.validation_errors(),
                    self.log_tail(3000)
                );
            }
            thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Events dropped at digest because they failed Bugsink's strict schema, one line each:
    /// `event <event_id>: <JSON path>: <what is wrong>`.
    pub fn validation_errors(&self) -> Vec<String> {
        self.script(&["errors"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The end of the server's log (gunicorn and Bugsink), at most `bytes` long.
    pub fn log_tail(&self, bytes: usize) -> String {
        let log = std::fs::read(self.dir.join("server.log")).unwrap_or_default();
        String::from_utf8_lossy(&log[log.len().saturating_sub(bytes)..]).into_owned()
    }

    /// Stops the server, as a crash would (its processes are killed); connections to its port
    /// are refused until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if self.running {
            self.script(&["stop"]);
            self.running = false;
        }
    }

    /// Starts the server again, stopping it first if it runs: the same port and DSN, the same
    /// stored events.
    pub fn restart(&mut self) {
        let stdout = self.script(&["restart"]);
        self.running = true;
        let port = self.port;
        self.take_info(&stdout);
        assert_eq!(self.port, port, "restarted on another port");
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// POSTs an envelope to the project's envelope endpoint with the DSN's key, as a Sentry
    /// client does (plain HTTP/1.1 over a `TcpStream`).
    pub fn post_envelope(&self, envelope: &[u8]) -> std::io::Result<HttpResponse> {
        let auth = format!(
            "Sentry sentry_version=7, sentry_client=safe-report-tests/0.1, sentry_key={}",
            self.public_key()
        );
        http_request(
            &self.addr(),
            "POST",
            &format!("/api/{}/envelope/", self.project),
            &[
                ("X-Sentry-Auth", auth.as_str()),
                ("Content-Type", "application/x-sentry-envelope"),
            ],
            envelope,
        )
    }
}

impl Drop for SentryServer {
    fn drop(&mut self) {
        let keep = std::env::var(KEEP_VAR).as_deref() == Ok("1");
        if thread::panicking() && !self.dsn.is_empty() {
            eprintln!(
                "Sentry test server in {} (set {KEEP_VAR}=1 to keep it), its log (end):\n{}",
                self.dir.display(),
                self.log_tail(4000)
            );
        }
        if self.running {
            let dir = self.dir.to_str().unwrap_or_default();
            let output = run(&self.python, "bugsink.py", &["stop", "--dir", dir], None);
            if !output.status.success() {
                eprintln!(
                    "bugsink.py stop failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
        if keep {
            eprintln!(
                "kept the Sentry test server's directory {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs `event` through Relay's store normalizer (what Sentry does on ingest): `Ok` when Relay
/// has nothing to say, else `Err` with its report (errors, `_meta` changes, dropped keys).
/// Panics when the Python environment is not installed: call it after
/// [`SentryServer::start`] or [`python_or_skip`] returned something.
pub fn normalize(event: &Value) -> Result<(), String> {
    let python = python().unwrap_or_else(|| {
        panic!("the Sentry test environment (sentry-relay) is not installed: run {INSTALL}")
    });
    let input = serde_json::to_vec(event).expect("serializable event");
    let output = run(&python, "relay_normalize.py", &[], Some(&input));
    let report = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(report),
        _ => panic!(
            "relay_normalize.py failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// An HTTP response as read off the socket.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`), with a 30 s timeout.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers in the response"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| invalid("headers not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| invalid("bad chunked body"))?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
