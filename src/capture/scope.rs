//! Frame variables: named values attached to the running code, read by the panic hook and by
//! error capture.
//!
//! Rust cannot read a frame's locals, so a program names the values worth reporting:
//!
//! ```
//! fn charge(card_number: &str, order_id: &str) -> u64 {
//!     safe_report::vars!(card_number, order_id)
//!         .sensitive(&["card_number"])
//!         .run(|| {
//!             // … code that may panic or fail …
//!             42
//!         })
//! }
//! # assert_eq!(charge("4111111111111111", "ord_42"), 42);
//! ```
//!
//! and for async code, across `.await` on any runtime:
//!
//! ```
//! async fn charge(card_number: String, order_id: String) -> u64 {
//!     safe_report::vars!(card_number, order_id)
//!         .sensitive(&["card_number"])
//!         .run_async(async {
//!             // … awaits …
//!             42
//!         })
//!         .await
//! }
//! ```
//!
//! # Design, and why it is sound
//!
//! Each thread keeps a stack of *scopes* (a shadow stack): a scope names the function, its
//! source location, references to the registered values and the names declared sensitive.
//! A scope is pushed when [`Scope::run`] calls its closure (or, for
//! [`Scope::run_async`], each time the future is polled) and popped when that call returns
//! or unwinds. The scope's record lives on the library's own stack frame inside that call,
//! and the pop is done by a guard that is a local of the same library function, never handed
//! to user code. So:
//!
//! - an entry is on the stack exactly while the call that pushed it is running: user code
//!   cannot `mem::forget` or leak anything that would leave a dangling entry (the reason
//!   guard-returning APIs like the old `thread::scoped` were unsound);
//! - the borrowed values outlive the call (the borrow checker sees them borrowed by the
//!   `Scope` for the whole call);
//! - an async scope is registered only during a `poll`, on the thread doing the poll, so
//!   interleaved tasks, tasks moving between threads and futures dropped between polls leave
//!   nothing behind;
//! - the panic hook runs on the panicking thread before unwinding starts, while every scope
//!   of that thread is still alive.
//!
//! Values are read lazily, only when something is reported, into a
//! [`CapturedValue`] (structured data in two blocks, read in place by
//! the filter and the formatter). Values of standard types (strings, numbers, booleans,
//! `Option`s, `Vec`s and maps of them, `serde_json::Value`) are captured by this crate's
//! own code, which cannot panic. Other values go through their
//! `Serialize` impl (structured, so nested keys can be filtered) or, without one, their
//! `Debug` impl; that is user code, and a panic inside a panic hook aborts the process, so
//! in the hook these are captured on a helper thread (`std::thread::scope`) under
//! `catch_unwind` while the panicking thread waits, which is why registered values must be
//! `Sync`. A value whose formatting panics becomes `Error in formatting: …`. Names declared
//! sensitive (in the scope or in any scope it runs inside, as Django's
//! `@sensitive_variables` covers the functions a function calls) are never formatted at
//! all.
//!
//! Registering costs a few nanoseconds: a pointer write to a thread-local on entry and on
//! exit, no formatting and no allocation.
//!
//! This module is the crate's only `unsafe` code: turning the thread-local's raw pointers
//! back into references. Miri runs its tests (see `.ci/run`).
#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use serde_json::Value;

use super::value::{Builder, CapturedValue};
use super::{SensitiveNames, Variable};
use crate::filter::DEFAULT_SUBSTITUTE;

/// A registered variable: a name, a reference to its value and how to capture it.
#[derive(Clone, Copy)]
pub struct Var<'a> {
    name: &'static str,
    /// The value, type-erased; `capture` knows its type.
    data: *const (),
    capture: unsafe fn(*const (), &mut Builder) -> CapturedValue,
    runs_user_code: bool,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> Var<'a> {
    /// A variable named `name` referring to `value`, captured as `how` says (see
    /// [`vars!`](crate::vars), which picks `how` from the value's type).
    pub fn new<T: Sync>(name: &'static str, value: &'a T, how: Capture<T>) -> Self {
        Self {
            name,
            data: (value as *const T).cast(),
            capture: how.erased,
            runs_user_code: how.runs_user_code,
            _borrow: PhantomData,
        }
    }

    /// The name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The value as captured; `builder` lends its buffers.
    fn capture(&self, builder: &mut Builder) -> CapturedValue {
        // SAFETY: `data` was made from a `&'a T` in `new`, `capture` is the function made
        // for that `T` by `Capture<T>`, and a `Var<'a>` is only used while `'a` lasts (by
        // the borrow checker, or, for the registered copies, by `with_pending`).
        unsafe { (self.capture)(self.data, builder) }
    }
}

// SAFETY: a `Var<'a>` stands for a `&'a T` with `T: Sync` (required by `Var::new`), and
// `&T` is `Send` and `Sync` exactly when `T: Sync`; the function pointer is plain data.
unsafe impl Send for Var<'_> {}
// SAFETY: as above.
unsafe impl Sync for Var<'_> {}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never formats the value: it may be sensitive.
        f.debug_struct("Var")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How a value of type `T` is captured: by this crate's code ([`Plain`] types), through
/// `Serialize`, or through `Debug`.
pub struct Capture<T: ?Sized> {
    erased: unsafe fn(*const (), &mut Builder) -> CapturedValue,
    runs_user_code: bool,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Clone for Capture<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Capture<T> {}

impl<T: Plain + Sync> Capture<T> {
    /// By this crate's own code: no user code runs.
    pub fn plain() -> Self {
        unsafe fn erased<T: Plain>(data: *const (), builder: &mut Builder) -> CapturedValue {
            // SAFETY: the caller (`Var::capture`) passes a pointer made from a live `&T`.
            unsafe { &*data.cast::<T>() }.to_captured(builder)
        }
        Self {
            erased: erased::<T>,
            runs_user_code: false,
            _type: PhantomData,
        }
    }
}

impl<T: Serialize + Sync> Capture<T> {
    /// Through `Serialize`, as structured data.
    pub fn serialize() -> Self {
        unsafe fn erased<T: Serialize>(data: *const (), builder: &mut Builder) -> CapturedValue {
            // SAFETY: the caller (`Var::capture`) passes a pointer made from a live `&T`.
            let value = unsafe { &*data.cast::<T>() };
            match serde_json::to_value(value) {
                Ok(value) => {
                    builder.value(&value);
                    builder.finish()
                }
                Err(error) => CapturedValue::from(format!("Error in formatting: {error}")),
            }
        }
        Self {
            erased: erased::<T>,
            runs_user_code: true,
            _type: PhantomData,
        }
    }
}

impl<T: fmt::Debug + Sync> Capture<T> {
    /// Through `Debug`, as text.
    pub fn debug() -> Self {
        unsafe fn erased<T: fmt::Debug>(data: *const (), _: &mut Builder) -> CapturedValue {
            // SAFETY: the caller (`Var::capture`) passes a pointer made from a live `&T`.
            CapturedValue::from(format!("{:?}", unsafe { &*data.cast::<T>() }))
        }
        Self {
            erased: erased::<T>,
            runs_user_code: true,
            _type: PhantomData,
        }
    }
}

/// Which names a scope declares sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// None.
    None,
    /// These names.
    Names(&'static [&'static str]),
    /// Every variable of this scope and of the scopes it runs.
    All,
}

impl Sensitivity {
    fn covers(self, name: &str) -> bool {
        match self {
            Sensitivity::None => false,
            Sensitivity::Names(names) => names.contains(&name),
            Sensitivity::All => true,
        }
    }

    pub(crate) fn to_names(self) -> Option<SensitiveNames> {
        match self {
            Sensitivity::None => None,
            Sensitivity::Names(names) => Some(SensitiveNames::names(names.iter().copied())),
            Sensitivity::All => Some(SensitiveNames::All),
        }
    }
}

/// Variables of one frame, ready to be registered for a call ([`run`](Self::run)) or a
/// future ([`run_async`](Self::run_async)). Made by [`vars!`](crate::vars).
#[derive(Debug)]
#[must_use = "a scope registers nothing until `run` or `run_async` is called"]
pub struct Scope<V> {
    site: Site,
    /// The variables, an array `[Var<'a>; N]`.
    vars: V,
    sensitive: Sensitivity,
}

/// Where a scope was declared.
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
pub struct Site {
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
}

impl<'a, const N: usize> Scope<[Var<'a>; N]> {
    /// A scope for `function` at `file:line` with these variables (see [`vars!`](crate::vars)).
    #[doc(hidden)]
    pub fn new(site: Site, vars: [Var<'a>; N]) -> Self {
        Self {
            site,
            vars,
            sensitive: Sensitivity::None,
        }
    }

    /// Declares these variables sensitive, here and in every scope run inside this one
    /// (Django's `@sensitive_variables("card_number")`). They are never formatted.
    pub fn sensitive(mut self, names: &'static [&'static str]) -> Self {
        self.sensitive = Sensitivity::Names(names);
        self
    }

    /// Declares every variable sensitive, here and in every scope run inside this one
    /// (Django's `@sensitive_variables()`).
    pub fn sensitive_all(mut self) -> Self {
        self.sensitive = Sensitivity::All;
        self
    }

    /// Runs `f` with these variables registered.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let entry = Entry {
            site: self.site,
            vars: &self.vars,
            sensitive: self.sensitive,
            parent: STACK.get(),
        };
        let _registered = push(&entry);
        f()
    }

    /// Wraps `future` so that these variables are registered while it is polled.
    pub fn run_async<F: Future>(self, future: F) -> Scoped<F, [Var<'a>; N]> {
        Scoped {
            scope: self,
            future,
        }
    }
}

pin_project_lite::pin_project! {
    /// A future with variables registered while it is polled ([`Scope::run_async`]).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F, V> {
        scope: Scope<V>,
        #[pin]
        future: F,
    }
}

impl<'a, F: Future, const N: usize> Future for Scoped<F, [Var<'a>; N]> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let entry = Entry {
            site: this.scope.site,
            vars: &this.scope.vars,
            sensitive: this.scope.sensitive,
            parent: STACK.get(),
        };
        let _registered = push(&entry);
        this.future.poll(cx)
    }
}

/// One registered scope, on the stack of the call that registered it.
struct Entry<'a> {
    site: Site,
    vars: &'a [Var<'a>],
    sensitive: Sensitivity,
    /// The scope this one runs inside (null at the bottom).
    parent: *const Entry<'static>,
}

thread_local! {
    /// The innermost registered scope of this thread, or null.
    static STACK: Cell<*const Entry<'static>> = const { Cell::new(std::ptr::null()) };
}

/// Pops the entry on drop (a normal return or unwinding): a local of `run`/`poll`, never
/// given to user code.
struct Registered {
    parent: *const Entry<'static>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        STACK.set(self.parent);
    }
}

fn push(entry: &Entry<'_>) -> Registered {
    // The lifetime is erased for storage; `Registered` (dropped before `entry`) takes the
    // pointer out again, so it is never used after `entry` is gone.
    let pointer = (entry as *const Entry<'_>).cast::<Entry<'static>>();
    let parent = STACK.replace(pointer);
    Registered { parent }
}

/// The registered scopes of this thread, outermost first, with the values not yet read.
struct Pending<'s> {
    scopes: Vec<PendingScope<'s>>,
}

struct PendingScope<'s> {
    site: Site,
    sensitive: Sensitivity,
    vars: &'s [Var<'s>],
}

/// Calls `f` with this thread's registered scopes.
///
/// The references handed to `f` must not outlive the call: they point into stack frames
/// that are alive now because this thread is executing `f` inside them.
fn with_pending<R>(f: impl for<'s> FnOnce(Pending<'s>) -> R) -> R {
    let mut scopes = Vec::with_capacity(16);
    let mut pointer = STACK.get();
    // The entries are read in place: each scope borrows its variables from its entry.
    while !pointer.is_null() {
        // SAFETY: a non-null pointer on this thread's stack was pushed by `push` for an
        // `Entry` that lives in a call still running on this thread (an enclosing frame of
        // this one), and is removed by `Registered::drop` before that call returns or
        // unwinds. So the entry and everything it borrows are alive for the whole of `f`,
        // which runs inside all of those calls; `Pending<'s>` cannot escape `f`.
        let entry: &Entry<'_> = unsafe { &*pointer };
        scopes.push(PendingScope {
            site: entry.site,
            sensitive: entry.sensitive,
            vars: entry.vars,
        });
        pointer = entry.parent;
    }
    scopes.reverse();
    f(Pending { scopes })
}

/// A frame's variables as captured: the site of the scope and its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedScope {
    /// The function that registered the scope (`crate::module::function`).
    pub function: String,
    /// The source file of the registration.
    pub file: String,
    /// The line of the registration.
    pub line: u32,
    /// The variables; declared-sensitive ones carry the substitute, never their value.
    pub vars: Vec<Variable>,
    /// The names this scope declared sensitive (its callees inherit them).
    pub sensitive_variables: Option<SensitiveNames>,
}

impl From<SiteScope> for CapturedScope {
    fn from(scope: SiteScope) -> Self {
        Self {
            function: scope.site.function.to_owned(),
            file: scope.site.file.to_owned(),
            line: scope.site.line,
            vars: scope.vars,
            sensitive_variables: scope.sensitive.to_names(),
        }
    }
}

/// A frame's variables as captured, with the scope's site and declaration as registered:
/// the function's and file's names are only copied if a report needs them (most scopes
/// join a frame of the trace, which has its own).
#[derive(Debug, Clone)]
pub(crate) struct SiteScope {
    pub(crate) site: Site,
    /// As in [`CapturedScope::vars`].
    pub(crate) vars: Vec<Variable>,
    pub(crate) sensitive: Sensitivity,
}

thread_local! {
    /// Set while this crate runs user formatting code on purpose, so that the panic hook
    /// ignores panics raised by it.
    static FORMATTING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is formatting registered values (its panics are caught and
/// reported as `Error in formatting`, not as application panics).
pub(crate) fn is_formatting() -> bool {
    FORMATTING.get()
}

struct Formatting;

impl Formatting {
    fn enter() -> Self {
        FORMATTING.set(true);
        Formatting
    }
}

impl Drop for Formatting {
    fn drop(&mut self) {
        FORMATTING.set(false);
    }
}

/// Captures one value whose capture runs user code, turning a panic in its formatting into
/// `Error in formatting`.
fn capture_guarded(var: &Var<'_>) -> Result<CapturedValue, String> {
    let _formatting = Formatting::enter();
    catch_unwind(AssertUnwindSafe(|| var.capture(&mut Builder::default()))).map_err(|payload| {
        let message = crate::capture::panic_message(payload.as_ref());
        format!("the value's formatting panicked: {message}")
    })
}

/// Captures the registered variables of this thread, outside a panic (for errors).
///
/// User formatting code runs on this thread under `catch_unwind`.
pub fn capture_scopes() -> Vec<CapturedScope> {
    capture_site_scopes()
        .into_iter()
        .map(CapturedScope::from)
        .collect()
}

/// As [`capture_scopes`], each scope with its site as registered.
pub(crate) fn capture_site_scopes() -> Vec<SiteScope> {
    with_pending(|pending| collect(pending, |vars| vars.iter().map(capture_guarded).collect()))
}

/// Captures the registered variables of this thread from inside the panic hook.
///
/// Values whose capture runs user code are captured on a helper thread under
/// `catch_unwind` while this thread waits: a panic inside a panic hook would abort the
/// process. If the helper cannot be started, those values are reported as not captured.
pub(crate) fn capture_scopes_in_panic() -> Vec<SiteScope> {
    with_pending(|pending| {
        collect(pending, |vars| {
            // The formatting thread is scoped: it ends before the hook returns, while the
            // values are still alive.
            let result = std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("safe-report-format".to_owned())
                    .spawn_scoped(scope, || {
                        vars.iter().map(capture_guarded).collect::<Vec<_>>()
                    })
                    .ok()
                    .map(|handle| handle.join())
            });
            match result {
                Some(Ok(captured)) => captured,
                _ => vars
                    .iter()
                    .map(|_| Err("not captured: no thread to format it on".to_owned()))
                    .collect(),
            }
        })
    })
}

/// Turns pending scopes into captured ones; `run_user_code` captures the variables whose
/// capture runs user code, all at once.
///
/// Each scope's variables are built in place, in their final order; those whose capture
/// runs user code hold a placeholder until `run_user_code` has run.
fn collect(
    pending: Pending<'_>,
    run_user_code: impl FnOnce(&[Var<'_>]) -> Vec<Result<CapturedValue, String>>,
) -> Vec<SiteScope> {
    // One builder for every value captured here: its buffers grow once.
    let mut builder = Builder::default();
    let mut deferred: Vec<Var<'_>> = Vec::new();
    // Where each deferred variable goes: (scope, variable) indices.
    let mut places: Vec<(usize, usize)> = Vec::new();
    let mut declared: Vec<Sensitivity> = Vec::with_capacity(pending.scopes.len());
    let mut captured: Vec<SiteScope> = Vec::with_capacity(pending.scopes.len());
    for (index, scope) in pending.scopes.iter().enumerate() {
        // A declaration covers its own scope and every scope run inside it.
        declared.push(scope.sensitive);
        let mut vars = Vec::with_capacity(scope.vars.len());
        for var in scope.vars {
            let value = if declared.iter().any(|s| s.covers(var.name)) {
                CapturedValue::from(DEFAULT_SUBSTITUTE)
            } else if var.runs_user_code {
                deferred.push(*var);
                places.push((index, vars.len()));
                CapturedValue::default()
            } else {
                var.capture(&mut builder)
            };
            vars.push(Variable::new(var.name, value));
        }
        captured.push(SiteScope {
            site: scope.site,
            vars,
            sensitive: scope.sensitive,
        });
    }
    if !deferred.is_empty() {
        let mut results = run_user_code(&deferred).into_iter();
        for (scope, var) in places {
            let variable = &mut captured[scope].vars[var];
            match results
                .next()
                .unwrap_or_else(|| Err("not captured".to_owned()))
            {
                Ok(value) => variable.value = value,
                Err(reason) => variable.error = Some(reason),
            }
        }
    }
    captured
}

/// Whether any scope is registered on this thread.
pub fn has_scopes() -> bool {
    !STACK.get().is_null()
}

// ---------------------------------------------------------------------------------------
// How values are captured: the standard types by this crate's code, others through their
// `Serialize` or `Debug` impls. `vars!` picks the first that applies (autoref
// specialisation).
// ---------------------------------------------------------------------------------------

/// Types this crate captures with its own code (no user code runs, nothing can panic).
///
/// Implemented for the standard types only (sealed): others are captured through
/// `Serialize` or `Debug`, whose code may panic and is run where a panic is caught.
pub trait Plain: Sync + sealed::Sealed {
    /// Adds the value to a captured value being built.
    #[doc(hidden)]
    fn capture(&self, into: &mut Builder);

    /// The value as captured, `builder` lending its buffers.
    #[doc(hidden)]
    fn to_captured(&self, builder: &mut Builder) -> CapturedValue {
        self.capture(builder);
        builder.finish()
    }
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! plain {
    ($($ty:ty => |$value:ident, $into:ident| $capture:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl Plain for $ty {
            fn capture(&self, $into: &mut Builder) {
                let $value = self;
                $capture
            }
        }
    )*};
}

plain! {
    u8 => |n, into| into.u64(u64::from(*n));
    u16 => |n, into| into.u64(u64::from(*n));
    u32 => |n, into| into.u64(u64::from(*n));
    u64 => |n, into| into.u64(*n);
    usize => |n, into| into.u64(*n as u64);
    i8 => |n, into| into.i64(i64::from(*n));
    i16 => |n, into| into.i64(i64::from(*n));
    i32 => |n, into| into.i64(i64::from(*n));
    i64 => |n, into| into.i64(*n);
    isize => |n, into| into.i64(*n as i64);
    f32 => |n, into| into.f64(f64::from(*n));
    f64 => |n, into| into.f64(*n);
    bool => |b, into| into.bool(*b);
    u128 => |n, into| match u64::try_from(*n) {
        Ok(n) => into.u64(n),
        Err(_) => into.str(&n.to_string()),
    };
    i128 => |n, into| match i64::try_from(*n) {
        Ok(n) => into.i64(n),
        Err(_) => into.str(&n.to_string()),
    };
    char => |c, into| into.str(c.encode_utf8(&mut [0; 4]));
    Value => |value, into| into.value(value);
}

// A string is copied once, straight into its captured value.
impl sealed::Sealed for str {}
impl Plain for str {
    fn capture(&self, into: &mut Builder) {
        into.str(self);
    }

    fn to_captured(&self, _: &mut Builder) -> CapturedValue {
        CapturedValue::from(self)
    }
}

impl sealed::Sealed for String {}
impl Plain for String {
    fn capture(&self, into: &mut Builder) {
        into.str(self);
    }

    fn to_captured(&self, _: &mut Builder) -> CapturedValue {
        CapturedValue::from(self.as_str())
    }
}

// References, boxes and `Arc`s capture what they point to.
macro_rules! plain_pointers {
    ($(impl<$t:ident $(: $bound:path)?> for $ty:ty;)*) => {$(
        impl<$t: Plain + ?Sized $(+ $bound)?> sealed::Sealed for $ty {}
        impl<$t: Plain + ?Sized $(+ $bound)?> Plain for $ty {
            fn capture(&self, into: &mut Builder) {
                (**self).capture(into);
            }

            fn to_captured(&self, builder: &mut Builder) -> CapturedValue {
                (**self).to_captured(builder)
            }
        }
    )*};
}

plain_pointers! {
    impl<T> for &T;
    impl<T> for Box<T>;
    impl<T: Send> for std::sync::Arc<T>;
}

impl<T: Plain> sealed::Sealed for Option<T> {}
impl<T: Plain> Plain for Option<T> {
    fn capture(&self, into: &mut Builder) {
        match self {
            Some(value) => value.capture(into),
            None => into.null(),
        }
    }
}

impl<T: Plain> sealed::Sealed for [T] {}
impl<T: Plain> Plain for [T] {
    fn capture(&self, into: &mut Builder) {
        into.list(self, |into, item| item.capture(into));
    }
}

impl<T: Plain, const N: usize> sealed::Sealed for [T; N] {}
impl<T: Plain, const N: usize> Plain for [T; N] {
    fn capture(&self, into: &mut Builder) {
        self.as_slice().capture(into);
    }
}

impl<T: Plain> sealed::Sealed for Vec<T> {}
impl<T: Plain> Plain for Vec<T> {
    fn capture(&self, into: &mut Builder) {
        self.as_slice().capture(into);
    }
}

/// Map keys this crate reads with its own code.
pub trait PlainKey: Sync + sealed::Sealed {
    /// The key as text.
    #[doc(hidden)]
    fn key(&self) -> &str;
}

macro_rules! plain_keys {
    ($($ty:ty),*) => {$(
        impl PlainKey for $ty {
            fn key(&self) -> &str {
                self
            }
        }
    )*};
}

plain_keys!(String, &str, Box<str>, std::sync::Arc<str>);

impl PlainKey for std::borrow::Cow<'_, str> {
    fn key(&self) -> &str {
        self
    }
}
impl sealed::Sealed for std::borrow::Cow<'_, str> {}

fn capture_map<'m, K: PlainKey + 'm, V: Plain + 'm>(
    entries: impl Iterator<Item = (&'m K, &'m V)>,
    into: &mut Builder,
) {
    into.map(
        entries.map(|(key, value)| (key.key(), value)),
        |into, value| {
            value.capture(into);
        },
    );
}

impl<K: PlainKey, V: Plain, S: Sync> sealed::Sealed for std::collections::HashMap<K, V, S> {}
impl<K: PlainKey, V: Plain, S: Sync> Plain for std::collections::HashMap<K, V, S> {
    fn capture(&self, into: &mut Builder) {
        capture_map(self.iter(), into);
    }
}

impl<K: PlainKey, V: Plain> sealed::Sealed for std::collections::BTreeMap<K, V> {}
impl<K: PlainKey, V: Plain> Plain for std::collections::BTreeMap<K, V> {
    fn capture(&self, into: &mut Builder) {
        capture_map(self.iter(), into);
    }
}

/// Support for [`vars!`](crate::vars); not part of the public API.
#[doc(hidden)]
pub mod private {
    use super::{Capture, Plain, Site};
    use serde::Serialize;
    use std::fmt;
    use std::marker::PhantomData;

    /// Stands for a type; `vars!` asks it how values of that type are captured.
    pub struct Probe<T: ?Sized>(PhantomData<fn(&T)>);

    pub fn probe<T>(_: &T) -> Probe<T> {
        Probe(PhantomData)
    }

    // Autoref specialisation: `(&&&probe).capture()` takes the first impl that applies.
    pub trait ViaPlain<T> {
        fn capture(self) -> Capture<T>;
    }
    pub trait ViaSerialize<T> {
        fn capture(self) -> Capture<T>;
    }
    pub trait ViaDebug<T> {
        fn capture(self) -> Capture<T>;
    }

    impl<T: Plain + Sync> ViaPlain<T> for &&&Probe<T> {
        fn capture(self) -> Capture<T> {
            Capture::plain()
        }
    }
    impl<T: Serialize + Sync> ViaSerialize<T> for &&Probe<T> {
        fn capture(self) -> Capture<T> {
            Capture::serialize()
        }
    }
    impl<T: fmt::Debug + Sync> ViaDebug<T> for &Probe<T> {
        fn capture(self) -> Capture<T> {
            Capture::debug()
        }
    }

    pub fn site(function: &'static str, file: &'static str, line: u32) -> Site {
        Site {
            function: function
                .strip_suffix("::__safe_report_site")
                .unwrap_or(function),
            file,
            line,
        }
    }

    pub fn type_name_of<T>(_: &T) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// Registers local values as the current frame's variables for a call or a future.
///
/// `vars!(a, b)` registers the locals `a` and `b`; `vars!(total = order.total())` registers
/// the value of an expression under a name. Standard types (strings, numbers, booleans,
/// options, vectors and maps of them, `serde_json::Value`) are captured by this crate;
/// other types through `Serialize` when they implement it (so their fields can be
/// filtered by name), else through `Debug`. Registered values must be `Sync`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Cart { items: Vec<String>, coupon: Option<String> }
///
/// let cart = Cart { items: vec!["sku-1".into()], coupon: None };
/// let user = "alice";
/// let total = safe_report::vars!(cart, user, total = 4200u64).run(|| 4200);
/// assert_eq!(total, 4200);
/// ```
///
/// See [`Scope`](crate::capture::scope::Scope) for `sensitive`, `run` and `run_async`.
#[macro_export]
macro_rules! vars {
    ($($name:ident $(= $value:expr)?),* $(,)?) => {
        $crate::capture::scope::Scope::new(
            $crate::capture::scope::private::site(
                {
                    fn __safe_report_site() {}
                    $crate::capture::scope::private::type_name_of(&__safe_report_site)
                },
                ::core::file!(),
                ::core::line!(),
            ),
            [$(
                $crate::__safe_report_var!($name $(= $value)?)
            ),*],
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __safe_report_var {
    ($name:ident) => {
        $crate::__safe_report_var!(@value $name, &$name)
    };
    ($name:ident = $value:expr) => {
        $crate::__safe_report_var!(@value $name, &$value)
    };
    (@value $name:ident, $reference:expr) => {
        match $reference {
            reference => $crate::capture::scope::Var::new(
                ::core::stringify!($name),
                reference,
                {
                    #[allow(unused_imports)]
                    use $crate::capture::scope::private::{ViaDebug, ViaPlain, ViaSerialize};
                    (&&&$crate::capture::scope::private::probe(reference)).capture()
                },
            ),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn names(scope: &CapturedScope) -> Vec<&str> {
        scope.vars.iter().map(|v| v.name.as_ref()).collect()
    }

    #[test]
    fn registered_values_are_captured_with_their_scope() {
        let order_id = "ord_42".to_owned();
        let quantity = 3u32;
        let scopes = crate::vars!(order_id, quantity).run(capture_scopes);
        assert_eq!(scopes.len(), 1);
        assert_eq!(names(&scopes[0]), ["order_id", "quantity"]);
        assert_eq!(scopes[0].vars[0].value, Value::from("ord_42"));
        assert_eq!(scopes[0].vars[1].value, Value::from(3));
        assert!(
            scopes[0]
                .function
                .ends_with("registered_values_are_captured_with_their_scope")
        );
        assert!(scopes[0].file.ends_with("scope.rs"));
        assert!(!has_scopes());
    }

    #[test]
    fn nested_scopes_come_outermost_first_and_unwind_cleanly() {
        let outer = 1u8;
        let inner = 2u8;
        let scopes = crate::vars!(outer).run(|| crate::vars!(inner).run(capture_scopes));
        assert_eq!(
            scopes.iter().map(|s| names(s)[0]).collect::<Vec<_>>(),
            ["outer", "inner"]
        );
        let result =
            std::panic::catch_unwind(|| crate::vars!(outer).run(|| -> () { panic!("boom") }));
        assert!(result.is_err());
        assert!(!has_scopes(), "a panic must pop the scope");
    }

    #[test]
    fn sensitive_names_are_never_formatted_and_callees_inherit_them() {
        struct Bomb;
        impl fmt::Debug for Bomb {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("a sensitive value must never be formatted")
            }
        }
        let card_number = Bomb;
        let card = "4111111111111111";
        let scopes = crate::vars!(card_number)
            .sensitive(&["card_number", "card"])
            .run(|| crate::vars!(card).run(capture_scopes));
        assert_eq!(scopes[0].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
        assert_eq!(scopes[1].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
        assert_eq!(
            scopes[0].sensitive_variables,
            Some(SensitiveNames::names(["card_number", "card"]))
        );
        let all = crate::vars!(card).sensitive_all().run(capture_scopes);
        assert_eq!(all[0].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
    }

    #[test]
    fn values_are_captured_plain_then_serialized_then_debugged() {
        #[derive(Serialize)]
        struct Cart {
            items: Vec<&'static str>,
        }
        #[derive(Debug)]
        struct Opaque(#[allow(dead_code)] u8);
        let cart = Cart {
            items: vec!["sku-1"],
        };
        let opaque = Opaque(7);
        let scopes = crate::vars!(cart, opaque, total = 10u64 * 42).run(capture_scopes);
        let vars = &scopes[0].vars;
        assert_eq!(vars[0].value, serde_json::json!({"items": ["sku-1"]}));
        assert_eq!(vars[1].value, Value::from("Opaque(7)"));
        assert_eq!(vars[2].value, Value::from(420));
    }

    #[test]
    fn standard_types_are_captured_as_serde_would_serialize_them() {
        use std::collections::{BTreeMap, HashMap};
        use std::sync::Arc;
        let (small, negative, float, nan, letter) = (7u8, -42i64, 2.5f32, f64::NAN, 'é');
        let (text, owned) = ("ord_42", String::from("Berlin"));
        let (none, some) = (None::<u32>, Some(vec![vec![1u32, 2], vec![]]));
        let (array, boxed, shared) = ([true, false], Box::<str>::from("box"), Arc::new(3u16));
        let hashed = HashMap::from([(String::from("k"), 1u32)]);
        let sorted = BTreeMap::from([("a", vec!["x".to_owned()]), ("b", Vec::new())]);
        let keyed = BTreeMap::from([(std::borrow::Cow::Borrowed("c"), -1i8)]);
        let json = serde_json::json!({"nested": [1, {"deep": null}]});
        let huge = u128::MAX;
        let scopes = crate::vars!(
            small, negative, float, nan, letter, text, owned, none, some, array, boxed, shared,
            hashed, sorted, keyed, json, huge
        )
        .run(capture_scopes);
        let vars = &scopes[0].vars;
        let expected = [
            serde_json::to_value(small),
            serde_json::to_value(negative),
            serde_json::to_value(float),
            serde_json::to_value(nan),
            serde_json::to_value(letter),
            serde_json::to_value(text),
            serde_json::to_value(&owned),
            serde_json::to_value(none),
            serde_json::to_value(&some),
            serde_json::to_value(array),
            serde_json::to_value(&boxed),
            serde_json::to_value(&shared),
            serde_json::to_value(&hashed),
            serde_json::to_value(&sorted),
            serde_json::to_value(&keyed),
            Ok(json.clone()),
        ];
        for (var, expected) in vars.iter().zip(expected) {
            assert_eq!(var.value, expected.unwrap(), "{}", var.name);
        }
        // Beyond what JSON numbers hold: the digits, as text.
        assert_eq!(vars[16].value, Value::from(u128::MAX.to_string()));
    }

    #[test]
    fn a_panicking_debug_becomes_an_error_in_formatting() {
        struct Bad;
        impl fmt::Debug for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("cannot print")
            }
        }
        let bad = Bad;
        let fine = 5i64;
        for vars in [
            crate::vars!(bad, fine).run(capture_scopes).remove(0).vars,
            crate::vars!(bad, fine)
                .run(capture_scopes_in_panic)
                .remove(0)
                .vars,
        ] {
            let error = vars[0].error.as_deref().unwrap();
            assert!(error.contains("cannot print"), "{error}");
            assert_eq!(vars[1].value, Value::from(5));
        }
    }

    #[test]
    fn values_that_run_user_code_are_formatted_on_a_helper_thread() {
        #[derive(Debug)]
        struct OnWhichThread;
        impl Serialize for OnWhichThread {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(std::thread::current().name().unwrap_or(""))
            }
        }
        let probe = OnWhichThread;
        let scopes = crate::vars!(probe).run(capture_scopes_in_panic);
        assert_eq!(scopes[0].vars[0].value, Value::from("safe-report-format"));
    }

    /// A future that is pending once, then ready.
    struct YieldOnce(bool);
    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    #[test]
    fn async_scopes_are_registered_only_while_polled() {
        let order_id = String::from("ord_7");
        let mut future = Box::pin(crate::vars!(order_id).run_async(async {
            let before = capture_scopes();
            YieldOnce(false).await;
            let after = capture_scopes();
            (before, after)
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(!has_scopes(), "nothing stays registered between polls");
        let Poll::Ready((before, after)) = future.as_mut().poll(&mut cx) else {
            panic!("the future should be ready");
        };
        assert_eq!(before[0].vars[0].value, Value::from("ord_7"));
        assert_eq!(after[0].vars[0].value, Value::from("ord_7"));
        assert!(!has_scopes());
    }

    #[test]
    // Miri's leak check would report the forgotten box (a leak, which is safe, not UB).
    #[cfg_attr(miri, ignore = "leaks the future on purpose")]
    fn a_future_forgotten_between_polls_leaves_nothing_registered() {
        let secret = String::from("x");
        let mut future = Box::pin(crate::vars!(secret).run_async(YieldOnce(false)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        std::mem::forget(future);
        assert!(!has_scopes());
        assert!(capture_scopes().is_empty());
    }

    #[test]
    fn scopes_of_other_threads_are_not_seen() {
        let mine = 1u8;
        crate::vars!(mine).run(|| {
            let seen = std::thread::scope(|s| s.spawn(capture_scopes).join().unwrap());
            assert!(seen.is_empty());
        });
    }
}
