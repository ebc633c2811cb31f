//! Peer benchmark: what the sentry-rust SDK (0.49.x) costs to capture one error event,
//! on the scenario-20 workload of tests/data/bench (capture-v1 file), with a test transport.
//!
//! Usage: sentry-peer [--bench-dir DIR] [--iters N] [--warmup N] [--first-only] [--event-out FILE]
//! DIR defaults to the crate's tests/data/bench (scenario-20.json, planted.json).
//! --event-out FILE: also write the JSON of one captured event to FILE (to send it to a server).
//! --first-only: init sentry, time the first (cold) capture, print it and exit.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use regex::Regex;
use sentry::protocol::{Event, Exception, Level, Map, Request, Stacktrace, Url, User, Value};
use sentry::test::TestTransport;

const SUBST: &str = "********************";
const SCRUB_RE: &str = "(?i)API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE";

/// Nanoseconds spent in `current_stacktrace()` by the last raise.
static STACK_NS: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds spent in the `before_send` hook by the last capture.
static BEFORE_SEND_NS: AtomicU64 = AtomicU64::new(0);

// ---------------------------------------------------------------------------------------
// Workload, prepared once (outside every timed region)
// ---------------------------------------------------------------------------------------

/// Locals that live in the frames of the call chain, as in the scenario. sentry-rust has no
/// way to capture locals; they are here so the secrets really sit on the stack that raises.
struct Locals {
    form_data: Value,
    ctx: Value,
    items: Vec<String>,
    blob: String,
    card_number: String,
    api_key: String,
    err_message: String,
}

struct Prepared {
    locals: Locals,
    error_type: String,
    request: Request,
    settings: Map<String, Value>,
    user: String,
    route: String,
}

fn var<'a>(frame: &'a Value, name: &str) -> &'a Value {
    frame["vars"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == name))
        .map(|v| &v["value"])
        .unwrap_or_else(|| panic!("scenario: var {name} missing in {}", frame["function"]))
}

fn find_frame<'a>(frames: &'a [Value], func: &str) -> &'a Value {
    frames
        .iter()
        .find(|f| f["function"].as_str().is_some_and(|s| s.ends_with(func)))
        .unwrap_or_else(|| panic!("scenario: frame {func} missing"))
}

fn prepare(scenario: &Value) -> Prepared {
    let frames = scenario["frames"].as_array().expect("frames");
    let view = find_frame(frames, "checkout_view");
    let charge = find_frame(frames, "charge_card");
    let pay = find_frame(frames, "call_payment_api");
    let str_of = |v: &Value| v.as_str().expect("string").to_owned();

    let locals = Locals {
        form_data: var(view, "form_data").clone(),
        ctx: var(view, "ctx").clone(),
        items: var(view, "items")
            .as_array()
            .expect("items")
            .iter()
            .map(str_of)
            .collect(),
        blob: str_of(var(view, "blob")),
        card_number: str_of(var(charge, "card_number")),
        api_key: str_of(var(pay, "api_key")),
        err_message: str_of(&scenario["error"]["message"]),
    };

    let r = &scenario["request"];
    let full_url = str_of(&r["url"]);
    let (path_url, query) = match full_url.split_once('?') {
        Some((u, q)) => (u.to_owned(), Some(q.to_owned())),
        None => (full_url.clone(), None),
    };
    let mut headers = Map::new();
    let mut cookies = None;
    for h in r["headers"].as_array().expect("headers") {
        let (k, v) = (str_of(&h[0]), str_of(&h[1]));
        if k.eq_ignore_ascii_case("cookie") {
            cookies = Some(v.clone());
        }
        headers.insert(k, v); // Cookie stays in headers too, as a web integration copies them
    }
    let mut env = Map::new();
    env.insert("REMOTE_ADDR".to_owned(), str_of(&r["remote_addr"]));
    let request = Request {
        url: Some(Url::parse(&path_url).expect("url")),
        method: Some(str_of(&r["method"])),
        data: r["body"].as_str().map(str::to_owned),
        query_string: query,
        cookies,
        headers,
        env,
    };

    let settings: Map<String, Value> = scenario["settings"]
        .as_object()
        .expect("settings")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    Prepared {
        locals,
        error_type: str_of(&scenario["error"]["type"]),
        request,
        settings,
        user: str_of(&r["user"]),
        route: str_of(&r["route"]),
    }
}

// ---------------------------------------------------------------------------------------
// The raising call chain: 20 ordinary frames, outermost first, as in scenario-20.json:
// sensitive_post_parameters_wrapper > checkout_view > step x3 > sensitive_variables_wrapper
// > charge_card > step x6 > sensitive_variables_wrapper > call_payment_api > step x5 (raises).
// Every call result goes through black_box so no call becomes a tail call (frame kept).
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct PaymentGatewayError {
    message: String,
    stacktrace: Option<Stacktrace>,
}

#[derive(Clone, Copy)]
enum Next {
    ChargeCard,
    CallPaymentApi,
    Raise,
}

type R = Result<u64, PaymentGatewayError>;

#[inline(never)]
fn sensitive_post_parameters_wrapper(l: &Locals) -> R {
    let parameters = ["password", "credit_card"];
    black_box(&parameters);
    let r = checkout_view(black_box(l));
    black_box(r)
}

#[inline(never)]
fn checkout_view(l: &Locals) -> R {
    black_box((&l.form_data, &l.ctx, &l.items, &l.blob));
    let r = step(l, 0, 3, Next::ChargeCard);
    black_box(r)
}

#[inline(never)]
fn sensitive_variables_wrapper(l: &Locals, depth: u32, next: Next) -> R {
    let variables: &[&str] = match next {
        Next::ChargeCard => &["card_number"],
        _ => &["api_key", "ctx"],
    };
    black_box(variables);
    let r = match next {
        Next::ChargeCard => charge_card(l, depth),
        _ => call_payment_api(l, depth),
    };
    black_box(r)
}

#[inline(never)]
fn charge_card(l: &Locals, depth: u32) -> R {
    black_box((depth, &l.card_number, &l.ctx, &l.items, &l.blob));
    let r = step(l, depth + 1, 6, Next::CallPaymentApi);
    black_box(r)
}

#[inline(never)]
fn call_payment_api(l: &Locals, depth: u32) -> R {
    black_box((depth, &l.api_key, &l.ctx, &l.items, &l.blob));
    let r = step(l, depth + 1, 5, Next::Raise);
    black_box(r)
}

/// One ordinary frame; `remaining` counts this frame. The last one of the chain raises.
#[inline(never)]
fn step(l: &Locals, depth: u32, remaining: u32, next: Next) -> R {
    let label = "step";
    black_box((depth, label, &l.ctx, &l.items, &l.blob));
    let r = if remaining > 1 {
        step(l, depth + 1, remaining - 1, next)
    } else {
        match next {
            Next::Raise => {
                // The raise: the error captures the stack here, the way sentry-rust does it
                // (eager: symbols, files and lines are resolved now).
                let t0 = Instant::now();
                let stacktrace = sentry::integrations::backtrace::current_stacktrace();
                STACK_NS.store(t0.elapsed().as_nanos() as u64, Relaxed);
                Err(PaymentGatewayError {
                    message: l.err_message.clone(),
                    stacktrace,
                })
            }
            n => sensitive_variables_wrapper(l, depth + 1, n),
        }
    };
    black_box(r)
}

// ---------------------------------------------------------------------------------------
// The handler that catches the error at the top and reports it to sentry.
// ---------------------------------------------------------------------------------------

#[inline(never)]
fn report(err: PaymentGatewayError, p: &Prepared) -> sentry::types::Uuid {
    let exception = Exception {
        ty: p.error_type.clone(),
        value: Some(err.message),
        module: Some("bench_chain".to_owned()),
        stacktrace: err.stacktrace,
        ..Default::default()
    };
    let event = Event {
        level: Level::Error,
        exception: vec![exception].into(),
        request: Some(p.request.clone()),
        extra: p.settings.clone(),
        user: Some(User {
            username: Some(p.user.clone()),
            ..Default::default()
        }),
        transaction: Some(p.route.clone()),
        ..Default::default()
    };
    sentry::capture_event(event)
}

#[inline(never)]
fn handle_request(p: &Prepared) -> sentry::types::Uuid {
    match sensitive_post_parameters_wrapper(&p.locals) {
        Ok(_) => sentry::types::Uuid::nil(),
        Err(e) => report(e, p),
    }
}

/// One full capture: raise 20 deep, report, take the envelope from the transport (optionally
/// serialize the event to JSON), and free it. Returns the JSON length (0 without JSON).
#[inline(never)]
fn one_capture(p: &Prepared, transport: &TestTransport, json: bool) -> usize {
    let id = handle_request(p);
    let envelopes = transport.fetch_and_clear_envelopes();
    let n = if json {
        let event = envelopes
            .first()
            .and_then(|e| e.event())
            .expect("no event captured");
        serde_json::to_vec(event).expect("json").len()
    } else {
        assert_eq!(envelopes.len(), 1, "expected one envelope per capture");
        0
    };
    black_box(id);
    drop(envelopes);
    n
}

// ---------------------------------------------------------------------------------------
// before_send: Django-style key filter over headers and extra (recursively)
// ---------------------------------------------------------------------------------------

fn cleanse(v: &mut Value, re: &Regex) {
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if re.is_match(k) {
                    *v = Value::String(SUBST.to_owned());
                } else {
                    cleanse(v, re);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| cleanse(v, re)),
        _ => {}
    }
}

fn scrub(mut event: Event<'static>, re: &Regex) -> Option<Event<'static>> {
    let t0 = Instant::now();
    if let Some(req) = event.request.as_mut() {
        for (k, v) in req.headers.iter_mut() {
            if re.is_match(k) {
                *v = SUBST.to_owned();
            }
        }
    }
    for (k, v) in event.extra.iter_mut() {
        if re.is_match(k) {
            *v = Value::String(SUBST.to_owned());
        } else {
            cleanse(v, re);
        }
    }
    BEFORE_SEND_NS.store(t0.elapsed().as_nanos() as u64, Relaxed);
    Some(event)
}

// ---------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------

fn max_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru.ru_maxrss as i64
    }
}

/// Current resident set split, from /proc/self/status: "anon_kib=.. file_kib=..".
fn rss_now() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    format!(
        "rss_kib={} anon_kib={} file_kib={}",
        get("VmRSS:"),
        get("RssAnon:"),
        get("RssFile:")
    )
}

struct Stats {
    median: f64,
    p90: f64,
    min: f64,
    mean: f64,
}

fn stats(ns: &mut [u64]) -> Stats {
    ns.sort_unstable();
    let n = ns.len();
    let median = if n % 2 == 1 {
        ns[n / 2] as f64
    } else {
        (ns[n / 2 - 1] + ns[n / 2]) as f64 / 2.0
    };
    let p90 = ns[((n as f64 * 0.9).ceil() as usize).saturating_sub(1)] as f64;
    let mean = ns.iter().sum::<u64>() as f64 / n as f64;
    Stats {
        median: median / 1e3,
        p90: p90 / 1e3,
        min: ns[0] as f64 / 1e3,
        mean: mean / 1e3,
    }
}

fn print_op(name: &str, ns: &mut [u64]) {
    let n = ns.len();
    let s = stats(ns);
    println!(
        "op={name} median_us={:.1} p90_us={:.1} iters={n}",
        s.median, s.p90
    );
    println!("detail op={name} min_us={:.1} mean_us={:.1}", s.min, s.mean);
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    let t_run = Instant::now();
    let mut bench_dir = format!("{}/../../tests/data/bench", env!("CARGO_MANIFEST_DIR"));
    let mut event_out: Option<String> = None;
    let mut iters = 2000usize;
    let mut warmup = 200usize;
    let mut first_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench-dir" => bench_dir = args.next().expect("--bench-dir DIR"),
            "--iters" => iters = args.next().expect("--iters N").parse().expect("N"),
            "--warmup" => warmup = args.next().expect("--warmup N").parse().expect("N"),
            "--first-only" => first_only = true,
            "--event-out" => event_out = Some(args.next().expect("--event-out FILE")),
            _ => panic!(
                "usage: sentry-peer [--bench-dir DIR] [--iters N] [--warmup N] [--first-only] \
                 [--event-out FILE]"
            ),
        }
    }

    let read = |f: &str| -> Value {
        let path = format!("{bench_dir}/{f}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let scenario = read("scenario-20.json");
    let planted = read("planted.json");
    let p = prepare(&scenario);
    drop(scenario);

    println!("# sentry-peer: sentry-rust capture cost on tests/data/bench/scenario-20.json");
    println!(
        "cpu=\"{}\" cpus={} build=release+debuginfo",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "workload settings={} headers={} body_bytes={} scenario_frames=20",
        p.settings.len(),
        p.request.headers.len(),
        p.request.data.as_ref().map_or(0, |d| d.len())
    );
    println!("rss_peak_kib_before_init={}", max_rss_kib());

    // --- sentry with its default options and integrations, a test transport, before_send ---
    let transport = TestTransport::new();
    let re = Regex::new(SCRUB_RE).expect("regex");
    let t0 = Instant::now();
    let _guard = sentry::init(
        sentry::ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(transport.clone())
            .before_send(move |event| scrub(event, &re)),
    );
    let init_us = t0.elapsed().as_secs_f64() * 1e6;
    assert!(sentry::Hub::current()
        .client()
        .is_some_and(|c| c.is_enabled()));
    println!("init_us={init_us:.1}");
    println!("rss_peak_kib_after_init={}", max_rss_kib());

    // --- 1. the first capture: cold symbolication (DWARF of the binary loaded and parsed) ---
    let t0 = Instant::now();
    one_capture(&p, &transport, false);
    let first_ns = t0.elapsed().as_nanos() as u64;
    let first_stack_ns = STACK_NS.load(Relaxed);
    println!(
        "first_capture_us={:.1} first_capture_stacktrace_us={:.1}",
        first_ns as f64 / 1e3,
        first_stack_ns as f64 / 1e3
    );
    println!("rss_peak_kib_after_first_capture={}", max_rss_kib());
    println!("rss_now_after_first_capture {}", rss_now());
    if first_only {
        return;
    }

    for _ in 0..warmup {
        one_capture(&p, &transport, false);
    }

    // --- 2. warm captures: raise (current_stacktrace) + event + capture_event + before_send ---
    let mut total = Vec::with_capacity(iters);
    let mut stack = Vec::with_capacity(iters);
    let mut hook = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t0 = Instant::now();
        one_capture(&p, &transport, false);
        total.push(t0.elapsed().as_nanos() as u64);
        stack.push(STACK_NS.load(Relaxed));
        hook.push(BEFORE_SEND_NS.load(Relaxed));
    }
    print_op("capture", &mut total);
    print_op("capture.part.current_stacktrace", &mut stack);
    print_op("capture.part.before_send", &mut hook);

    // --- 3. the same, plus serde_json::to_vec of the captured event ---
    let mut total = Vec::with_capacity(iters);
    let mut json_len = 0;
    for _ in 0..iters {
        let t0 = Instant::now();
        json_len = one_capture(&p, &transport, true);
        total.push(t0.elapsed().as_nanos() as u64);
    }
    print_op("capture_json", &mut total);

    // serialization alone, on one captured event
    handle_request(&p);
    let envelopes = transport.fetch_and_clear_envelopes();
    let event = envelopes[0].event().expect("event").clone();
    let mut ser = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t0 = Instant::now();
        let v = serde_json::to_vec(black_box(&event)).expect("json");
        black_box(v.len());
        drop(v);
        ser.push(t0.elapsed().as_nanos() as u64);
    }
    print_op("serialize_json_only", &mut ser);
    println!("event_json_bytes={json_len}");

    // --- 4. peak RSS after all captures ---
    println!("rss_peak_kib_after_all={}", max_rss_kib());
    println!("rss_now_after_all {}", rss_now());

    // --- frames sentry's stacktrace ended up with ---
    let frames = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .expect("stacktrace")
        .frames;
    let chain_fns = [
        "sensitive_post_parameters_wrapper",
        "checkout_view",
        "step",
        "sensitive_variables_wrapper",
        "charge_card",
        "call_payment_api",
    ];
    let is_chain = |f: &sentry::protocol::Frame| {
        f.function.as_deref().is_some_and(|s| {
            s.strip_prefix("sentry_peer::")
                .is_some_and(|rest| chain_fns.contains(&rest))
        })
    };
    println!(
        "frames_total={} frames_chain={} frames_in_app={} frames_with_lineno={} frames_with_abs_path={}",
        frames.len(),
        frames.iter().filter(|f| is_chain(f)).count(),
        frames.iter().filter(|f| f.in_app == Some(true)).count(),
        frames.iter().filter(|f| f.lineno.is_some()).count(),
        frames.iter().filter(|f| f.abs_path.is_some()).count(),
    );

    // --- leak check: grep every planted token in the serialized JSON event of one capture ---
    let json = serde_json::to_string(&event).expect("json");
    if let Some(path) = &event_out {
        std::fs::write(path, &json).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let mut leaked = Vec::new();
    let planted = planted.as_object().expect("planted");
    for (name, info) in planted {
        let token = info["token"].as_str().expect("token");
        let count = json.matches(token).count();
        if count > 0 {
            println!(
                "leak name={name} count={count} where=\"{}\"",
                info["where"].as_str().unwrap_or("")
            );
            leaked.push(name.as_str());
        }
    }
    println!(
        "leaked={}/{} names={}",
        leaked.len(),
        planted.len(),
        leaked.join(",")
    );
    let ordinary = [
        "alice",
        "ord_123",
        "sku-000",
        "Berlin",
        "SPRING25",
        "Mozilla/5.0",
        "5f0c6a1e-8f1b-4c5e-9a57-3d2f1b0c9e11",
    ];
    let (vis, missing): (Vec<&str>, Vec<&str>) = ordinary.iter().partition(|s| json.contains(*s));
    println!(
        "ordinary_visible={} ordinary_absent={}",
        vis.join(","),
        missing.join(",")
    );
    println!("substitutes_in_json={}", json.matches(SUBST).count());
    if let Some(sdk) = event.sdk.as_ref() {
        println!("sdk={}/{}", sdk.name, sdk.version);
    }
    println!("run_wall_s={:.2}", t_run.elapsed().as_secs_f64());

    // the stacktrace, innermost first, for inspection
    println!("# stacktrace frames, innermost first (in_app, function, file:line):");
    for (i, f) in frames.iter().rev().enumerate() {
        println!(
            "#  {i:2} {} {} {}:{}",
            if f.in_app == Some(true) { "app" } else { "lib" },
            f.function.as_deref().unwrap_or("?"),
            f.filename.as_deref().unwrap_or("?"),
            f.lineno.map_or("?".to_owned(), |l| l.to_string())
        );
    }
    black_box(Arc::strong_count(&transport));
}
