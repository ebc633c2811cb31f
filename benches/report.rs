//! Criterion benchmarks of the report operations on the benchmark workload (1, 20 and 100
//! frames), the same operations `examples/scenario.rs --bench` times against Django.
//!
//! Run with `cargo bench --bench report`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use safe_report::{Capture, ExceptionReporter, FilterContext, ReporterFilter, SafeReporterFilter};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench")
}

fn load(frames: usize) -> Capture {
    let path = data_dir().join(format!("scenario-{frames}.json"));
    let json = std::fs::read(&path).expect("scenario file");
    Capture::from_json_slice(&json).expect("a capture-v1 file")
}

fn operations(c: &mut Criterion) {
    let filter = SafeReporterFilter::default();
    let reporter = ExceptionReporter::default().source_root(data_dir().join("source"));
    for frames in [1, 20, 100] {
        let capture = load(frames);
        let mut group = c.benchmark_group(format!("scenario-{frames}"));
        let settings = capture.settings.clone().unwrap_or_default();
        group.bench_function(BenchmarkId::from_parameter("settings"), |b| {
            b.iter(|| {
                let mut cx = FilterContext::new(&capture, &filter);
                black_box(filter.safe_settings(black_box(&settings), &mut cx).len())
            })
        });
        if let Some(request) = &capture.request {
            let body = request
                .body
                .as_ref()
                .map(|body| body.as_bytes().to_vec())
                .unwrap_or_default();
            group.bench_function(BenchmarkId::from_parameter("post"), |b| {
                b.iter(|| {
                    let mut cx = FilterContext::new(&capture, &filter);
                    let fields: Vec<(String, String)> = form_urlencoded::parse(black_box(&body))
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    black_box(filter.post_parameters(request, &fields, &mut cx).len())
                })
            });
        }
        group.bench_function(BenchmarkId::from_parameter("data"), |b| {
            b.iter(|| black_box(reporter.report(black_box(&capture))))
        });
        group.bench_function(BenchmarkId::from_parameter("text"), |b| {
            b.iter(|| black_box(reporter.text_report(black_box(&capture)).text().to_string()))
        });
        group.bench_function(BenchmarkId::from_parameter("html"), |b| {
            b.iter(|| black_box(reporter.report(black_box(&capture)).html().to_string()))
        });
        group.bench_function(BenchmarkId::from_parameter("email_html"), |b| {
            b.iter(|| {
                black_box(
                    reporter
                        .report(black_box(&capture))
                        .html()
                        .for_email()
                        .to_string(),
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter("json"), |b| {
            b.iter(|| black_box(reporter.report(black_box(&capture)).json().to_string()))
        });
        group.finish();
    }
}

criterion_group!(benches, operations);
criterion_main!(benches);
