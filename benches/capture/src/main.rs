//! What reporting costs from running code, on the scenario-20 workload
//! (`tests/data/bench/scenario-20.json`): the scenario's error raised 20 frames deep with
//! each frame's variables registered, caught at the top, and reported as the filtered text
//! report (request and settings attached), from a live panic and from a `Result` error.
//!
//! The chain follows the scenario frame by frame, with `#[inline(never)]` functions of the
//! same names: `sensitive_post_parameters_wrapper > checkout_view > step×3 >
//! sensitive_variables_wrapper > charge_card > step×6 > sensitive_variables_wrapper >
//! call_payment_api > step×5`. Each frame registers the variables the scenario lists for it
//! (`ctx`, `items`, the 10 KB `blob`, `card_number`, `api_key`, …); the wrappers declare
//! `card_number`, and `api_key` and `ctx`, sensitive for the functions they call.
//!
//! ```text
//! ./run.sh [--data DIR] [--iters N] [--warmup N] [--reports N] [--first-only] [--print-report]
//!          [--sentry-dsn DSN]
//! ```
//!
//! Prints `op=<name> median_us=<x> p90_us=<y> iters=<n>` lines, RSS lines and a leak check.
//!
//! `op=panic_capture_and_enqueue` is what a caller pays to hand the panic to the Sentry sink:
//! the raise and catch (the hook's capture), taking the capture (symbols resolved), the
//! request and settings attached, and the enqueue. The sink's worker (report through the
//! filter, event, envelope, POST to a server on 127.0.0.1 that answers 200) runs after each
//! timed call, untimed, so that every call finds the queue empty. With `--sentry-dsn`, one
//! report of the panic is also sent to that server, for `benches/sentry-side-by-side.sh`.

use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use safe_report::panic::{HookBuilder, handled_here, last_capture_duration, take_last_capture};
use safe_report::sinks::{Origin, SentryConfig, Sink};
use safe_report::{Capture, ExceptionReporter, RequestInfo, Traced};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------
// The workload, prepared once, outside every timed region
// ---------------------------------------------------------------------------------------

/// One frame's variables, as the scenario lists them, in Rust types.
#[derive(Default)]
struct Locals {
    depth: u64,
    label: String,
    ctx: Value,
    items: Vec<String>,
    blob: String,
    request: String,
    form_data: Value,
    args: Value,
    kwargs: Value,
    parameters: Vec<String>,
    view: String,
    func_args: Value,
    func_kwargs: Value,
    func: String,
    wrapper: String,
    variables: Vec<String>,
    card_number: String,
    api_key: String,
}

impl Locals {
    fn from_frame(frame: &safe_report::Frame) -> Self {
        let mut locals = Locals::default();
        for var in &frame.vars {
            let value = &var.value.to_value();
            let text = || value.as_str().unwrap_or_default().to_owned();
            let texts = || serde_json::from_value(value.clone()).unwrap_or_default();
            match var.name.as_ref() {
                "depth" => locals.depth = value.as_u64().unwrap_or_default(),
                "label" => locals.label = text(),
                "ctx" => locals.ctx = value.clone(),
                "items" => locals.items = texts(),
                "blob" => locals.blob = text(),
                "request" => locals.request = text(),
                "form_data" => locals.form_data = value.clone(),
                "args" => locals.args = value.clone(),
                "kwargs" => locals.kwargs = value.clone(),
                "parameters" => locals.parameters = texts(),
                "view" => locals.view = text(),
                "func_args" => locals.func_args = value.clone(),
                "func_kwargs" => locals.func_kwargs = value.clone(),
                "func" => locals.func = text(),
                "sensitive_variables_wrapper" => locals.wrapper = text(),
                "variables" => locals.variables = texts(),
                "card_number" => locals.card_number = text(),
                "api_key" => locals.api_key = text(),
                other => panic!("scenario: variable {other} is not part of the chain"),
            }
        }
        locals
    }
}

struct Workload {
    /// Per frame of the scenario, outermost first.
    frames: Vec<Locals>,
    error_type: String,
    message: String,
    request: RequestInfo,
    /// Shared, as the panic hook and the web layer hold them.
    settings: Arc<Map<String, Value>>,
}

fn load(data: &str) -> Workload {
    let path = format!("{data}/scenario-20.json");
    let json = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let capture = Capture::from_json_slice(&json).unwrap_or_else(|error| panic!("{path}: {error}"));
    assert_eq!(capture.frames.len(), 20, "scenario-20 has 20 frames");
    Workload {
        frames: capture.frames.iter().map(Locals::from_frame).collect(),
        error_type: capture.error.type_name.clone().unwrap_or_default(),
        message: capture.error.message.clone().unwrap_or_default(),
        request: capture.request.clone().expect("the scenario has a request"),
        settings: capture.settings.clone().expect("the scenario has settings"),
    }
}

// ---------------------------------------------------------------------------------------
// The raising call chain, 20 frames, outermost first, as in the scenario. Every result goes
// through black_box so that no call becomes a tail call.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct PaymentGatewayError {
    message: String,
}

impl std::fmt::Display for PaymentGatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PaymentGatewayError {}

type Outcome = Result<u64, Traced<PaymentGatewayError>>;

/// How the innermost frame fails.
#[derive(Clone, Copy)]
enum Fail {
    Panic,
    Error,
}

#[derive(Clone, Copy)]
enum Next {
    ChargeCard,
    CallPaymentApi,
    Raise,
}

#[inline(never)]
fn sensitive_post_parameters_wrapper(w: &Workload, fail: Fail) -> Outcome {
    let l = &w.frames[0];
    let r = safe_report::vars!(
        request = l.request,
        args = l.args,
        kwargs = l.kwargs,
        parameters = l.parameters,
        view = l.view
    )
    .run(|| checkout_view(w, fail));
    black_box(r)
}

#[inline(never)]
fn checkout_view(w: &Workload, fail: Fail) -> Outcome {
    let l = &w.frames[1];
    let r = safe_report::vars!(
        request = l.request,
        form_data = l.form_data,
        ctx = l.ctx,
        items = l.items,
        blob = l.blob
    )
    .run(|| step(w, 2, 3, Next::ChargeCard, fail));
    black_box(r)
}

#[inline(never)]
fn sensitive_variables_wrapper(w: &Workload, index: usize, next: Next, fail: Fail) -> Outcome {
    let l = &w.frames[index];
    let sensitive: &'static [&'static str] = match next {
        Next::ChargeCard => &["card_number"],
        _ => &["api_key", "ctx"],
    };
    let r = safe_report::vars!(
        func_args = l.func_args,
        func_kwargs = l.func_kwargs,
        func = l.func,
        sensitive_variables_wrapper = l.wrapper,
        variables = l.variables
    )
    .sensitive(sensitive)
    .run(|| match next {
        Next::ChargeCard => charge_card(w, index + 1, fail),
        _ => call_payment_api(w, index + 1, fail),
    });
    black_box(r)
}

#[inline(never)]
fn charge_card(w: &Workload, index: usize, fail: Fail) -> Outcome {
    let l = &w.frames[index];
    let r = safe_report::vars!(
        depth = l.depth,
        card_number = l.card_number,
        ctx = l.ctx,
        items = l.items,
        blob = l.blob
    )
    .run(|| step(w, index + 1, 6, Next::CallPaymentApi, fail));
    black_box(r)
}

#[inline(never)]
fn call_payment_api(w: &Workload, index: usize, fail: Fail) -> Outcome {
    let l = &w.frames[index];
    let r = safe_report::vars!(
        depth = l.depth,
        api_key = l.api_key,
        ctx = l.ctx,
        items = l.items,
        blob = l.blob
    )
    .run(|| step(w, index + 1, 5, Next::Raise, fail));
    black_box(r)
}

/// One ordinary frame; `remaining` counts this frame. The last one of the chain raises.
#[inline(never)]
fn step(w: &Workload, index: usize, remaining: u32, next: Next, fail: Fail) -> Outcome {
    let l = &w.frames[index];
    let r = safe_report::vars!(
        depth = l.depth,
        label = l.label,
        ctx = l.ctx,
        items = l.items,
        blob = l.blob
    )
    .run(|| {
        if remaining > 1 {
            return step(w, index + 1, remaining - 1, next, fail);
        }
        match (next, fail) {
            (Next::Raise, Fail::Panic) => panic!("{}", w.message),
            (Next::Raise, Fail::Error) => Err(Traced::new(PaymentGatewayError {
                message: w.message.clone(),
            })),
            (next, _) => sensitive_variables_wrapper(w, index + 1, next, fail),
        }
    });
    black_box(r)
}

// ---------------------------------------------------------------------------------------
// The handler that catches the failure at the top and reports it
// ---------------------------------------------------------------------------------------

/// Time spent in each part of the last report, in nanoseconds.
#[derive(Default, Clone, Copy)]
struct Parts {
    raise_and_catch: u64,
    capture_in_hook: u64,
    take_capture: u64,
    attach_request_and_settings: u64,
    render_text: u64,
}

fn nanos(since: Instant) -> u64 {
    since.elapsed().as_nanos() as u64
}

fn attach(mut capture: Capture, w: &Workload) -> Capture {
    capture.error.type_name = Some(w.error_type.clone());
    capture.request = Some(w.request.clone());
    capture.settings = Some(Arc::clone(&w.settings));
    capture
}

/// Raises the chain as a panic, catches it, and returns the filtered text report.
#[inline(never)]
fn panic_report(w: &Workload, reporter: &ExceptionReporter, parts: &mut Parts) -> String {
    let start = Instant::now();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        handled_here(|| sensitive_post_parameters_wrapper(w, Fail::Panic))
    }));
    assert!(caught.is_err(), "the chain panics");
    parts.raise_and_catch = nanos(start);
    parts.capture_in_hook = last_capture_duration().map_or(0, |d| d.as_nanos() as u64);
    let start = Instant::now();
    let capture = take_last_capture().expect("the hook's capture");
    parts.take_capture = nanos(start);
    let start = Instant::now();
    let capture = attach(capture, w);
    parts.attach_request_and_settings = nanos(start);
    let start = Instant::now();
    let report = reporter.text_report(&capture).text().to_string();
    parts.render_text = nanos(start);
    report
}

/// Raises the chain as a panic, catches it, and queues it for the Sentry sink: what the
/// caller pays (the report is built on the sink's worker).
#[inline(never)]
fn panic_enqueue(w: &Workload, reporter: &ExceptionReporter, sink: &Sink) {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        handled_here(|| sensitive_post_parameters_wrapper(w, Fail::Panic))
    }));
    assert!(caught.is_err(), "the chain panics");
    let capture = attach(take_last_capture().expect("the hook's capture"), w);
    sink.capture(capture, reporter, Origin::Panic);
}

/// A server on 127.0.0.1 that answers every request with 200 (keeping the connection), as
/// a Sentry server would; returns its DSN.
fn answering_server() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("a stream");
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://public@127.0.0.1:{port}/1")
}

/// Raises the chain as a `Result` error and returns the filtered text report.
#[inline(never)]
fn error_report(w: &Workload, reporter: &ExceptionReporter) -> String {
    let error = sensitive_post_parameters_wrapper(w, Fail::Error).expect_err("the chain fails");
    let capture = attach(Capture::from_traced_owned(error), w);
    reporter.text_report(&capture).text().to_string()
}

// ---------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------

/// A field of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss(label: &str) {
    println!(
        "rss_{label} peak_kib={} rss_kib={} anon_kib={} file_kib={}",
        status_kib("VmHWM:"),
        status_kib("VmRSS:"),
        status_kib("RssAnon:"),
        status_kib("RssFile:")
    );
}

fn print_op(name: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let n = ns.len();
    let at = |q: f64| ns[((n as f64 * q).ceil() as usize).saturating_sub(1)] as f64 / 1e3;
    let median = if n % 2 == 1 {
        ns[n / 2] as f64 / 1e3
    } else {
        (ns[n / 2 - 1] + ns[n / 2]) as f64 / 2e3
    };
    let mean = ns.iter().sum::<u64>() as f64 / n as f64 / 1e3;
    println!(
        "op={name} median_us={median:.1} p90_us={:.1} iters={n}",
        at(0.9)
    );
    println!(
        "detail op={name} min_us={:.1} mean_us={mean:.1}",
        ns[0] as f64 / 1e3
    );
}

/// The cost of registering three variables for a call that does nothing else.
fn registration_ns() -> (f64, f64) {
    const CALLS: u32 = 2_000_000;
    let (a, b, c) = (7u64, String::from("ord_42"), vec![1u32, 2, 3]);
    let start = Instant::now();
    for i in 0..CALLS {
        black_box(safe_report::vars!(a, b, c).run(|| black_box(i)));
    }
    let registered = start.elapsed();
    let start = Instant::now();
    for i in 0..CALLS {
        black_box((&a, &b, &c));
        black_box(i);
    }
    let bare = start.elapsed();
    let per_call = |d: Duration| d.as_nanos() as f64 / f64::from(CALLS);
    (per_call(registered), per_call(bare))
}

fn planted_tokens(data: &str) -> Vec<String> {
    let path = format!("{data}/planted.json");
    let json: Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}")),
    )
    .unwrap_or_else(|error| panic!("{path}: {error}"));
    json.as_object()
        .expect("planted.json is an object")
        .values()
        .filter_map(|entry| entry["token"].as_str().map(str::to_owned))
        .collect()
}

fn main() {
    let mut data = format!("{}/../../tests/data/bench", env!("CARGO_MANIFEST_DIR"));
    let mut iters = 2000usize;
    let mut warmup = 200usize;
    let mut reports = 10_000usize;
    let mut first_only = false;
    let mut print_report = false;
    let mut sentry_dsn: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> usize {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{flag} needs a number"))
        };
        match arg.as_str() {
            "--data" => data = args.next().expect("--data needs a directory"),
            "--iters" => iters = number("--iters"),
            "--warmup" => warmup = number("--warmup"),
            "--reports" => reports = number("--reports"),
            "--first-only" => first_only = true,
            "--print-report" => print_report = true,
            "--sentry-dsn" => sentry_dsn = args.next(),
            other => panic!(
                "unknown argument {other}; usage: safe-report-capture-bench [--data DIR] \
                 [--iters N] [--warmup N] [--reports N] [--first-only] [--print-report] \
                 [--sentry-dsn DSN]"
            ),
        }
    }
    let w = load(&data);
    let planted = planted_tokens(&data);
    println!(
        "cpus={} build=release+debuginfo frames={} settings={} headers={}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        w.frames.len(),
        w.settings.len(),
        w.request.headers.len()
    );
    rss("before_install");

    // The default hook would print every panic; the report is what is measured.
    std::panic::set_hook(Box::new(|_| {}));
    let _hook = HookBuilder::new().install();
    let reporter = ExceptionReporter::default();
    rss("after_install");

    // 1. The first report: symbols resolved for the first time (debug information loaded).
    let mut parts = Parts::default();
    let start = Instant::now();
    let report = black_box(panic_report(&w, &reporter, &mut parts));
    if print_report {
        print!("{report}");
        return;
    }
    println!(
        "first_panic_report_us={:.1} of_which_take_capture_us={:.1}",
        nanos(start) as f64 / 1e3,
        parts.take_capture as f64 / 1e3
    );
    rss("after_first_report");
    let leaked: Vec<&String> = planted.iter().filter(|t| report.contains(*t)).collect();
    println!(
        "leak_check planted={} found_in_report={}",
        planted.len(),
        leaked.len()
    );
    for token in leaked {
        println!("leak token={token}");
    }
    for function in ["checkout_view", "charge_card", "call_payment_api", "step"] {
        assert!(report.contains(function), "the report shows {function}");
    }
    if first_only {
        return;
    }

    // 2. Registering variables on the happy path.
    let (registered, bare) = registration_ns();
    println!("op=register_scope_3_vars ns_per_call={registered:.2} bare_call_ns={bare:.2}");

    // 3. Warm reports from a live panic, with the time of each part.
    for _ in 0..warmup {
        black_box(panic_report(&w, &reporter, &mut parts));
    }
    let mut total = Vec::with_capacity(iters);
    let mut each: Vec<Parts> = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        black_box(panic_report(&w, &reporter, &mut parts));
        total.push(nanos(start));
        each.push(parts);
    }
    print_op("panic_text_report", total);
    print_op(
        "panic.part.raise_and_catch",
        each.iter().map(|p| p.raise_and_catch).collect(),
    );
    print_op(
        "panic.part.capture_in_hook",
        each.iter().map(|p| p.capture_in_hook).collect(),
    );
    print_op(
        "panic.part.take_capture",
        each.iter().map(|p| p.take_capture).collect(),
    );
    print_op(
        "panic.part.attach_request_and_settings",
        each.iter().map(|p| p.attach_request_and_settings).collect(),
    );
    print_op(
        "panic.part.render_text",
        each.iter().map(|p| p.render_text).collect(),
    );

    // 4. The panic handed to the Sentry sink: the caller's part, warm.
    if let Some(dsn) = &sentry_dsn {
        let config = SentryConfig::new(dsn).expect("a usable DSN");
        let sink = Sink::sentry(config).expect("a sink");
        panic_enqueue(&w, &reporter, &sink);
        let sent = sink.shutdown(Duration::from_secs(60));
        println!("sentry_dsn_sent={sent} stats={:?}", sink.stats());
    }
    let sink =
        Sink::sentry(SentryConfig::new(&answering_server()).expect("a DSN")).expect("a sink");
    for _ in 0..warmup {
        panic_enqueue(&w, &reporter, &sink);
        sink.flush(Duration::from_secs(60));
    }
    let mut total = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        panic_enqueue(&w, &reporter, &sink);
        total.push(nanos(start));
        sink.flush(Duration::from_secs(60));
    }
    print_op("panic_capture_and_enqueue", total);
    let stats = sink.stats();
    println!(
        "sentry_sink delivered={} failed={} queue_full={}",
        stats.delivered, stats.failed, stats.queue_full
    );

    // 5. Warm reports from a `Result` error.
    for _ in 0..warmup {
        black_box(error_report(&w, &reporter));
    }
    let mut total = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        black_box(error_report(&w, &reporter));
        total.push(nanos(start));
    }
    print_op("error_text_report", total);

    // 6. Memory over many reports.
    rss("before_many_reports");
    for _ in 0..reports {
        black_box(panic_report(&w, &reporter, &mut parts));
    }
    println!("many_reports={reports}");
    rss("after_many_reports");
}
