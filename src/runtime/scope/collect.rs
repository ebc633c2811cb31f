//! Reading the registered values into captured variables: on this thread for errors, on a
//! helper thread, waited for until a deadline, from inside the panic hook.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::registry::{Lent, Pending, Var, with_pending};
use super::{CapturedScope, Sensitivity, SiteScope};
use crate::limits::DEFAULT_SUBSTITUTE;
use crate::model::value::Builder;
use crate::model::{CapturedValue, Variable};

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

/// Marks this thread as formatting until dropped, then puts back what was there before: a
/// formatter that formats again inside (a `Debug` calling `vars!` or a span's `record`) must
/// not end the outer mark early.
struct Formatting {
    before: bool,
}

impl Formatting {
    fn enter() -> Self {
        Formatting {
            before: FORMATTING.replace(true),
        }
    }
}

impl Drop for Formatting {
    fn drop(&mut self) {
        FORMATTING.set(self.before);
    }
}

/// Runs `format`, user formatting code, as this crate's own: the panic hook ignores a panic
/// in it, which becomes the error `the value's formatting panicked: <message>`.
pub(crate) fn format_guarded<R>(format: impl FnOnce() -> R) -> Result<R, String> {
    while_formatting(|| catch_unwind(AssertUnwindSafe(format))).map_err(|payload| {
        let message = crate::model::panic_message(payload.as_ref());
        format!("the value's formatting panicked: {message}")
    })
}

/// Runs `format`, user formatting code whose panics the caller catches, with this thread
/// marked as formatting: the panic hook ignores those panics (no report, and the hook
/// installed before this crate's does not run either).
pub(crate) fn while_formatting<R>(format: impl FnOnce() -> R) -> R {
    let _formatting = Formatting::enter();
    format()
}

/// Captures one value whose capture runs user code, turning a panic in its formatting into
/// `Error in formatting`.
fn capture_guarded(var: &Var<'_>) -> Result<CapturedValue, String> {
    format_guarded(|| var.capture(&mut Builder::default()))
}

/// Captures the registered variables of this thread, outside a panic (for errors).
///
/// User formatting code runs on this thread under `catch_unwind`. Called while this thread
/// formats a registered value (from inside its `Debug` or `Serialize`), it captures nothing.
pub fn capture_scopes() -> Vec<CapturedScope> {
    capture_site_scopes()
        .into_iter()
        .map(CapturedScope::from)
        .collect()
}

/// As [`capture_scopes`], each scope with its site as registered.
///
/// Nothing while this thread formats a value: a `Debug` or `Serialize` that creates a
/// [`Traced`](crate::Traced) would otherwise format the same value again, without end.
pub(crate) fn capture_site_scopes() -> Vec<SiteScope> {
    if is_formatting() {
        return Vec::new();
    }
    with_pending(|pending| {
        collect(pending, |pending, places| {
            places
                .iter()
                .map(|&(scope, var)| capture_guarded(&pending.scopes[scope].vars[var]))
                .collect()
        })
    })
}

/// Captures the registered variables of this thread from inside the panic hook.
///
/// Values whose capture runs user code are captured on a helper thread under
/// `catch_unwind`: a panic inside a panic hook would abort the process. This thread waits
/// for the helper at most `timeout`, since user code may wait for a lock this thread holds
/// (it only lets go when the panic unwinds, after the hook returns); the values not read by
/// then are reported as not captured, the one being read named as the one that did not
/// finish. The helper may go on reading that value: the registry keeps its scope registered
/// until it is done (see the registry's docs). If the helper cannot be started, those values
/// are reported as not captured.
pub(crate) fn capture_scopes_in_panic(timeout: Duration) -> Vec<SiteScope> {
    with_pending(|pending| {
        collect(pending, |pending, places| {
            read_on_helper(pending, places, timeout)
        })
    })
}

/// What the helper thread has read so far, in order, and whether it stopped.
struct Progress {
    state: Mutex<(Vec<Result<CapturedValue, String>>, bool)>,
    changed: Condvar,
}

impl Progress {
    fn state(&self) -> MutexGuard<'_, (Vec<Result<CapturedValue, String>>, bool)> {
        // Only this module's code runs under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the helper stopped, at most `timeout`; returns whether it did.
    fn wait(&self, timeout: Duration) -> bool {
        // `Duration::MAX` and the like: no deadline.
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.state();
        while !state.1 {
            state = match deadline {
                None => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }
}

/// Marks the helper as stopped when it returns or unwinds.
struct Stopped<'p>(&'p Progress);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.state().1 = true;
        self.0.changed.notify_all();
    }
}

/// Reads the values at `places` (scope and variable indices) on a helper thread, waiting for
/// it at most `timeout`.
fn read_on_helper(
    pending: &Pending<'_>,
    places: &[(usize, usize)],
    timeout: Duration,
) -> Vec<Result<CapturedValue, String>> {
    let lent: Vec<Lent> = places
        .iter()
        .filter_map(|&(scope, var)| pending.lend(scope, var))
        .collect();
    let progress = Arc::new(Progress {
        state: Mutex::new((Vec::with_capacity(lent.len()), false)),
        changed: Condvar::new(),
    });
    let helper = {
        let progress = Arc::clone(&progress);
        move || {
            // A panic anywhere on this thread is one of formatting, never the application's.
            let _formatting = Formatting::enter();
            let _stopped = Stopped(&progress);
            for value in &lent {
                let Some(result) = value.read(capture_guarded) else {
                    break;
                };
                progress.state().0.push(result);
            }
        }
    };
    let spawned = std::thread::Builder::new()
        .name("safe-report-format".to_owned())
        .spawn(helper);
    if spawned.is_err() {
        return places
            .iter()
            .map(|_| Err("not captured: no thread to format it on".to_owned()))
            .collect();
    }
    let stopped = progress.wait(timeout);
    if !stopped {
        // No value is read after this; the one being read keeps its scope registered until
        // its read ends.
        pending.recall();
    }
    let mut results = std::mem::take(&mut progress.state().0);
    if let Some(&(scope, var)) = places.get(results.len()) {
        let late = pending.scopes[scope].vars[var].name;
        results.push(Err(format!(
            "not captured: its formatting did not finish within {timeout:?} (does its \
             `Serialize` or `Debug` wait for a lock held by the panicking thread?)"
        )));
        results.resize_with(places.len(), || {
            Err(format!(
                "not captured: the formatting of `{late}` before it did not finish in time"
            ))
        });
    }
    results
}

/// Turns pending scopes into captured ones; `run_user_code` captures the variables whose
/// capture runs user code, all at once, given their places (scope and variable indices).
///
/// Each scope's variables are built in place, in their final order; those whose capture
/// runs user code hold a placeholder until `run_user_code` has run.
fn collect(
    pending: Pending<'_>,
    run_user_code: impl FnOnce(&Pending<'_>, &[(usize, usize)]) -> Vec<Result<CapturedValue, String>>,
) -> Vec<SiteScope> {
    // One builder for every value captured here: its buffers grow once.
    let mut builder = Builder::default();
    // Where each variable whose capture runs user code goes: (scope, variable) indices.
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
    if !places.is_empty() {
        let mut results = run_user_code(&pending, &places).into_iter();
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
