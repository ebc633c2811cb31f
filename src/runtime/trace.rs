//! Stack traces: captured unresolved where the error happens (about ten microseconds),
//! resolved to function, file and line later, on the reporting side, with a cache.
//!
//! The first resolution in a process loads and parses the executable's debug information:
//! tens of milliseconds and tens of megabytes that stay allocated (the `backtrace` crate's
//! cache). Later resolutions of addresses already seen cost a hash lookup each.
//! [`warm_up`] pays the first cost ahead of time, on a background thread.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::scope::{CapturedScope, SiteScope};
use crate::model::{Frame, SensitiveNames, Variable};

/// One frame of a resolved trace (an inlined function is a frame of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Symbol {
    pub(crate) function: Arc<str>,
    pub(crate) file: Option<Arc<str>>,
    pub(crate) line: Option<u32>,
    /// Whether the default rules ([`InApp::default`]) count it as application code, when
    /// that was decided once, as the address was resolved.
    pub(crate) in_app_by_default: Option<bool>,
}

/// An unresolved stack trace: the return addresses of the frames, innermost first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace(Vec<usize>);

/// Frames kept at most in one trace (the innermost ones).
const MAX_TRACE_FRAMES: usize = 4096;

impl Trace {
    /// The stack of the calling thread. Only the addresses are taken: nothing is looked
    /// up, not even where each function starts.
    #[inline(never)]
    pub(crate) fn capture() -> Self {
        let mut addresses = Vec::with_capacity(64);
        backtrace::trace(|frame| {
            addresses.push(frame.ip() as usize);
            addresses.len() < MAX_TRACE_FRAMES
        });
        Trace(addresses)
    }
}

/// The resolved symbols of one instruction address.
#[derive(Debug)]
struct Resolved {
    symbols: Box<[Symbol]>,
    /// Whether one of them is where std starts running the program's code
    /// ([`RUNTIME_START`]), found once when the address is resolved.
    runtime_start: bool,
}

/// Hashes an instruction address for the cache: addresses are not chosen by anyone who could
/// make them collide, so one multiplication does (instead of SipHash's rounds).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_usize(&mut self, address: usize) {
        // An odd multiplier keeps distinct addresses distinct in the low bits (the bucket)
        // and mixes them into the high ones (the tag the table compares first).
        self.0 = (address as u64).wrapping_mul(0x9e_37_79_b9_7f_4a_7c_15);
    }
}

/// Resolved symbols by instruction address.
type Cache = HashMap<usize, Arc<Resolved>, BuildHasherDefault<AddressHasher>>;

/// Resolved symbols of an instruction address, cached for the life of the process.
static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(Cache::default()));

/// Addresses cached at most (each distinct address of every trace reported).
const MAX_CACHED_ADDRESSES: usize = 65_536;

/// Where std starts running the program's code (`main`, a thread's closure): the frames
/// from this one outwards are the runtime's (`lang_start`, libc's `__libc_start_main`,
/// `start_thread`, `clone3`), which std's own short backtraces leave out too.
const RUNTIME_START: &str = "__rust_begin_short_backtrace";

/// Resolves a trace, innermost frame first, up to the frame where std starts running the
/// program's code (the frames outside it are the runtime's and are neither resolved nor
/// reported, so the first report does not load the C library's debug information).
#[cfg(feature = "tracing")]
pub(crate) fn resolve(trace: &Trace) -> Vec<Symbol> {
    resolve_shared(trace)
        .iter()
        .flat_map(|resolved| resolved.symbols.iter().cloned())
        .collect()
}

/// Resolves a trace as `resolve` does, each address's symbols as the cache holds them
/// (nothing is copied).
fn resolve_shared(trace: &Trace) -> Vec<Arc<Resolved>> {
    let frames = &trace.0;
    // One lock for the addresses already resolved; the others are resolved without it.
    let mut resolved: Vec<Option<Arc<Resolved>>> = {
        let cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        frames
            .iter()
            .map(|address| cache.get(address).cloned())
            .collect()
    };
    let mut kept = Vec::with_capacity(frames.len());
    let mut fresh = Vec::new();
    for (&address, slot) in frames.iter().zip(&mut resolved) {
        let found = match slot.take() {
            Some(found) => found,
            None => {
                let found = Arc::new(resolve_address(address));
                fresh.push((address, Arc::clone(&found)));
                found
            }
        };
        if found.runtime_start {
            break;
        }
        kept.push(found);
    }
    if !fresh.is_empty() {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        for (address, found) in fresh {
            if cache.len() >= MAX_CACHED_ADDRESSES {
                break;
            }
            cache.insert(address, found);
        }
    }
    kept
}

/// Resolves a trace and turns it into report frames (see [`frames_of`]), reading the
/// symbols where the cache holds them.
pub(crate) fn resolve_to_frames(
    trace: &Trace,
    in_app: &InApp,
    scopes: Vec<SiteScope>,
    spans: Vec<CapturedScope>,
) -> Vec<Frame> {
    let resolved = resolve_shared(trace);
    let symbols: Vec<&Symbol> = resolved
        .iter()
        .flat_map(|resolved| resolved.symbols.iter())
        .collect();
    // `resolve_shared` stops before the runtime's frames.
    frames_of(&symbols, None, in_app, scopes, spans)
}

/// The symbols of one address (several when functions were inlined there).
fn resolve_address(address: usize) -> Resolved {
    let mut found = Vec::new();
    backtrace::resolve(address as *mut std::ffi::c_void, |symbol| {
        found.push(Symbol {
            function: symbol.name().map_or_else(
                || Arc::from("<unknown>"),
                |name| Arc::from(format!("{name:#}")),
            ),
            file: symbol
                .filename()
                .map(|path| Arc::from(path.display().to_string())),
            line: symbol.lineno(),
            in_app_by_default: None,
        });
    });
    if found.is_empty() {
        found.push(Symbol {
            function: Arc::from("<unknown>"),
            file: None,
            line: None,
            in_app_by_default: None,
        });
    }
    let rules = InApp::default();
    for symbol in &mut found {
        symbol.in_app_by_default = Some(rules.is_in_app(&symbol.function, symbol.file.as_deref()));
    }
    let runtime_start = found
        .iter()
        .any(|symbol| symbol.function.contains(RUNTIME_START));
    Resolved {
        symbols: found.into(),
        runtime_start,
    }
}

/// Loads the executable's debug information now, on a background thread, so that the first
/// report does not pay for it. Returns at once.
pub fn warm_up() {
    let _ = std::thread::Builder::new()
        .name("safe-report-warm-up".to_owned())
        .spawn(|| {
            let trace = Trace::capture();
            let _ = resolve_shared(&trace);
        });
}

/// Which frames are application code: function paths starting with an included prefix
/// (and no excluded one). Without included prefixes, everything that is not a well-known
/// library, not the standard library and not a registry crate is application code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InApp {
    include: Vec<String>,
    exclude: Vec<String>,
}

/// Function path prefixes of code that is never the application's.
const LIBRARY_PREFIXES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "backtrace::",
    "safe_report::",
    "tokio::",
    "futures::",
    "futures_util::",
    "futures_core::",
    "hyper::",
    "hyper_util::",
    "tower::",
    "tower_http::",
    "axum::",
    "axum_core::",
    "http::",
    "tracing::",
    "tracing_core::",
    "tracing_subscriber::",
    "anyhow::",
    "eyre::",
    "test::",
    "__rust",
    "___rust",
    "rust_begin_unwind",
    "main",
    "_start",
    "__libc_start",
    "start_thread",
    "clone",
];

impl InApp {
    /// Application code is what starts with one of `prefixes` (crate names or paths, such
    /// as `shop` or `shop::checkout`).
    pub fn include<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include.extend(
            prefixes
                .into_iter()
                .map(|prefix| normalise_prefix(prefix.into())),
        );
        self
    }

    /// Code that starts with one of `prefixes` is not application code, even if included.
    pub fn exclude<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude.extend(
            prefixes
                .into_iter()
                .map(|prefix| normalise_prefix(prefix.into())),
        );
        self
    }

    /// Whether these are the default rules (no prefix included or excluded).
    fn is_default(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether a frame is application code.
    pub fn is_in_app(&self, function: &str, file: Option<&str>) -> bool {
        let path = subject_path(function);
        if self
            .exclude
            .iter()
            .any(|prefix| path.starts_with(prefix.as_str()))
        {
            return false;
        }
        if !self.include.is_empty() {
            return self
                .include
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()));
        }
        let library_file = file.is_some_and(is_library_file);
        !library_file
            && !LIBRARY_PREFIXES
                .iter()
                .any(|prefix| path.starts_with(prefix))
    }
}

/// `shop` means the crate `shop`: `shop::`.
fn normalise_prefix(prefix: String) -> String {
    if prefix.ends_with("::") || prefix.contains("::") {
        prefix
    } else {
        format!("{prefix}::")
    }
}

/// The path a function belongs to: for `<T as Trait>::method` and `<T>::method`, `T`.
fn subject_path(function: &str) -> &str {
    let Some(rest) = function.strip_prefix('<') else {
        return function;
    };
    let end = rest
        .find(" as ")
        .or_else(|| rest.find('>'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Functions through which a panic starts: a panic's trace has the hook and these on top
/// (innermost), then the code that panicked.
fn is_panic_entry(function: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::panicking::begin_panic",
        "std::panicking::rust_panic_with_hook",
        "std::rt::begin_panic",
        "std::panic::panic_any",
        "std::sys::backtrace::__rust_end_short_backtrace",
        "rust_begin_unwind",
        "__rustc::rust_begin_unwind",
        "core::panicking::",
        "core::result::unwrap_failed",
        "core::option::unwrap_failed",
        "core::option::expect_failed",
        "core::cell::panic_already",
    ];
    PREFIXES.iter().any(|prefix| function.starts_with(prefix))
}

/// Functions of this crate's capture: a trace taken by it starts with these.
fn is_capture_machinery(function: &str) -> bool {
    function.starts_with("backtrace::")
        || function.starts_with("safe_report::runtime::")
        || function.starts_with("safe_report::hook::")
        || function.starts_with("<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call")
        || function.starts_with("std::sys::backtrace::")
}

/// Turns a resolved trace (innermost first) into report frames (outermost first): the
/// capture and panic machinery at the top is dropped, application frames are marked, and
/// the registered variables are attached to the frames of the functions that registered
/// them.
#[cfg(any(feature = "tracing", feature = "anyhow", feature = "eyre", test))]
pub(crate) fn to_frames(
    symbols: &[Symbol],
    in_app: &InApp,
    scopes: Vec<CapturedScope>,
) -> Vec<Frame> {
    let symbols: Vec<&Symbol> = symbols.iter().collect();
    let runtime_start = symbols
        .iter()
        .position(|symbol| symbol.function.contains(RUNTIME_START));
    frames_of(&symbols, runtime_start, in_app, scopes, Vec::new())
}

/// As [`to_frames`], from references to the symbols, with two independent lists of scopes
/// (registered variables, entered spans), each attached in its own order.
///
/// `runtime_start` is the index of the first symbol of the runtime (see [`RUNTIME_START`]),
/// if the symbols reach that far.
fn frames_of(
    symbols: &[&Symbol],
    runtime_start: Option<usize>,
    in_app: &InApp,
    scopes: Vec<impl FrameScope>,
    spans: Vec<CapturedScope>,
) -> Vec<Frame> {
    // Innermost frames down to the end of the panic's entry (the hook, `begin_panic`,
    // `panic_fmt`, `unwrap_failed`, …) are not the application's; a trace taken by this
    // crate starts with the capture itself.
    let search = symbols.len().min(64);
    let cut = match symbols[..search]
        .iter()
        .position(|symbol| is_panic_entry(&symbol.function))
    {
        Some(first) => {
            let mut last = first;
            while last + 1 < symbols.len() && is_panic_entry(&symbols[last + 1].function) {
                last += 1;
            }
            last + 1
        }
        None => symbols
            .iter()
            .position(|symbol| !is_capture_machinery(&symbol.function))
            .unwrap_or(symbols.len()),
    };
    // The runtime's frames outside `__rust_begin_short_backtrace` are left out (a trace
    // read from a std `Backtrace`'s text still has them).
    let end = runtime_start.unwrap_or(symbols.len()).max(cut);
    // Outermost first, without what says nothing about the failure: the frames outside
    // the innermost catch site (the catcher's), this crate's pass-through frames and, at
    // the innermost end, the conversions of an error value. This happens before variables
    // are attached, so a scope registered outside the catch site still gets a frame.
    let mut kept: Vec<&Symbol> = symbols[cut..end].iter().rev().copied().collect();
    if let Some(mark) = kept
        .iter()
        .rposition(|symbol| symbol.function.starts_with(CATCH_SITE))
    {
        kept.drain(..=mark);
    }
    kept.retain(|symbol| !is_pass_through(&symbol.function));
    // std calls `main` and a thread's closure through `FnOnce::call_once`.
    let shims = kept
        .iter()
        .take_while(|symbol| symbol.function.starts_with("core::ops::function::"))
        .count();
    if shims < kept.len() {
        kept.drain(..shims);
    }
    while kept.len() > 1
        && kept
            .last()
            .is_some_and(|symbol| is_conversion(&symbol.function))
    {
        kept.pop();
    }
    let mut frames: Vec<Frame> = kept
        .into_iter()
        .map(|symbol| Frame {
            function: String::from(&*symbol.function),
            in_app: match symbol.in_app_by_default {
                Some(decided) if in_app.is_default() => decided,
                _ => in_app.is_in_app(&symbol.function, symbol.file.as_deref()),
            },
            file: symbol.file.as_deref().map(String::from),
            line: symbol.line,
            column: None,
            vars: Vec::new(),
            sensitive_variables: None,
        })
        .collect();
    attach_scopes(&mut frames, scopes);
    attach_scopes(&mut frames, spans);
    merge_closures(&mut frames);
    frames
}

/// Where a panic happened, as the panic hook is told (`PanicHookInfo::location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PanicLocation {
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl PanicLocation {
    pub(crate) fn of(location: &std::panic::Location<'_>) -> Self {
        Self {
            file: location.file().to_owned(),
            line: location.line(),
            column: location.column(),
        }
    }
}

/// Puts a panic's location on the frame of the function that panicked: the innermost
/// application frame, when it has no file (no debug information) or the location's file
/// (the location then gives the column too). Without an application frame, a frame named
/// after the location is added, innermost. A location in library code (a registry crate,
/// the standard library) changes nothing: the application frame did not panic there.
pub(crate) fn place_location(frames: &mut Vec<Frame>, location: &PanicLocation) {
    if is_library_file(&location.file) {
        return;
    }
    match frames.iter_mut().rev().find(|frame| frame.in_app) {
        Some(frame) => {
            let same_file = match frame.file.as_deref() {
                None => true,
                Some(file) => same_source_file(file, &location.file),
            };
            if same_file {
                if frame.file.is_none() {
                    frame.file = Some(location.file.clone());
                }
                frame.line = Some(location.line);
                frame.column = Some(location.column);
            }
        }
        None => frames.push(Frame {
            function: format!("{}:{}", location.file, location.line),
            file: Some(location.file.clone()),
            line: Some(location.line),
            column: Some(location.column),
            in_app: true,
            vars: Vec::new(),
            sensitive_variables: None,
        }),
    }
}

/// Whether two names of a source file name the same file: equal, or one is the other
/// with a directory before it (debug information has absolute paths, `Location` has paths
/// relative to the workspace).
fn same_source_file(a: &str, b: &str) -> bool {
    let ends_with_dir = |long: &str, short: &str| {
        long.strip_suffix(short)
            .is_some_and(|head| head.ends_with('/') || head.ends_with('\\'))
    };
    a == b || ends_with_dir(a, b) || ends_with_dir(b, a)
}

/// Whether a source file is library code: a registry or git crate, or the standard library.
fn is_library_file(file: &str) -> bool {
    file.contains("/.cargo/registry/")
        || file.contains("/.cargo/git/")
        || file.starts_with("/rustc/")
        || file.contains("/rustlib/")
}

/// The mark of a catch site: frames outside it are the catcher's, not the failure's.
const CATCH_SITE: &str = "safe_report::hook::handled_here";

/// Functions of this crate that only pass calls through (a variables scope running its
/// closure, a catch-site mark, the web layer polling a handler, a traced error being made):
/// they say nothing about the failure.
fn is_pass_through(function: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "safe_report::runtime::scope::",
        "<safe_report::runtime::scope::",
        "safe_report::hook::handled_here",
        "safe_report::runtime::traced::Traced",
        "<safe_report::runtime::traced::Traced",
        "safe_report::integrations::",
        "<safe_report::integrations::",
    ];
    PREFIXES.iter().any(|prefix| function.starts_with(prefix)) && !function.contains("::tests::")
}

/// Where an error value is converted on its way out (`?`): the innermost frames of a trace
/// taken when a [`Traced`](super::Traced) error is made by a conversion.
fn is_conversion(function: &str) -> bool {
    (function.starts_with("<core::result::Result") && function.contains("from_residual"))
        || (function.starts_with('<') && function.contains(" as core::convert::Into<"))
        || (function.starts_with('<') && function.contains(" as core::convert::From<"))
}

/// A closure's frame right after the frame of the function it belongs to becomes one frame
/// with it, at the closure's line: a function that runs its body in a closure, as
/// `vars!(…).run(|| …)` does, shows as one frame. Variables move along.
fn merge_closures(frames: &mut Vec<Frame>) {
    let mut merged: Vec<Frame> = Vec::with_capacity(frames.len());
    for frame in frames.drain(..) {
        match merged.last_mut() {
            Some(outer)
                if outer.file == frame.file
                    && frame.function.len() > outer.function.len()
                    && function_key(&frame.function) == function_key(&outer.function) =>
            {
                outer.line = frame.line;
                outer.vars.extend(frame.vars);
                match (&mut outer.sensitive_variables, frame.sensitive_variables) {
                    (_, None) => {}
                    (Some(mine), Some(theirs)) => mine.extend(&theirs),
                    (slot @ None, Some(theirs)) => *slot = Some(theirs),
                }
            }
            _ => merged.push(frame),
        }
    }
    *frames = merged;
}

/// `crate::f::{{closure}}::{{closure}}` is `crate::f` for matching scopes to frames.
fn function_key(function: &str) -> &str {
    let mut key = function;
    while let Some(stripped) = key
        .strip_suffix("::{{closure}}")
        .or_else(|| key.strip_suffix("::{closure}"))
    {
        key = stripped;
    }
    key
}

/// A frame's variables as captured, as [`attach_scopes`] reads them.
trait FrameScope {
    /// Where the scope was registered: function, file and line.
    fn site(&self) -> (&str, &str, u32);
    /// The variables, and the names declared sensitive.
    fn into_parts(self) -> (Vec<Variable>, Option<SensitiveNames>);
}

impl FrameScope for CapturedScope {
    fn site(&self) -> (&str, &str, u32) {
        (&self.function, &self.file, self.line)
    }

    fn into_parts(self) -> (Vec<Variable>, Option<SensitiveNames>) {
        (self.vars, self.sensitive_variables)
    }
}

impl FrameScope for SiteScope {
    fn site(&self) -> (&str, &str, u32) {
        (self.site.function, self.site.file, self.site.line)
    }

    fn into_parts(self) -> (Vec<Variable>, Option<SensitiveNames>) {
        (self.vars, self.sensitive.to_names())
    }
}

/// Gives each scope (outermost first) to the next frame of its function, in order: a frame
/// of exactly that function first, else one of a closure inside it. A scope with no later
/// frame of its function joins the frame the scope before it got when that is of the same
/// function (two scopes in one function); otherwise (inlined away, or no debug
/// information) it gets a frame of its own at the place of its registration.
fn attach_scopes(frames: &mut Vec<Frame>, scopes: Vec<impl FrameScope>) {
    let mut next = 0usize;
    for scope in scopes {
        let (function, file, line) = scope.site();
        let key = function_key(function);
        let later = |exact: bool| {
            frames[next..]
                .iter()
                .position(|frame| {
                    if exact {
                        frame.function == function
                    } else {
                        function_key(&frame.function) == key
                    }
                })
                .map(|offset| next + offset)
        };
        let found = later(true).or_else(|| later(false)).or_else(|| {
            (next > 0 && function_key(&frames[next - 1].function) == key).then(|| next - 1)
        });
        let index = match found {
            Some(index) => index,
            None => {
                let own = Frame {
                    function: function.to_owned(),
                    file: Some(file.to_owned()),
                    line: Some(line),
                    column: None,
                    in_app: true,
                    vars: Vec::new(),
                    sensitive_variables: None,
                };
                frames.insert(next, own);
                next
            }
        };
        let frame = &mut frames[index];
        let (vars, sensitive_variables) = scope.into_parts();
        if frame.vars.is_empty() {
            frame.vars = vars;
        } else {
            frame.vars.extend(vars);
        }
        match (&mut frame.sensitive_variables, sensitive_variables) {
            (_, None) => {}
            (Some(mine), Some(theirs)) => mine.extend(&theirs),
            (slot @ None, Some(theirs)) => *slot = Some(theirs),
        }
        next = index + 1;
    }
}

#[cfg(any(feature = "anyhow", feature = "eyre", test))]
/// Parses the text of a `std::backtrace::Backtrace` (the form `{:#}` and `{}` print) into
/// symbols, innermost first. std offers no other way to read its frames on stable Rust.
pub(crate) fn parse_std_backtrace(text: &str) -> Vec<Symbol> {
    static FRAME: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"^\s*\d+: (.+?)\s*$").expect("valid regex"));
    static AT: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^\s+at (.+?):(\d+)(?::\d+)?\s*$").expect("valid regex")
    });
    let mut symbols: Vec<Symbol> = Vec::new();
    for line in text.lines() {
        if let Some(at) = AT.captures(line) {
            if let Some(last) = symbols.last_mut()
                && last.file.is_none()
            {
                last.file = Some(Arc::from(&at[1]));
                last.line = at[2].parse().ok();
            }
        } else if let Some(frame) = FRAME.captures(line) {
            let function = frame[1].to_owned();
            // std prints `name::h0123…` in `{}`; the hash is noise.
            let function = match function.rfind("::h") {
                Some(index)
                    if function.len() - index == 19
                        && function[index + 3..].bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    function[..index].to_owned()
                }
                _ => function,
            };
            symbols.push(Symbol {
                function: function.into(),
                file: None,
                line: None,
                in_app_by_default: None,
            });
        }
    }
    symbols
}

/// A variable for a frame made from a captured scope's variable (used by tests).
#[cfg(test)]
fn var(name: &'static str, value: &str) -> Variable {
    Variable::new(name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(function: &str) -> Symbol {
        Symbol {
            function: function.into(),
            file: Some("src/main.rs".into()),
            line: Some(1),
            in_app_by_default: None,
        }
    }

    #[test]
    fn panic_machinery_is_dropped_and_application_frames_marked() {
        let symbols = [
            symbol("backtrace::backtrace::trace"),
            symbol("safe_report::hook::hook"),
            symbol("std::panicking::rust_panic_with_hook"),
            symbol("std::panicking::begin_panic_handler::{{closure}}"),
            symbol("std::sys::backtrace::__rust_end_short_backtrace"),
            symbol("__rustc::rust_begin_unwind"),
            symbol("core::panicking::panic_fmt"),
            symbol("shop::charge"),
            symbol("safe_report::runtime::scope::Scope::run"),
            symbol("shop::checkout"),
            symbol("std::rt::lang_start::{{closure}}"),
            symbol("std::sys::backtrace::__rust_begin_short_backtrace"),
            symbol("std::rt::lang_start_internal"),
            symbol("main"),
            symbol("__libc_start_call_main"),
            symbol("_start"),
        ];
        let frames = to_frames(&symbols, &InApp::default(), Vec::new());
        let functions: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            functions,
            [
                "std::rt::lang_start::{{closure}}",
                "shop::checkout",
                "shop::charge"
            ]
        );
        let in_app: Vec<bool> = frames.iter().map(|f| f.in_app).collect();
        assert_eq!(in_app, [false, true, true]);
    }

    fn at(function: &str, line: u32) -> Symbol {
        Symbol {
            function: function.into(),
            file: Some("src/shop.rs".into()),
            line: Some(line),
            in_app_by_default: None,
        }
    }

    fn location(file: &str, line: u32) -> PanicLocation {
        PanicLocation {
            file: file.to_owned(),
            line,
            column: 5,
        }
    }

    #[test]
    fn the_panic_location_goes_to_the_innermost_application_frame_without_a_file() {
        // A release build without debug information: names, no files.
        let bare = |function: &str| Symbol {
            file: None,
            line: None,
            ..symbol(function)
        };
        let symbols = [
            bare("core::panicking::panic_fmt"),
            bare("shop::charge"),
            bare("shop::checkout"),
        ];
        let mut frames = to_frames(&symbols, &InApp::default(), Vec::new());
        place_location(&mut frames, &location("src/shop.rs", 168));
        let charge = frames.last().expect("frames");
        assert_eq!(charge.function, "shop::charge");
        assert_eq!(
            (charge.file.as_deref(), charge.line, charge.column),
            (Some("src/shop.rs"), Some(168), Some(5))
        );
        assert_eq!((frames[0].file.as_deref(), frames[0].line), (None, None));
    }

    #[test]
    fn the_panic_location_refines_a_resolved_frame_of_the_same_file_only() {
        let resolved = |file: &str| Symbol {
            file: Some(file.into()),
            line: Some(160),
            ..symbol("shop::charge")
        };
        let mut frames = to_frames(
            &[resolved("/src/app/src/shop.rs")],
            &InApp::default(),
            vec![],
        );
        place_location(&mut frames, &location("src/shop.rs", 168));
        assert_eq!((frames[0].line, frames[0].column), (Some(168), Some(5)));
        assert_eq!(frames[0].file.as_deref(), Some("/src/app/src/shop.rs"));

        let mut frames = to_frames(&[resolved("src/other.rs")], &InApp::default(), vec![]);
        place_location(&mut frames, &location("src/shop.rs", 168));
        assert_eq!((frames[0].line, frames[0].column), (Some(160), None));
    }

    #[test]
    fn without_an_application_frame_the_panic_location_gets_a_frame_of_its_own() {
        let mut frames = Vec::new();
        place_location(&mut frames, &location("examples/demo.rs", 168));
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].function, "examples/demo.rs:168");
        assert_eq!(frames[0].file.as_deref(), Some("examples/demo.rs"));
        assert_eq!((frames[0].line, frames[0].column), (Some(168), Some(5)));
        assert!(frames[0].in_app);

        // A panic inside a library: its location is not the application's.
        let mut frames = Vec::new();
        let library = "/home/u/.cargo/registry/src/index/serde_json-1.0.0/src/de.rs";
        place_location(&mut frames, &location(library, 3));
        assert!(frames.is_empty());
    }

    fn scope(function: &str, vars: Vec<Variable>) -> CapturedScope {
        CapturedScope {
            function: function.to_owned(),
            file: "src/shop.rs".to_owned(),
            line: 1,
            vars,
            sensitive_variables: None,
        }
    }

    #[test]
    fn a_function_running_its_body_in_a_scope_shows_as_one_frame_at_the_inner_line() {
        // Innermost first: charge's closure (line 12) run by its scope, called from charge
        // (line 10), itself called from checkout's closure (line 5) run by checkout's scope.
        let symbols = [
            at("core::panicking::panic_fmt", 1),
            at("shop::charge::{{closure}}", 12),
            at(
                "safe_report::runtime::scope::Scope<[safe_report::runtime::scope::Var; 2]>::run",
                280,
            ),
            at("shop::charge", 10),
            at("shop::checkout::{{closure}}", 5),
            at(
                "safe_report::runtime::scope::Scope<[safe_report::runtime::scope::Var; 1]>::run",
                280,
            ),
            at("shop::checkout", 3),
        ];
        let frames = to_frames(
            &symbols,
            &InApp::default(),
            vec![
                scope("shop::checkout", vec![var("cart", "c1")]),
                scope("shop::charge", vec![var("card_number", "4111111111111111")]),
            ],
        );
        let shown: Vec<(&str, Option<u32>, Vec<&str>)> = frames
            .iter()
            .map(|f| {
                let names = f.vars.iter().map(|v| v.name.as_ref()).collect();
                (f.function.as_str(), f.line, names)
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("shop::checkout", Some(5), vec!["cart"]),
                ("shop::charge", Some(12), vec!["card_number"]),
            ]
        );
    }

    #[test]
    fn frames_outside_the_catch_site_and_error_conversions_are_left_out() {
        let symbols = [
            at("safe_report::runtime::traced::Traced<E>::new", 40),
            at(
                "<safe_report::runtime::traced::Traced<E> as core::convert::From<E>>::from",
                50,
            ),
            at(
                "<core::result::Result<T,F> as core::ops::try_trait::FromResidual<core::result::Result<core::convert::Infallible,E>>>::from_residual",
                2000,
            ),
            at("shop::charge", 10),
            at("shop::handler", 20),
            at("shop::serve::{{closure}}", 30),
            at("safe_report::hook::handled_here", 250),
            at("shop::serve", 29),
            at("tokio::runtime::task::poll", 1),
        ];
        let frames = to_frames(&symbols, &InApp::default(), Vec::new());
        let functions: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            functions,
            ["shop::serve::{{closure}}", "shop::handler", "shop::charge"]
        );
    }

    #[test]
    fn recursion_and_closures_of_other_functions_stay_separate_frames() {
        let symbols = [
            at("shop::walk", 8),
            at("shop::walk::{{closure}}", 9),
            at("shop::walk", 8),
            at("core::iter::traits::iterator::Iterator::for_each", 1),
            at("shop::visit::{{closure}}", 4),
            at("shop::other", 2),
        ];
        let frames = to_frames(&symbols, &InApp::default(), Vec::new());
        let functions: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            functions,
            [
                "shop::other",
                "shop::visit::{{closure}}",
                "core::iter::traits::iterator::Iterator::for_each",
                "shop::walk",
                "shop::walk"
            ]
        );
        // The inner walk's frame took its closure's line.
        assert_eq!(frames[3].line, Some(9));
    }

    #[test]
    fn a_decision_made_at_resolution_stands_for_the_default_rules_only() {
        let mut decided = symbol("shop::charge");
        decided.in_app_by_default = Some(false);
        let symbols = [decided];
        let by_default = to_frames(&symbols, &InApp::default(), Vec::new());
        assert!(!by_default[0].in_app);
        let included = to_frames(&symbols, &InApp::default().include(["shop"]), Vec::new());
        assert!(included[0].in_app);
    }

    #[test]
    fn include_and_exclude_prefixes_decide_application_code() {
        let rules = InApp::default().include(["shop"]).exclude(["shop::vendor"]);
        assert!(rules.is_in_app("shop::charge", None));
        assert!(rules.is_in_app("<shop::Cart as core::fmt::Debug>::fmt", None));
        assert!(!rules.is_in_app("shop::vendor::client", None));
        assert!(!rules.is_in_app("shopping::x", None));
        assert!(
            !InApp::default().is_in_app("serde::de::x", Some("/home/u/.cargo/registry/src/x.rs"))
        );
    }

    #[test]
    fn scopes_go_to_the_frames_of_their_functions_in_order() {
        let mut frames: Vec<Frame> = ["shop::main", "shop::step", "shop::step", "shop::charge"]
            .iter()
            .map(|f| Frame::new(*f, "src/lib.rs", 1))
            .collect();
        let scope = |function: &str, name: &'static str| CapturedScope {
            function: function.to_owned(),
            file: "src/lib.rs".to_owned(),
            line: 9,
            vars: vec![var(name, "x")],
            sensitive_variables: None,
        };
        attach_scopes(
            &mut frames,
            vec![
                scope("shop::step", "a"),
                scope("shop::step::{{closure}}", "b"),
                scope("shop::charge", "c"),
                scope("shop::inlined", "d"),
            ],
        );
        let names: Vec<Vec<&str>> = frames
            .iter()
            .map(|f| f.vars.iter().map(|v| v.name.as_ref()).collect())
            .collect();
        // The closure's scope goes to the next frame of the function (recursion).
        assert_eq!(names, [vec![], vec!["a"], vec!["b"], vec!["c"], vec!["d"]]);
        assert_eq!(frames[4].function, "shop::inlined");
    }

    #[test]
    fn recursive_frames_each_get_their_own_scope() {
        let mut frames: Vec<Frame> = [
            "app::level",
            "app::level::{{closure}}",
            "app::level",
            "app::level::{{closure}}",
            "app::level",
        ]
        .iter()
        .map(|f| Frame::new(*f, "src/lib.rs", 1))
        .collect();
        let scope = |name: &'static str| CapturedScope {
            function: "app::level".to_owned(),
            file: "src/lib.rs".to_owned(),
            line: 9,
            vars: vec![var(name, "x")],
            sensitive_variables: None,
        };
        attach_scopes(&mut frames, vec![scope("d0"), scope("d1"), scope("d2")]);
        let names: Vec<Vec<&str>> = frames
            .iter()
            .map(|f| f.vars.iter().map(|v| v.name.as_ref()).collect())
            .collect();
        // The closure's scope goes to the next frame of the function (recursion).
        assert_eq!(names, [vec!["d0"], vec![], vec!["d1"], vec![], vec!["d2"]]);
    }

    #[test]
    fn std_backtrace_text_is_parsed() {
        let text = "   0: anyhow::error::<impl anyhow::Error>::msg\n             at /x/anyhow/src/error.rs:83:36\n   1: shop::charge::h0123456789abcdef\n             at ./src/main.rs:10:5\n   2: main\n";
        let symbols = parse_std_backtrace(text);
        assert_eq!(symbols.len(), 3);
        assert_eq!(&*symbols[1].function, "shop::charge");
        assert_eq!(symbols[1].file.as_deref(), Some("./src/main.rs"));
        assert_eq!(symbols[1].line, Some(10));
        assert_eq!(symbols[2].file, None);
    }
}
