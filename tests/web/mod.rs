//! Test support for the web layer: services on 127.0.0.1, a real HTTP client, the demo run
//! as its own process, emails read from what it prints.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;

/// Serves `app` on an ephemeral port of 127.0.0.1 (with the client address known).
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// An actix-web server on an ephemeral port of 127.0.0.1, on a thread of its own (one
/// worker); stopped when dropped.
#[cfg(feature = "actix")]
pub struct ActixServer {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

/// Serves the apps `factory` builds (one per worker) with actix-web.
#[cfg(feature = "actix")]
pub fn serve_actix<F, T, B>(factory: F) -> ActixServer
where
    F: Fn() -> actix_web::App<T> + Send + Clone + 'static,
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(factory)
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
            sender.send(server.handle()).unwrap();
            server.await.unwrap();
        });
    });
    let handle = receiver.recv_timeout(Duration::from_secs(60)).unwrap();
    ActixServer { addr, handle }
}

#[cfg(feature = "actix")]
impl Drop for ActixServer {
    fn drop(&mut self) {
        // The command is sent now; the server's thread ends once it has stopped.
        drop(self.handle.stop(false));
    }
}

/// An HTTP client for loopback addresses only (no proxy from the environment).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A response's status, content type and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

pub async fn get(addr: SocketAddr, path: &str, accept: Option<&str>) -> Answer {
    let mut request = client().get(format!("http://{addr}{path}"));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request.send().await.unwrap()).await
}

pub async fn post_form(addr: SocketAddr, path: &str, body: &str, accept: Option<&str>) -> Answer {
    let mut request = client()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request.send().await.unwrap()).await
}

/// One email as the console backend printed it.
#[derive(Debug, Clone)]
pub struct Printed {
    pub subject: String,
    pub to: Vec<String>,
    pub text: String,
    /// The HTML alternative, if any.
    pub html: String,
    pub raw: String,
}

/// Splits what the console backend printed into emails (each ends with 79 dashes).
pub fn parse_printed(output: &str) -> Vec<Printed> {
    let separator = format!("\n{}\n", "-".repeat(79));
    let mut emails = Vec::new();
    let mut rest = output;
    while let Some(end) = rest.find(&separator) {
        let block = &rest[..end];
        rest = &rest[end + separator.len()..];
        // The message starts at its first header line (the demo prints other lines too).
        let headers = [
            "From: ",
            "To: ",
            "Subject: ",
            "Date: ",
            "MIME-Version: ",
            "Message-ID: ",
            "Content-Type: ",
            "Auto-Submitted: ",
        ];
        let mut start = None;
        let mut at = 0;
        for line in block.split_inclusive('\n') {
            if headers.iter().any(|header| line.starts_with(header)) {
                start = Some(at);
                break;
            }
            at += line.len();
        }
        let Some(start) = start else { continue };
        let raw = &block[start..];
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("a MIME message");
        emails.push(Printed {
            subject: message.subject().unwrap_or_default().to_owned(),
            to: message
                .to()
                .map(|to| {
                    to.iter()
                        .filter_map(|addr| addr.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            text: message
                .body_text(0)
                .map(|text| text.replace("\r\n", "\n").trim_end().to_owned() + "\n")
                .unwrap_or_default(),
            html: message
                .parts
                .iter()
                .find(|part| mail_parser::MimeHeaders::is_content_type(*part, "text", "html"))
                .and_then(|part| part.text_contents())
                .unwrap_or_default()
                .to_owned(),
            raw: raw.to_owned(),
        });
    }
    emails
}

/// The demo, run as its own process (this test binary again, running the ignored test
/// `demo_process`, which calls the demo's `main`), with the environment given.
pub struct Demo {
    child: Child,
    pub addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
}

impl Demo {
    pub fn start(child_test: &str, vars: &[(&str, &str)]) -> Demo {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                child_test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SAFE_REPORT_DEMO_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for name in safe_report::mail::ENV_VARS {
            command.env_remove(name);
        }
        command.env_remove("SAFE_REPORT_DEBUG");
        for name in safe_report::render::editor::ENV_VARS.iter().chain(&[
            "SAFE_REPORT_SENTRY_DSN",
            "SAFE_REPORT_ENVIRONMENT",
            "SAFE_REPORT_RELEASE",
            "SAFE_REPORT_SERVER_NAME",
            "SAFE_REPORT_SENTRY_SEND_IP",
        ]) {
            command.env_remove(name);
        }
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let reader = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&stdout);
        thread::spawn(move || {
            for line in reader.split(b'\n') {
                let Ok(line) = line else { break };
                let mut out = sink.lock().unwrap();
                out.push_str(&String::from_utf8_lossy(&line));
                out.push('\n');
            }
        });
        let marker = "safe-report demo listening on http://";
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let printed = stdout.lock().unwrap().clone();
            if let Some(at) = printed.find(marker) {
                let rest = &printed[at + marker.len()..];
                let end = rest.find('/').unwrap();
                break rest[..end].parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "the demo did not start:\n{printed}"
            );
            thread::sleep(Duration::from_millis(20));
        };
        Demo {
            child,
            addr,
            stdout,
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until at least `n` emails were printed (at most 30 s), then returns them all.
    pub fn wait_for_emails(&self, n: usize) -> Vec<Printed> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let emails = parse_printed(&self.stdout());
            if emails.len() >= n || Instant::now() > deadline {
                return emails;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The emails printed after waiting `quiet` for more.
    pub fn emails_after(&self, quiet: Duration) -> Vec<Printed> {
        thread::sleep(quiet);
        parse_printed(&self.stdout())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
