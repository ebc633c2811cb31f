//! Test support: a real SMTP server (mailin-embedded) on 127.0.0.1, fault injectors, a
//! certificate made at test time, MIME parsing and captured logs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mailin_embedded::response::{AUTH_OK, INVALID_CREDENTIALS, OK};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parse(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parsable message")
    }
}

/// What the server received, shared with its connection handlers.
#[derive(Clone, Default)]
pub struct Inbox {
    messages: Arc<Mutex<Vec<Received>>>,
    /// Answer every DATA with this code, when set (a refusing server).
    reject_with: Option<u16>,
    credentials: Option<(String, String)>,
    /// The AUTH PLAIN identities the server saw.
    pub logins: Arc<Mutex<Vec<String>>>,
}

impl Inbox {
    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// Waits (polling) until `n` messages arrived or `timeout` passed.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        while self.len() < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        self.messages()
    }
}

#[derive(Clone)]
struct Recorder {
    inbox: Inbox,
    current: Option<Received>,
}

impl Handler for Recorder {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        if let Some(code) = self.inbox.reject_with {
            return Response::custom(code, "Transaction failed (test server refuses)".to_owned());
        }
        self.current = Some(Received {
            from: from.to_owned(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(message) = self.current.take() {
            self.inbox.messages.lock().unwrap().push(message);
        }
        OK
    }

    fn auth_plain(
        &mut self,
        _authorization_id: &str,
        authentication_id: &str,
        password: &str,
    ) -> Response {
        self.check(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.check(username, password)
    }
}

impl Recorder {
    fn check(&self, user: &str, password: &str) -> Response {
        self.inbox.logins.lock().unwrap().push(user.to_owned());
        match &self.inbox.credentials {
            Some((u, p)) if u == user && p == password => AUTH_OK,
            _ => INVALID_CREDENTIALS,
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to a temporary directory.
pub struct TestCertificate {
    pub pem: String,
    pub cert_path: String,
    pub key_path: String,
    _dir: tempfile::TempDir,
}

pub fn certificate() -> TestCertificate {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a certificate");
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    let pem = certified.cert.pem();
    std::fs::write(&cert_path, &pem).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    TestCertificate {
        pem,
        cert_path: cert_path.to_string_lossy().into_owned(),
        key_path: key_path.to_string_lossy().into_owned(),
        _dir: dir,
    }
}

/// How the test SMTP server is set up.
#[derive(Default)]
pub struct ServerOptions<'a> {
    pub tls: Option<&'a TestCertificate>,
    pub credentials: Option<(&'a str, &'a str)>,
    pub reject_with: Option<u16>,
}

/// Starts mailin-embedded on `listener` (an ephemeral port on 127.0.0.1). It runs until
/// the test process ends: the crate has no shutdown.
pub fn start_smtp(listener: TcpListener, options: ServerOptions<'_>) -> Inbox {
    install_crypto_provider();
    let inbox = Inbox {
        reject_with: options.reject_with,
        credentials: options
            .credentials
            .map(|(u, p)| (u.to_owned(), p.to_owned())),
        ..Inbox::default()
    };
    let mut server = Server::new(Recorder {
        inbox: inbox.clone(),
        current: None,
    });
    server.with_name("localhost").with_num_threads(2);
    if let Some(cert) = options.tls {
        server
            .with_ssl(SslConfig::SelfSigned {
                cert_path: cert.cert_path.clone(),
                key_path: cert.key_path.clone(),
            })
            .expect("TLS set up");
    }
    if options.credentials.is_some() {
        server
            .with_auth(AuthMechanism::Plain)
            .with_auth(AuthMechanism::Login);
    }
    server.with_tcp_listener(listener);
    thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

/// A listener on an ephemeral port of 127.0.0.1.
pub fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Both mailin-embedded's rustls and lettre's are in the test build with two crypto
/// providers compiled in; rustls then needs a process default.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A fault injector: accepts connections and does what `behaviour` says with each, until
/// stopped. Stopping hands its listener back, still bound, for a working server.
pub struct Fault {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<TcpListener>>,
    pub addr: SocketAddr,
}

#[derive(Clone, Copy)]
pub enum Behaviour {
    /// Accept and never say anything.
    Stall,
    /// Accept and close the connection at once (a server that is down).
    Close,
    /// Speak SMTP up to DATA, read a little of the message, then close the connection.
    CloseMidData,
}

impl Fault {
    pub fn start(behaviour: Behaviour) -> Self {
        let (listener, addr) = listener();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut held = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        match behaviour {
                            Behaviour::Stall => held.push(stream),
                            Behaviour::Close => drop(stream),
                            Behaviour::CloseMidData => {
                                thread::spawn(move || close_mid_data(stream));
                            }
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
            listener.set_nonblocking(false).unwrap();
            listener
        });
        Self {
            stop,
            thread: Some(thread),
            addr,
        }
    }

    /// Stops the faults (closing the connections held) and returns the listener.
    pub fn stop(mut self) -> TcpListener {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("a fault is stopped once");
        thread.join().unwrap()
    }
}

fn close_mid_data(stream: TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let _ = writer.write_all(b"220 fault.test ESMTP\r\n");
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-fault.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("DATA") {
            let _ = writer.write_all(b"354 go ahead\r\n");
            // Read a few lines of the message, then hang up.
            for _ in 0..3 {
                line.clear();
                let _ = reader.read_line(&mut line);
            }
            return;
        } else {
            b"250 ok\r\n"
        };
        let _ = writer.write_all(reply);
    }
}

/// Logs written through `tracing` while the guard lives (on this thread and on mail
/// workers built while it lives).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits (polling) until the logs contain `needle` or `timeout` passed.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if text.contains(needle) || Instant::now() >= deadline {
                return text;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() -> (Logs, tracing::dispatcher::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(subscriber));
    (logs, guard)
}
