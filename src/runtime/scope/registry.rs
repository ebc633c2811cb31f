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
//! `Option`s, `Vec`s and maps of them, locks holding them, `serde_json::Value`) are captured
//! by this crate's own code, which cannot panic and never waits. Other values go through
//! their `Serialize` impl (structured, so nested keys can be filtered) or, without one,
//! their `Debug` impl; that is user code, and a panic inside a panic hook aborts the
//! process, so in the hook these are captured on a helper thread under `catch_unwind`,
//! which is why registered values must be `Sync`. A value whose formatting panics becomes
//! `Error in formatting: …`. Names declared sensitive (in the scope or in any scope it runs
//! inside, as Django's `@sensitive_variables` covers the functions a function calls) are
//! never formatted at all.
//!
//! # Values lent to a helper thread, and why that is sound too
//!
//! User code may also wait forever: a `Serialize` that takes a lock the panicking thread
//! holds (a `Mutex` inside a registered struct) only gets it when the panic unwinds, after
//! the hook returns. So the hook waits for its helper only until a deadline. But the helper
//! reads values borrowed from the panicking thread's stack, and once the hook returns,
//! unwinding ends the calls that own them. The helper is therefore never simply abandoned;
//! the wait moves to the one place where it is needed, the end of the borrow:
//!
//! - values are handed to the helper as [`Lent`]s, each tied to the capture's [`Loan`]; the
//!   helper reads a lent value only inside [`Lent::read`], which marks the loan as *reading*
//!   that value's scope for exactly as long as the read lasts (also when it unwinds);
//! - the owning thread *recalls* the loan before [`with_pending`] returns (at the deadline,
//!   or when the helper is done): after that, no new read starts. If a read is still going
//!   on, the loan is kept in the owning thread's list of outstanding loans;
//! - `Registered::drop`, which ends a scope on that same thread, first waits while an
//!   outstanding loan is reading a value of *that* scope. The values a scope borrows outlive
//!   the call that registered it, so they are alive for the whole read. Meanwhile the owning
//!   thread may go on running (a panic caught inside the scope): the helper only holds a
//!   shared reference to a `Sync` value, borrowed by the scope for its whole call anyway.
//!
//! Scopes are told apart by the address of their entry. An entry cannot end while a read of
//! one of its values goes on, and no read starts after the recall, so a later entry at the
//! same address is never taken for it.
//!
//! So the panicking thread goes on unwinding after the deadline (which releases a lock it
//! took inside the scope, and lets the helper finish), and it waits only if it leaves the
//! scope of the very value still being read. The one case that still waits for good: a
//! value whose formatting waits for a lock that this thread took *outside* that value's
//! scope; the report has been sent by then. No wait happens on the fast path: ending a scope
//! checks one thread-local flag.
//!
//! Registering costs a few nanoseconds: a pointer write to a thread-local on entry, a flag
//! read and a pointer write on exit, no formatting and no allocation.
//!
//! This module is the crate's only `unsafe` code: the type-erased reference of a [`Var`]
//! and the thread-local's raw pointers turned back into references. Miri runs its tests
//! (see `.ci/run`).
#![allow(unsafe_code)]

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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
    /// Loans of this thread's values that a helper may still be reading (see the module
    /// docs), and whether there are any (checked on every pop, so a plain flag).
    static OUTSTANDING: RefCell<Vec<Arc<Loan>>> = const { RefCell::new(Vec::new()) };
    static ANY_OUTSTANDING: Cell<bool> = const { Cell::new(false) };
}

/// Pops the entry on drop (a normal return or unwinding): a local of `run`/`poll`, never
/// given to user code.
struct Registered {
    entry: *const Entry<'static>,
    parent: *const Entry<'static>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if ANY_OUTSTANDING.get() {
            wait_for_reads_of(ScopeId(self.entry as usize));
        }
        STACK.set(self.parent);
    }
}

fn push(entry: &Entry<'_>) -> Registered {
    // The lifetime is erased for storage; `Registered` (dropped before `entry`) takes the
    // pointer out again, so it is never used after `entry` is gone.
    let pointer = (entry as *const Entry<'_>).cast::<Entry<'static>>();
    let parent = STACK.replace(pointer);
    Registered {
        entry: pointer,
        parent,
    }
}

/// Waits while an outstanding loan of this thread reads a value of `scope`, which is about to
/// end; forgets the loans that read nothing any more.
fn wait_for_reads_of(scope: ScopeId) {
    // The list is unreachable only once this thread's locals are destroyed, and then it
    // holds nothing: a loan made after that waits for its read itself (`Loan::recall`).
    let _ = OUTSTANDING.try_with(|loans| {
        let mut loans = loans.borrow_mut();
        loans.retain(|loan| loan.wait_while_reading(|reading| reading == Some(scope)));
        ANY_OUTSTANDING.set(!loans.is_empty());
    });
}

/// Identifies a registered scope while it is registered: the address of its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScopeId(usize);

/// The registered scopes of this thread, outermost first, with the values not yet read.
pub(super) struct Pending<'s> {
    pub(super) scopes: Vec<PendingScope<'s>>,
    /// The loan for values lent to a helper thread, made when the first is lent; recalled
    /// by `with_pending` before it returns.
    loan: &'s OnceCell<Arc<Loan>>,
}

pub(super) struct PendingScope<'s> {
    pub(super) site: Site,
    pub(super) sensitive: Sensitivity,
    pub(super) vars: &'s [Var<'s>],
    id: ScopeId,
}

impl Pending<'_> {
    /// Lends variable `var` of scope `scope` (indices into `scopes` and its `vars`) to
    /// another thread, which reads it with [`Lent::read`] until the loan is recalled (`None`
    /// if there is no such variable).
    pub(super) fn lend(&self, scope: usize, var: usize) -> Option<Lent> {
        // Only scopes of this thread, found by this call: the ones `Registered::drop` of
        // this thread waits for.
        let scope = self.scopes.get(scope)?;
        let var = scope.vars.get(var)?;
        Some(Lent {
            // The lifetime is erased so that the helper thread can hold it: the value is only
            // read inside `Lent::read`, while the scope is kept registered.
            var: Var {
                _borrow: PhantomData,
                ..*var
            },
            scope: scope.id,
            loan: Arc::clone(self.loan.get_or_init(|| Arc::new(Loan::new()))),
        })
    }

    /// Recalls the loan now: no read of a lent value starts after this (see the module
    /// docs). `with_pending` does it anyway when it returns.
    pub(super) fn recall(&self) {
        if let Some(loan) = self.loan.get() {
            loan.recall();
        }
    }
}

/// A registered variable lent to another thread: only [`Lent::read`] reads it.
pub(super) struct Lent {
    var: Var<'static>,
    scope: ScopeId,
    loan: Arc<Loan>,
}

impl Lent {
    /// Reads the value with `read` on this thread, unless the loan was recalled (`None`).
    pub(super) fn read<R>(&self, read: impl FnOnce(&Var<'_>) -> R) -> Option<R> {
        struct Done<'l>(&'l Loan);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.state().reading = None;
                self.0.done.notify_all();
            }
        }
        {
            let mut state = self.loan.state();
            if state.recalled {
                return None;
            }
            state.reading = Some(self.scope);
        }
        // Ends the read when `read` returns or unwinds.
        let _done = Done(&self.loan);
        Some(read(&self.var))
    }
}

/// The values of one capture lent to a helper thread (see the module docs).
struct Loan {
    state: Mutex<LoanState>,
    /// Notified when a read ends.
    done: Condvar,
}

struct LoanState {
    /// The scope of the value being read now.
    reading: Option<ScopeId>,
    /// Set by the owning thread: no read starts any more.
    recalled: bool,
}

impl Loan {
    fn new() -> Self {
        Self {
            state: Mutex::new(LoanState {
                reading: None,
                recalled: false,
            }),
            done: Condvar::new(),
        }
    }

    // Only this module's code runs under the lock; a poisoned lock is still consistent.
    fn state(&self) -> MutexGuard<'_, LoanState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits while `wait` holds for what is being read; returns whether something still is.
    fn wait_while_reading(&self, wait: impl Fn(Option<ScopeId>) -> bool) -> bool {
        let mut state = self.state();
        while wait(state.reading) {
            state = self
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.reading.is_some()
    }

    /// Called on the owning thread: no read starts after this, and a read still going on
    /// keeps its scope registered (`Registered::drop` waits for it).
    fn recall(self: &Arc<Self>) {
        let reading = {
            let mut state = self.state();
            state.recalled = true;
            state.reading.is_some()
        };
        if !reading {
            return;
        }
        let kept = OUTSTANDING
            .try_with(|loans| loans.borrow_mut().push(Arc::clone(self)))
            .is_ok();
        if kept {
            ANY_OUTSTANDING.set(true);
        } else {
            // This thread's locals are being destroyed: wait for the read here.
            self.wait_while_reading(|reading| reading.is_some());
        }
    }
}

/// Calls `f` with this thread's registered scopes.
///
/// The references handed to `f` must not outlive the call: they point into stack frames
/// that are alive now because this thread is executing `f` inside them. Values lent to
/// another thread meanwhile are recalled before this returns (or unwinds).
pub(super) fn with_pending<R>(f: impl for<'s> FnOnce(Pending<'s>) -> R) -> R {
    struct Recall(OnceCell<Arc<Loan>>);
    impl Drop for Recall {
        fn drop(&mut self) {
            if let Some(loan) = self.0.get() {
                loan.recall();
            }
        }
    }
    let recall = Recall(OnceCell::new());
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
            id: ScopeId(pointer as usize),
        });
        pointer = entry.parent;
    }
    scopes.reverse();
    f(Pending {
        scopes,
        loan: &recall.0,
    })
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
