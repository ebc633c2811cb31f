//! Loads a capture-v1 file and writes its report as text, browser HTML, email HTML and JSON.
//!
//! ```text
//! cargo run --release --example scenario -- <capture.json> --source-root <dir> --out <dir> [--bench]
//! ```
//!
//! With `--bench` it also times each operation on that capture and prints one line per
//! operation: `op=<name> median_us=<x> p90_us=<y> iters=<n>`. With `--repeat <op> <n>` it
//! runs one operation `n` times untimed, for counting its instructions
//! (`benches/callgrind.sh`).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use safe_report::{Capture, ExceptionReporter, FilterContext, ReporterFilter, SafeReporterFilter};

struct Args {
    capture: PathBuf,
    source_root: Option<PathBuf>,
    out: PathBuf,
    bench: bool,
    repeat: Option<(String, usize)>,
}

fn parse_args() -> Result<Args, String> {
    let mut capture = None;
    let mut source_root = None;
    let mut out = None;
    let mut bench = false;
    let mut repeat = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--source-root") => {
                source_root = Some(PathBuf::from(
                    args.next().ok_or("--source-root needs a directory")?,
                ))
            }
            Some("--out") => {
                out = Some(PathBuf::from(args.next().ok_or("--out needs a directory")?))
            }
            Some("--bench") => bench = true,
            Some("--repeat") => {
                let op = args.next().ok_or("--repeat needs an operation")?;
                let times = args
                    .next()
                    .and_then(|n| n.to_str()?.parse().ok())
                    .ok_or("--repeat needs an operation and a count")?;
                repeat = Some((op.to_string_lossy().into_owned(), times));
            }
            Some(flag) if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if capture.is_none() => capture = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {}", arg.to_string_lossy())),
        }
    }
    Ok(Args {
        capture: capture.ok_or("missing the capture file")?,
        source_root,
        out: out.unwrap_or_else(|| PathBuf::from(".")),
        bench,
        repeat,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("scenario: {message}");
            eprintln!(
                "usage: scenario <capture.json> [--source-root <dir>] [--out <dir>] [--bench]"
            );
            return ExitCode::from(2);
        }
    };
    let json = match std::fs::read(&args.capture) {
        Ok(json) => json,
        Err(error) => {
            eprintln!("scenario: cannot read {}: {error}", args.capture.display());
            return ExitCode::FAILURE;
        }
    };
    let capture = match Capture::from_json_slice(&json) {
        Ok(capture) => capture,
        Err(error) => {
            eprintln!("scenario: {}: {error}", args.capture.display());
            return ExitCode::FAILURE;
        }
    };
    let mut reporter = ExceptionReporter::new(SafeReporterFilter::default());
    if let Some(root) = &args.source_root {
        reporter = reporter.source_root(root);
    }
    let report = reporter.report(&capture);
    if let Err(error) = std::fs::create_dir_all(&args.out) {
        eprintln!("scenario: cannot create {}: {error}", args.out.display());
        return ExitCode::FAILURE;
    }
    for (name, content) in [
        (
            "report.txt",
            reporter.text_report(&capture).text().to_string(),
        ),
        ("report.html", report.html().to_string()),
        ("report-email.html", report.html().for_email().to_string()),
        ("report.json", report.json().to_string()),
    ] {
        let path = args.out.join(name);
        if let Err(error) = std::fs::write(&path, content) {
            eprintln!("scenario: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if args.bench {
        for (name, op) in operations(&capture, &reporter) {
            measure(name, op);
        }
    }
    if let Some((name, times)) = &args.repeat {
        let Some((_, mut op)) = operations(&capture, &reporter)
            .into_iter()
            .find(|(op, _)| op == name)
        else {
            eprintln!("scenario: no operation named {name}");
            return ExitCode::FAILURE;
        };
        for _ in 0..*times {
            op();
        }
    }
    ExitCode::SUCCESS
}

/// Times `op` after a warm-up: at least 50 iterations and about one second.
fn measure(name: &str, mut op: impl FnMut()) {
    for _ in 0..20 {
        op();
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < 50
        || (started.elapsed() < Duration::from_secs(1) && samples.len() < 100_000)
    {
        let at = Instant::now();
        op();
        samples.push(at.elapsed());
    }
    samples.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let median = micros(samples[samples.len() / 2]);
    let p90 = micros(samples[samples.len() * 9 / 10]);
    println!(
        "op={name} median_us={median:.1} p90_us={p90:.1} iters={}",
        samples.len()
    );
}

type Operation<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// The operations measured side by side with Django's, by the name its figures use.
fn operations<'a>(capture: &'a Capture, reporter: &'a ExceptionReporter) -> Vec<Operation<'a>> {
    let filter = SafeReporterFilter::default();
    let settings = capture.settings.clone().unwrap_or_default();
    let mut ops: Vec<Operation<'a>> = vec![(
        "settings",
        Box::new(move || {
            let mut cx = FilterContext::new(capture, &filter);
            black_box(filter.safe_settings(black_box(&settings), &mut cx));
        }),
    )];
    if let Some(request) = &capture.request {
        let body = request
            .body
            .as_ref()
            .map(|b| b.as_bytes().to_vec())
            .unwrap_or_default();
        let filter = SafeReporterFilter::default();
        ops.push((
            "post",
            Box::new(move || {
                let mut cx = FilterContext::new(capture, &filter);
                let fields: Vec<(String, String)> = form_urlencoded::parse(black_box(&body))
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                black_box(filter.post_parameters(request, &fields, &mut cx));
            }),
        ));
    }
    ops.push((
        "data",
        Box::new(|| {
            black_box(reporter.report(black_box(capture)));
        }),
    ));
    ops.push((
        "text",
        Box::new(|| {
            black_box(reporter.text_report(black_box(capture)).text().to_string());
        }),
    ));
    ops.push((
        "html",
        Box::new(|| {
            black_box(reporter.report(black_box(capture)).html().to_string());
        }),
    ));
    ops.push((
        "email_html",
        Box::new(|| {
            black_box(
                reporter
                    .report(black_box(capture))
                    .html()
                    .for_email()
                    .to_string(),
            );
        }),
    ));
    ops.push((
        "json",
        Box::new(|| {
            black_box(reporter.report(black_box(capture)).json().to_string());
        }),
    ));
    ops
}
