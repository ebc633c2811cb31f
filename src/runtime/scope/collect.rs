//! Reading the registered values into captured variables: on this thread for errors, on a
//! helper thread from inside the panic hook.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::registry::{Pending, Var, with_pending};
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
    let _formatting = Formatting::enter();
    catch_unwind(AssertUnwindSafe(format)).map_err(|payload| {
        let message = crate::runtime::panic_message(payload.as_ref());
        format!("the value's formatting panicked: {message}")
    })
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
