//! The registry of frame variables: each thread's stack of registered scopes, and the
//! type-erased references to the values they name.
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
//! This module is the crate's only `unsafe` code: the type-erased reference of a [`Var`]
//! and the thread-local's raw pointers turned back into references. Miri runs its tests
//! (see `.ci/run`).
#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;

use super::read::{ByDebug, ByLock, ByPlain, BySerialize, Reader};
use super::{Lock, Plain, Sensitivity, Site};
use crate::model::CapturedValue;
use crate::model::value::Builder;

/// A registered variable: a name, a reference to its value and how to capture it.
#[derive(Clone, Copy)]
pub struct Var<'a> {
    pub(super) name: &'static str,
    /// The value, type-erased; `capture` knows its type.
    data: *const (),
    capture: unsafe fn(*const (), &mut Builder) -> CapturedValue,
    pub(super) runs_user_code: bool,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> Var<'a> {
    /// A variable named `name` referring to `value`, captured as `how` says (see
    /// [`vars!`](crate::vars), which picks `how` from the value's type).
    pub fn new<T: Sync>(name: &'static str, value: &'a T, how: How<T>) -> Self {
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
    pub(super) fn capture(&self, builder: &mut Builder) -> CapturedValue {
        // SAFETY: `data` was made from a `&'a T` in `new`, `capture` is the function made
        // for that `T` by `How<T>`, and a `Var<'a>` is only used while `'a` lasts (by
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

/// How a value of type `T` is captured: by this crate's code ([`Plain`] types), through a
/// standard lock read without waiting ([`Lock`]), through `Serialize`, or through `Debug`.
pub struct How<T: ?Sized> {
    erased: unsafe fn(*const (), &mut Builder) -> CapturedValue,
    runs_user_code: bool,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Clone for How<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for How<T> {}

impl<T> How<T> {
    /// Reads values of type `T` with `R`, the type erased.
    fn with<R: Reader<T>>() -> Self {
        unsafe fn erased<T, R: Reader<T>>(data: *const (), builder: &mut Builder) -> CapturedValue {
            // SAFETY: the caller (`Var::capture`) passes a pointer made from a live `&T`.
            R::read(unsafe { &*data.cast::<T>() }, builder)
        }
        Self {
            erased: erased::<T, R>,
            runs_user_code: R::RUNS_USER_CODE,
            _type: PhantomData,
        }
    }
}

impl<T: Plain> How<T> {
    /// By this crate's own code: no user code runs.
    pub fn plain() -> Self {
        Self::with::<ByPlain>()
    }
}

impl<T: Lock> How<T>
where
    T::Value: Serialize,
{
    /// Through the lock, taken without waiting, then the guarded value's `Serialize`.
    pub fn locked() -> Self {
        Self::with::<ByLock>()
    }
}

impl<T: Serialize + Sync> How<T> {
    /// Through `Serialize`, as structured data.
    pub fn serialize() -> Self {
        Self::with::<BySerialize>()
    }
}

impl<T: fmt::Debug + Sync> How<T> {
    /// Through `Debug`, as text.
    pub fn debug() -> Self {
        Self::with::<ByDebug>()
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
pub(super) struct Pending<'s> {
    pub(super) scopes: Vec<PendingScope<'s>>,
}

pub(super) struct PendingScope<'s> {
    pub(super) site: Site,
    pub(super) sensitive: Sensitivity,
    pub(super) vars: &'s [Var<'s>],
}

/// Calls `f` with this thread's registered scopes.
///
/// The references handed to `f` must not outlive the call: they point into stack frames
/// that are alive now because this thread is executing `f` inside them.
pub(super) fn with_pending<R>(f: impl for<'s> FnOnce(Pending<'s>) -> R) -> R {
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

/// Runs `f` with a scope of `vars` registered on this thread's stack, popped again when `f`
/// returns or unwinds.
pub(super) fn run_registered<R>(
    site: Site,
    vars: &[Var<'_>],
    sensitive: Sensitivity,
    f: impl FnOnce() -> R,
) -> R {
    let entry = Entry {
        site,
        vars,
        sensitive,
        parent: STACK.get(),
    };
    let _registered = push(&entry);
    f()
}

/// Whether any scope is registered on this thread.
pub fn has_scopes() -> bool {
    !STACK.get().is_null()
}
