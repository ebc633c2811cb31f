//! How one registered value is read into a captured value: by this crate's code
//! ([`Plain`]), through a standard lock that is never waited for ([`Lock`]), through
//! `Serialize`, or through `Debug`. [`How`](super::How) pairs a value's type with one of these
//! readers and erases the type; `vars!` picks the first that applies, in this order (a
//! lock before `Serialize`, whose impl for `Mutex` and `RwLock` waits for the lock).

use std::fmt;
use std::sync::{Arc, Mutex, RwLock, TryLockError};

use serde::Serialize;

use super::Plain;
use crate::model::CapturedValue;
use crate::model::value::{Builder, SerializeError};

/// What a held lock is shown as.
pub(super) const LOCKED: &str = "<locked>";
/// The key a poisoned lock's value is shown under.
pub(super) const POISONED: &str = "<poisoned>";

/// Reads a value of type `T`; [`How`](super::How) calls it with the type erased.
pub(super) trait Reader<T> {
    /// Whether reading runs user code (which may panic or block, so it is run where a panic
    /// is caught and, in the panic hook, on a helper thread).
    const RUNS_USER_CODE: bool;

    fn read(value: &T, builder: &mut Builder) -> CapturedValue;
}

/// By this crate's code.
pub(super) struct ByPlain;

impl<T: Plain> Reader<T> for ByPlain {
    const RUNS_USER_CODE: bool = false;

    fn read(value: &T, builder: &mut Builder) -> CapturedValue {
        value.to_captured(builder)
    }
}

/// Through `Serialize`, as structured data.
pub(super) struct BySerialize;

impl<T: Serialize> Reader<T> for BySerialize {
    const RUNS_USER_CODE: bool = true;

    fn read(value: &T, builder: &mut Builder) -> CapturedValue {
        match builder.serialized(value) {
            Ok(()) => builder.finish(),
            Err(error) => formatting_error(&error),
        }
    }
}

/// Through `Debug`, as text.
pub(super) struct ByDebug;

impl<T: fmt::Debug> Reader<T> for ByDebug {
    const RUNS_USER_CODE: bool = true;

    fn read(value: &T, _: &mut Builder) -> CapturedValue {
        CapturedValue::from(format!("{value:?}"))
    }
}

/// Through a lock taken without waiting, then the guarded value's `Serialize`.
pub(super) struct ByLock;

impl<L: Lock> Reader<L> for ByLock
where
    L::Value: Serialize,
{
    const RUNS_USER_CODE: bool = true;

    fn read(lock: &L, builder: &mut Builder) -> CapturedValue {
        let read = lock.try_read(|value, poisoned| {
            if poisoned {
                builder
                    .entry(POISONED, |builder| builder.serialized(value))
                    .unwrap_or(Ok(()))
            } else {
                builder.serialized(value)
            }
        });
        match read {
            None => CapturedValue::from(LOCKED),
            Some(Err(error)) => {
                builder.finish();
                formatting_error(&error)
            }
            Some(Ok(())) => builder.finish(),
        }
    }
}

fn formatting_error(error: &SerializeError) -> CapturedValue {
    CapturedValue::from(format!("Error in formatting: {error}"))
}

/// Adds what `lock` guards, read by `capture` without waiting: `"<locked>"` while a thread
/// holds it, `{"<poisoned>": value}` when a thread panicked holding it.
pub(super) fn capture_locked<L: Lock + ?Sized>(
    lock: &L,
    into: &mut Builder,
    mut capture: impl FnMut(&L::Value, &mut Builder),
) {
    let read = lock.try_read(|value, poisoned| {
        if poisoned {
            into.map([(POISONED, value)], |into, value| capture(value, into));
        } else {
            capture(value, into);
        }
    });
    if read.is_none() {
        into.str(LOCKED);
    }
}

/// The standard locks, which [`vars!`](crate::vars) reads without waiting: `Mutex` and
/// `RwLock`, also behind `Arc`, `Box` or a reference, and inside the standard containers
/// captured as [`Plain`].
///
/// They are read with `try_lock`/`try_read`: the thread holding the lock may be the one that
/// panicked, and it only lets go when the panic unwinds, after the report is taken (serde's
/// `Serialize` for these types waits with `lock()`, and would wait forever there). A lock
/// that is held is shown as `"<locked>"`; a poisoned one (a thread panicked while holding it)
/// as `{"<poisoned>": value}`, since its value is often what the report is for.
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let orders = Arc::new(Mutex::new(vec!["ord_1".to_owned()]));
/// let scopes = safe_report::vars!(orders).run(|| {
///     let _held = orders.lock().unwrap();
///     safe_report::runtime::scope::capture_scopes()
/// });
/// assert_eq!(scopes[0].vars[0].value, "<locked>");
/// ```
///
/// Sealed: implemented for those types only.
pub trait Lock: Sync + sealed::Sealed {
    /// What the lock guards.
    #[doc(hidden)]
    type Value: ?Sized;

    /// Calls `read` with the guarded value and whether the lock is poisoned, if no thread
    /// holds the lock (for writing, for an `RwLock`) now; `None` otherwise. Never waits.
    #[doc(hidden)]
    fn try_read<R>(&self, read: impl FnOnce(&Self::Value, bool) -> R) -> Option<R>;
}

mod sealed {
    pub trait Sealed {}
}

impl<T: ?Sized + Send> sealed::Sealed for Mutex<T> {}
impl<T: ?Sized + Send> Lock for Mutex<T> {
    type Value = T;

    fn try_read<R>(&self, read: impl FnOnce(&T, bool) -> R) -> Option<R> {
        match self.try_lock() {
            Ok(guard) => Some(read(&guard, false)),
            Err(TryLockError::Poisoned(poisoned)) => Some(read(&poisoned.into_inner(), true)),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

impl<T: ?Sized + Send + Sync> sealed::Sealed for RwLock<T> {}
impl<T: ?Sized + Send + Sync> Lock for RwLock<T> {
    type Value = T;

    fn try_read<R>(&self, read: impl FnOnce(&T, bool) -> R) -> Option<R> {
        match RwLock::try_read(self) {
            Ok(guard) => Some(read(&guard, false)),
            Err(TryLockError::Poisoned(poisoned)) => Some(read(&poisoned.into_inner(), true)),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

macro_rules! lock_pointers {
    ($(impl<$l:ident $(: $bound:path)?> for $ty:ty;)*) => {$(
        impl<$l: Lock $(+ $bound)?> sealed::Sealed for $ty {}
        impl<$l: Lock $(+ $bound)?> Lock for $ty {
            type Value = $l::Value;

            fn try_read<R>(&self, read: impl FnOnce(&Self::Value, bool) -> R) -> Option<R> {
                (**self).try_read(read)
            }
        }
    )*};
}

lock_pointers! {
    impl<L> for &L;
    impl<L> for Box<L>;
    impl<L: Send> for Arc<L>;
}
