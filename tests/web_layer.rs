//! The error-report layer through real HTTP on 127.0.0.1: the happy path left alone, bodies
//! buffered and handed on, bodies not buffered and why, hostile requests, sensitive headers,
//! users, plain 5xx responses, overrides, custom pages, and a plain hyper service.
#![cfg(feature = "axum")]

mod web;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{get, post};
use safe_report::integrations::tower::{ErrorReportLayer, ReportedError, RequestReport};
use safe_report::mail::{AdminNotifier, BrokenLinkReporter, MailConfig, Mailer, MemoryBackend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use web::{get as http_get, serve};

async fn echo(body: Bytes) -> Bytes {
    body
}

async fn read_then_panic(body: Bytes) -> &'static str {
    panic!("read {} bytes", body.len())
}

async fn panics() -> &'static str {
    panic!("the handler panicked")
}

fn routes() -> Router {
    Router::new()
        .route("/echo", post(echo))
        .route("/panic", get(panics).post(read_then_panic))
        .route(
            "/created",
            post(|| async { (StatusCode::CREATED, [("x-order", "ord_42")], "made") }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/new")]) }),
        )
        .route(
            "/bad",
            get(|| async { (StatusCode::BAD_REQUEST, "bad input") }),
        )
        .route(
            "/down",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "maintenance until 5") }),
        )
        .route(
            "/missing-order",
            get(|| async { (StatusCode::NOT_FOUND, r#"{"error":"no such order"}"#) }),
        )
        .route(
            "/gone",
            get(|| async { ReportedError::not_found("order ord_42 was deleted") }),
        )
}

fn debug_app() -> Router {
    routes().layer(ErrorReportLayer::new().debug(true))
}

struct Outbox {
    mailer: Mailer,
    memory: MemoryBackend,
}

impl Outbox {
    fn new() -> Self {
        let config = MailConfig::builder()
            .admins(["admin@example.com"])
            .managers(["web@example.com"])
            .build()
            .unwrap();
        let memory = MemoryBackend::new();
        let mailer = Mailer::builder(config)
            .backend(memory.clone())
            .build()
            .unwrap();
        Self { mailer, memory }
    }

    fn layer(&self) -> ErrorReportLayer {
        ErrorReportLayer::new()
            .notifier(AdminNotifier::new(self.mailer.clone()))
            .broken_links(BrokenLinkReporter::new(self.mailer.clone()))
    }

    fn emails(&self) -> Vec<safe_report::mail::Email> {
        assert!(self.mailer.flush(Duration::from_secs(10)));
        self.memory.messages()
    }
}

/// Sends `request` as raw bytes and reads the whole answer (the request must close).
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in bounded time")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A chunked body in chunks of `size` bytes.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn answer_body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[tokio::test]
async fn the_happy_path_is_left_alone() {
    let plain = serve(routes()).await;
    let layered = serve(routes().layer(Outbox::new().layer())).await;
    let client = web::client();
    for (method, path) in [
        ("POST", "/created"),
        ("GET", "/moved"),
        ("GET", "/bad"),
        ("GET", "/missing-order"),
        ("GET", "/down"),
    ] {
        let send = |addr: SocketAddr| {
            let request = client
                .request(method.parse().unwrap(), format!("http://{addr}{path}"))
                .body("a=1");
            async move { web::answer(request.send().await.unwrap()).await }
        };
        let (without, with) = (send(plain).await, send(layered).await);
        assert_eq!(without.status, with.status, "{path}");
        assert_eq!(without.body, with.body, "{path}");
        let mut headers_without = without.headers.clone();
        let mut headers_with = with.headers.clone();
        headers_without.remove("date");
        headers_with.remove("date");
        assert_eq!(headers_without, headers_with, "{path}");
    }
}

#[tokio::test]
async fn handlers_read_buffered_bodies_byte_for_byte() {
    let addr = serve(debug_app()).await;
    let client = web::client();
    let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n\
                     --XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
                     Content-Type: text/plain\r\n\r\nhaha\r\n--XyZ--\r\n";
    let bodies: [(&str, Vec<u8>); 4] = [
        (
            "application/x-www-form-urlencoded",
            b"user=alice&password=hunter2".to_vec(),
        ),
        (
            "application/json",
            br#"{"order": "ord_42", "token": "abc123def456"}"#.to_vec(),
        ),
        (
            "multipart/form-data; boundary=XyZ",
            multipart.as_bytes().to_vec(),
        ),
        ("application/json", vec![b'{', 0xff, 0xfe, b'}']),
    ];
    for (content_type, body) in bodies {
        let echoed = client
            .post(format!("http://{addr}/echo"))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(echoed.as_ref(), body.as_slice(), "{content_type}");
    }

    // Chunked, in many small chunks, within the bound.
    let form = format!("user=alice&note={}", "n".repeat(20_000));
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    request.extend(chunked(form.as_bytes(), 100));
    let answer = raw(addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(&form));

    // A panic after reading: the report shows the form the handler read.
    let page = web::post_form(
        addr,
        "/panic",
        "user=alice&password=hunter2",
        Some("text/plain"),
    )
    .await;
    assert_eq!(page.status, 500);
    assert!(
        page.body.starts_with("panic at /panic\nread 27 bytes"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("POST:\nuser = \"alice\"\npassword = \"********************\"")
    );
}

#[tokio::test]
async fn bodies_over_the_bound_are_handed_on_whole_and_the_report_says_so() {
    let addr = serve(routes().layer(ErrorReportLayer::new().debug(true).body_limit(1024))).await;
    let form = format!("user=alice&note={}", "n".repeat(5000));

    // Declared too large: never read by the layer.
    let echoed = web::client()
        .post(format!("http://{addr}/echo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed, form);
    let page = web::post_form(addr, "/panic", &form, Some("text/plain")).await;
    assert!(
        page.body
            .starts_with(&format!("panic at /panic\nread {} bytes", form.len()))
    );
    assert!(
        page.body.contains(&format!(
            "Body not shown: {} bytes of application/x-www-form-urlencoded: larger than the 1024 \
         bytes the error-report layer buffers",
            form.len()
        )),
        "{}",
        page.body
    );

    // Found too large while reading (chunked): the handler gets what was read and the rest.
    for path in ["/echo", "/panic"] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        request.extend(chunked(form.as_bytes(), 300));
        let answer = raw(addr, &request).await;
        if path == "/echo" {
            assert_eq!(answer_body(&answer), form);
        } else {
            assert!(
                answer.contains(&format!("read {} bytes", form.len())),
                "{answer}"
            );
            assert!(
                answer.contains(
                    "Body not shown: more than 1024 bytes of application/x-www-form-urlencoded"
                ),
                "{answer}"
            );
            assert!(!answer.contains("nnnnnnnnnn"));
        }
    }
}

#[tokio::test]
async fn other_body_types_are_handed_on_unread() {
    let addr = serve(debug_app()).await;
    let page = web::answer(
        web::client()
            .post(format!("http://{addr}/panic"))
            .header("content-type", "text/csv")
            .header("accept", "text/plain")
            .body("id,card\n1,4111111111111111\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.body.starts_with("panic at /panic\nread 27 bytes"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "Body not shown: 27 bytes of text/csv: the error-report layer buffers only form, \
         multipart and JSON bodies"
        ),
        "{}",
        page.body
    );
    assert!(!page.body.contains("4111111111111111"));
}

#[tokio::test]
async fn a_slow_body_is_handed_on_after_the_timeout() {
    let layer = ErrorReportLayer::new()
        .debug(true)
        .body_timeout(Some(Duration::from_millis(200)));
    let addr = serve(routes().layer(layer)).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /panic HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\n\
         Content-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(br#"{"order": "#).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(br#""ord_42"}"#).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut answer))
        .await
        .expect("an answer in bounded time")
        .unwrap();
    // The handler read all 19 bytes; the report says the layer stopped waiting.
    assert!(answer.contains("read 19 bytes"), "{answer}");
    assert!(
        answer.contains(
            "Body not shown: application/json: 10 bytes arrived in 200 ms, then the error-report \
         layer stopped waiting"
        ),
        "{answer}"
    );
}

#[tokio::test]
async fn hostile_requests_get_an_answer_without_a_panic_of_the_layer() {
    let addr = serve(debug_app()).await;
    let big = "v".repeat(60_000);
    let with_body = |head: &[u8], body: &[u8]| {
        let mut request = head.to_vec();
        request.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        request.extend_from_slice(body);
        request
    };
    let cases: Vec<Vec<u8>> = vec![
        // Bytes that are not UTF-8 in a header value.
        b"GET /panic HTTP/1.1\r\nHost: shop\r\nX-Raw: caf\xe9 \xff\r\nAccept: text/plain\r\nConnection: close\r\n\r\n".to_vec(),
        // A huge header value.
        format!("GET /panic HTTP/1.1\r\nHost: shop\r\nX-Big: {big}\r\nConnection: close\r\n\r\n").into_bytes(),
        // A hostile Host header.
        b"GET /panic HTTP/1.1\r\nHost: evil.com/<script>?x\r\nConnection: close\r\n\r\n".to_vec(),
        // A broken multipart body.
        with_body(
            b"POST /panic HTTP/1.1\r\nHost: shop\r\nContent-Type: multipart/form-data; boundary=B\r\n",
            b"--B\r\ngarbage\xff\xfe\r\n--",
        ),
        // Multipart without a boundary.
        with_body(b"POST /panic HTTP/1.1\r\nHost: shop\r\nContent-Type: multipart/form-data\r\n", b"abc"),
        // JSON that is not JSON, under a content type that is not UTF-8.
        with_body(b"POST /panic HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\xff\r\n", b"{{{"),
        with_body(b"POST /panic HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n", b"{\"a\": [1, 2"),
        // A broken Accept header and cookie header.
        b"GET /panic HTTP/1.1\r\nHost: shop\r\nAccept: ;;;q=x,*/*;q=\xff\r\nCookie: =;;a\r\nConnection: close\r\n\r\n".to_vec(),
        // A path with encoded bytes that are not UTF-8, and a broken query.
        b"GET /nothing/%ff%fe?%zz=%&&=x HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n".to_vec(),
    ];
    for request in cases {
        let started = Instant::now();
        let answer = raw(addr, &request).await;
        assert!(
            answer.starts_with("HTTP/1.1 500") || answer.starts_with("HTTP/1.1 404"),
            "{}: {answer:.300}",
            String::from_utf8_lossy(&request[..80.min(request.len())])
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!answer.contains("/<script>?"), "{answer}");
    }
    // Invalid bytes are shown escaped.
    let answer = raw(addr, b"GET /panic HTTP/1.1\r\nHost: shop\r\nX-Raw: caf\xe9\r\nAccept: text/plain\r\nConnection: close\r\n\r\n").await;
    assert!(answer.contains(r#"x-raw = "caf\xe9""#), "{answer}");
}

#[tokio::test]
async fn headers_marked_sensitive_are_hidden() {
    let app = debug_app().layer(tower::util::MapRequestLayer::new(|mut request: Request| {
        if let Some(value) = request.headers_mut().get_mut("x-shop-ticket") {
            value.set_sensitive(true);
        }
        request
    }));
    let addr = serve(app).await;
    let page = web::answer(
        web::client()
            .get(format!("http://{addr}/panic"))
            .header("x-shop-ticket", "opaque-ticket-value-77")
            .header("x-shop-region", "eu-west")
            .header("accept", "text/plain")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.body
            .contains("x-shop-ticket = \"********************\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("x-shop-region = \"eu-west\""));
    assert!(!page.body.contains("opaque-ticket-value-77"));
}

#[derive(Clone)]
struct CurrentUser(String);

impl std::fmt::Display for CurrentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[tokio::test]
async fn the_report_names_the_user_the_route_and_the_client() {
    let app = routes()
        .route(
            "/renamed",
            get(|report: RequestReport| async move {
                report.user("jacob (from the handler)");
                panic!("after naming the user");
                #[allow(unreachable_code)]
                ""
            }),
        )
        .layer(
            ErrorReportLayer::new()
                .debug(true)
                .user_extension::<CurrentUser>(),
        )
        .layer(tower::util::MapRequestLayer::new(|mut request: Request| {
            request.extensions_mut().insert(CurrentUser("jacob".into()));
            request
        }));
    let addr = serve(app).await;
    let page = http_get(addr, "/panic", Some("text/plain")).await;
    assert!(page.body.contains("USER: jacob\n"), "{}", page.body);
    assert!(page.body.contains("Raised during: /panic"));
    assert!(page.body.contains("REMOTE_ADDR = \"127.0.0.1\""));
    let page = http_get(addr, "/renamed", Some("text/plain")).await;
    assert!(
        page.body.contains("USER: jacob (from the handler)\n"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn other_server_errors_pass_through_and_mail_a_report_at_the_path() {
    let outbox = Outbox::new();
    let addr = serve(routes().layer(outbox.layer())).await;
    let page = http_get(addr, "/down", None).await;
    assert_eq!(page.status, 503);
    assert_eq!(page.body, "maintenance until 5");
    let emails = outbox.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0].subject(),
        "[safe-report] ERROR (EXTERNAL IP): Service Unavailable: /down"
    );
    assert!(
        emails[0]
            .text()
            .starts_with("Service Unavailable: /down\n\nReport at /down\n")
    );

    // A 4xx is no server error: nothing is mailed, nothing changed.
    let page = http_get(addr, "/bad", None).await;
    assert_eq!((page.status, page.body.as_str()), (400, "bad input"));
    assert_eq!(outbox.emails().len(), 1);
}

#[tokio::test]
async fn a_404_with_its_own_body_is_left_alone_and_a_reported_404_says_nothing_in_production() {
    let debug = serve(debug_app()).await;
    let page = http_get(debug, "/missing-order", None).await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (404, r#"{"error":"no such order"}"#)
    );
    let page = http_get(debug, "/gone", None).await;
    assert_eq!(page.status, 404);
    assert!(
        page.body
            .contains("<pre class=\"exception_value\">order ord_42 was deleted</pre>")
    );
    assert!(
        page.body
            .contains("<tr><th scope=\"row\">Raised by:</th><td>/gone</td></tr>")
    );

    let outbox = Outbox::new();
    let production = serve(routes().layer(outbox.layer())).await;
    let page = http_get(production, "/gone", None).await;
    assert_eq!(page.status, 404);
    assert_eq!(page.body, include_str!("../templates/404.html"));
    assert!(!page.body.contains("ord_42"));
    assert!(
        outbox.emails().is_empty(),
        "no referer: no broken-link email"
    );
}

#[tokio::test]
async fn production_pages_can_be_replaced() {
    let layer = ErrorReportLayer::new()
        .server_error_page("<h1>Sorry, the shop broke.</h1>")
        .not_found_page("<h1>No such page.</h1>");
    let addr = serve(routes().layer(layer)).await;
    let page = http_get(addr, "/panic", None).await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (500, "<h1>Sorry, the shop broke.</h1>")
    );
    let page = http_get(addr, "/nowhere", None).await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (404, "<h1>No such page.</h1>")
    );
}

#[tokio::test]
async fn a_handle_without_the_layer_changes_nothing() {
    let addr = serve(Router::new().route(
        "/",
        get(|report: RequestReport| async move {
            report.user("nobody");
            format!("attached: {}", report.is_attached())
        }),
    ))
    .await;
    assert_eq!(http_get(addr, "/", None).await.body, "attached: false");
}

/// A panic in a service's `call` itself (before any future exists) is caught too.
#[tokio::test]
async fn a_panic_in_call_is_caught() {
    #[derive(Clone)]
    struct PanicsInCall;
    impl<B> tower::Service<axum::http::Request<B>> for PanicsInCall {
        type Response = axum::response::Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: axum::http::Request<B>) -> Self::Future {
            panic!("call panicked")
        }
    }
    let app = Router::new()
        .route_service("/", PanicsInCall)
        .layer(ErrorReportLayer::new().debug(true));
    let addr = serve(app).await;
    let page = http_get(addr, "/", Some("text/plain")).await;
    assert_eq!(page.status, 500);
    assert!(
        page.body.starts_with("panic at /\ncall panicked"),
        "{}",
        page.body
    );
}

/// The layer around a plain hyper service (no axum): a `service_fn` served by hyper.
#[tokio::test]
async fn a_plain_hyper_service_is_reported_on() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;

    type Boxed = http_body_util::combinators::UnsyncBoxBody<Bytes, hyper::Error>;

    async fn handle(
        request: axum::http::Request<Boxed>,
    ) -> Result<axum::http::Response<Full<Bytes>>, Infallible> {
        let path = request.uri().path().to_owned();
        let body = request.into_body().collect().await.unwrap().to_bytes();
        match path.as_str() {
            "/panic" => panic!("plain hyper panicked after {} bytes", body.len()),
            "/error" => {
                let mut response = axum::http::Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
                    .extensions_mut()
                    .insert(ReportedError::new(&std::io::Error::other("disk full")));
                Ok(response)
            }
            _ => Ok(axum::http::Response::new(Full::new(body))),
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // hyper's `Incoming` is boxed so that the layer can hand on a body it buffered.
    let service = tower::ServiceBuilder::new()
        .map_request(|request: axum::http::Request<hyper::body::Incoming>| {
            request.map(BodyExt::boxed_unsync)
        })
        .layer(ErrorReportLayer::new().debug(true))
        .service(tower::service_fn(handle));
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let service = tower::ServiceBuilder::new()
                .map_request(
                    move |mut request: axum::http::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(peer);
                        request
                    },
                )
                .service(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    });

    let echoed = web::post_form(addr, "/echo", "a=1&b=2", None).await;
    assert_eq!((echoed.status, echoed.body.as_str()), (200, "a=1&b=2"));
    let page = web::post_form(addr, "/panic", "token=abc123def456ghi", Some("text/plain")).await;
    assert_eq!(page.status, 500);
    assert!(
        page.body
            .starts_with("panic at /panic\nplain hyper panicked after 21 bytes")
    );
    assert!(page.body.contains("REMOTE_ADDR = \"127.0.0.1\""));
    assert!(!page.body.contains("abc123def456ghi"));
    let page = http_get(addr, "/error", Some("application/json")).await;
    let report: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(report["exception_value"], "disk full");
    assert_eq!(report["exception_type"], "std::io::error::Error");
}

#[tokio::test]
async fn the_error_path_answers_every_request_of_a_burst() {
    let outbox = Outbox::new();
    let addr = serve(routes().layer(outbox.layer())).await;
    let client = web::client();
    let mut answers = Vec::new();
    for _ in 0..200 {
        let request = client.get(format!("http://{addr}/panic"));
        answers.push(tokio::spawn(async move {
            request.send().await.unwrap().status()
        }));
    }
    for answer in answers {
        assert_eq!(answer.await.unwrap(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    // Flood control: one report, the repeats counted for a digest.
    assert_eq!(outbox.emails().len(), 1);
}

/// A route can choose another filter and another debug-page renderer.
#[tokio::test]
async fn a_route_chooses_its_filter_and_its_debug_page_renderer() {
    use safe_report::integrations::tower::{DebugPageRenderer, ReportOverridesLayer};
    use safe_report::{Capture, Format, ReporterFilter, SafeReporterFilter};

    struct Plain;
    impl DebugPageRenderer for Plain {
        fn render(&self, capture: &Capture, _: Option<&dyn ReporterFilter>, _: Format) -> String {
            format!(
                "plain page: {}",
                capture.error.type_name.as_deref().unwrap_or("?")
            )
        }
    }

    let custom_substitute = SafeReporterFilter::builder().substitute("[hidden]").build();
    let app = Router::new()
        .route(
            "/filtered",
            post(read_then_panic).layer(ReportOverridesLayer::new().filter(custom_substitute)),
        )
        .route(
            "/rendered",
            get(panics).layer(ReportOverridesLayer::new().reporter(Plain)),
        )
        .route("/default", post(read_then_panic))
        .layer(ErrorReportLayer::new().debug(true));
    let addr = serve(app).await;
    let filtered = web::post_form(addr, "/filtered", "password=hunter2", Some("text/plain")).await;
    assert!(
        filtered.body.contains("password = \"[hidden]\""),
        "{}",
        filtered.body
    );
    let default = web::post_form(addr, "/default", "password=hunter2", Some("text/plain")).await;
    assert!(default.body.contains("password = \"********************\""));
    let rendered = http_get(addr, "/rendered", None).await;
    assert_eq!(
        (rendered.status, rendered.body.as_str()),
        (500, "plain page: panic")
    );
}

/// Around a whole router (one layer, no per-route cost) the layer finds the route a
/// request matched among the routes it was given.
#[tokio::test]
async fn around_a_router_the_route_comes_from_the_given_routes() {
    use axum::ServiceExt;
    use tower::Layer;

    let router = Router::new()
        .route("/orders/{id}", get(panics))
        .route("/gone/{id}", get(|| async { StatusCode::NOT_FOUND }));
    let service = ErrorReportLayer::new()
        .debug(true)
        .routes(["/orders/{id}", "/gone/{id}"])
        .layer(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let service =
            ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(service);
        axum::serve(listener, service).await.unwrap();
    });
    let page = http_get(addr, "/orders/42", Some("text/plain")).await;
    assert_eq!(page.status, 500);
    assert!(
        page.body.contains("Raised during: /orders/{id}"),
        "{}",
        page.body
    );
    assert!(page.body.contains("REMOTE_ADDR = \"127.0.0.1\""));
    let page = http_get(addr, "/gone/7", None).await;
    assert_eq!(page.status, 404);
    assert!(
        page.body
            .contains("<th scope=\"row\">Raised by:</th><td>/gone/{id}</td>")
    );
    assert!(page.body.contains("matched the last one."));
    let page = http_get(addr, "/nowhere", None).await;
    assert!(page.body.contains("didn’t match any of these."));
}

fn order_declined() -> bool {
    true
}

#[tokio::test]
async fn each_request_keeps_its_own_breadcrumbs() {
    use safe_report::BreadcrumbLevel;
    use safe_report::runtime::breadcrumbs::record;

    let app = Router::new()
        .route(
            "/noted",
            get(|| async {
                record(
                    BreadcrumbLevel::Info,
                    "shop",
                    format_args!("noted by another request"),
                );
                "ok"
            }),
        )
        .route(
            "/noted-panic",
            get(|| async {
                record(
                    BreadcrumbLevel::Info,
                    "shop",
                    format_args!("charging order ord_42"),
                );
                // Across an await: the trail follows the request, not the poll.
                tokio::task::yield_now().await;
                if order_declined() {
                    panic!("declined");
                }
                "charged"
            }),
        )
        .route(
            "/noted-down",
            get(|| async {
                record(
                    BreadcrumbLevel::Warn,
                    "shop",
                    format_args!("stock service slow"),
                );
                (StatusCode::SERVICE_UNAVAILABLE, "maintenance")
            }),
        );
    let outbox = Outbox::new();
    // One thread serves every request (the test's runtime): without a trail per request,
    // each would carry what the ones before it logged.
    let addr = serve(app.layer(outbox.layer())).await;
    assert_eq!(http_get(addr, "/noted", None).await.status, 200);
    assert_eq!(http_get(addr, "/noted-panic", None).await.status, 500);
    assert_eq!(http_get(addr, "/noted", None).await.status, 200);
    assert_eq!(http_get(addr, "/noted-down", None).await.status, 503);
    let emails = outbox.emails();
    assert_eq!(emails.len(), 2);
    let panic = emails
        .iter()
        .find(|e| e.subject().contains("/noted-panic"))
        .unwrap();
    let down = emails
        .iter()
        .find(|e| e.subject().contains("/noted-down"))
        .unwrap();
    assert!(
        panic.text().contains("charging order ord_42"),
        "{}",
        panic.text()
    );
    assert!(
        down.text().contains("stock service slow"),
        "{}",
        down.text()
    );
    for email in [panic, down] {
        assert!(
            !email.text().contains("noted by another request"),
            "{}",
            email.text()
        );
    }
    assert!(!down.text().contains("charging order"), "{}", down.text());
    // The thread's own trail got none of the requests' events.
    assert!(
        safe_report::runtime::breadcrumbs::snapshot()
            .iter()
            .all(|crumb| crumb.category != "shop")
    );
}
