//! The error-report layer's cost per request, in process (no network): a hello-world axum
//! router called through `oneshot`, without the layer, with it on every route
//! (`Router::layer`) and around the router, for a GET and for a small form POST (which the
//! layer buffers). `benches/overhead.sh` measures the same over HTTP.
//!
//! Run with `cargo bench --features axum --bench layer`.

use std::hint::black_box;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::{get, post};
use criterion::{Criterion, criterion_group, criterion_main};
use safe_report::integrations::tower::ErrorReportLayer;
use tower::ServiceExt;

fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello, World!" }))
        .route(
            "/form",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
}

fn get_request() -> Request<Body> {
    let mut request = Request::get("/")
        .header("host", "127.0.0.1:8080")
        .header("user-agent", "bench")
        .header("accept", "*/*")
        .body(Body::empty())
        .unwrap();
    let addr: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

fn form_request() -> Request<Body> {
    Request::post("/form")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "33")
        .body(Body::from("user=alice&password=hunter2&x=123"))
        .unwrap()
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plain = routes();
    let layered = routes().layer(ErrorReportLayer::new());
    let mut group = c.benchmark_group("layer");
    for (name, app) in [("GET / without", &plain), ("GET / with", &layered)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let response = runtime
                    .block_on(app.clone().oneshot(get_request()))
                    .unwrap();
                black_box(response.status())
            })
        });
    }
    let around = tower::Layer::layer(&ErrorReportLayer::new(), routes());
    group.bench_function("GET / with, around the router", |b| {
        b.iter(|| {
            let response = runtime
                .block_on(around.clone().oneshot(get_request()))
                .unwrap();
            black_box(response.status())
        })
    });
    for (name, app) in [
        ("POST /form without", &plain),
        ("POST /form with", &layered),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let response = runtime
                    .block_on(app.clone().oneshot(form_request()))
                    .unwrap();
                black_box(response.status())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
