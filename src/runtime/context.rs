//! Tags and context values that follow the work: set at the start of a request or a job
//! (the tenant, the job id), they are in the report of any error captured while it runs,
//! in its own task and in the tasks it spawns through the adaptor.
//!
//! # Example
//! ```
//! use safe_report::runtime::context::{Context, ContextExt};
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # runtime.block_on(async {
//! let job = async {
//!     // A task spawned with the adaptor carries the context it was created in.
//!     let child = tokio::spawn(async {
//!         safe_report::runtime::context::current().unwrap().tags.clone()
//!     }.in_current_context());
//!     child.await.unwrap()
//! };
//! let tags = job.with_context(Context::new().tag("tenant", "acme")).await;
//! assert_eq!(tags, [("tenant".to_owned(), "acme".to_owned())]);
//! # });
//! ```
//!
//! Like tracing's `instrument`, the adaptor makes its context current while the future is
//! polled, on whatever thread polls it; `tokio::spawn` of a plain future does not carry it.
//! Captures read the current context where the error is captured: the panic hook (on the
//! panicking thread), [`Traced`](crate::Traced) errors when they are created, and the
//! `tracing` and `log` integrations. Values are kept as given and filtered when the report
//! is built, like every other string.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};

use crate::model::TaskContext;

thread_local! {
    static CURRENT: RefCell<Option<Arc<TaskContext>>> = const { RefCell::new(None) };
}

/// The tags and context values of the running work, if any. Never panics: while the
/// thread is torn down, or from inside a poll that swaps the context, it is `None`.
pub fn current() -> Option<Arc<TaskContext>> {
    CURRENT
        .try_with(|current| current.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

/// Makes `context` current until the guard is dropped (also when a panic unwinds).
fn enter(context: Option<Arc<TaskContext>>) -> Restore {
    let previous = CURRENT
        .try_with(|current| {
            current
                .try_borrow_mut()
                .map(|mut slot| std::mem::replace(&mut *slot, context))
                .ok()
        })
        .ok()
        .flatten();
    Restore(previous)
}

/// The context to put back; `None` when entering could not change it (nothing to undo).
struct Restore(Option<Option<Arc<TaskContext>>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let Some(previous) = self.0.take() else {
            return;
        };
        let _ = CURRENT.try_with(|current| {
            if let Ok(mut slot) = current.try_borrow_mut() {
                *slot = previous;
            }
        });
    }
}

/// Tags and context values to attach to a scope or a future: a builder.
///
/// What it holds goes over the context current where it is attached (its entries win on
/// equal names). `Debug` counts the entries and shows no value.
#[derive(Clone, Default, Debug)]
#[must_use = "a Context does nothing until run or attached to a future"]
#[non_exhaustive]
pub struct Context {
    own: TaskContext,
}

impl Context {
    /// No tags, no values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tag (short, to search and group by: `tenant`, `region`).
    pub fn tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        TaskContext::put(&mut self.own.tags, name.into(), value.into());
        self
    }

    /// Adds a context value (`job_id`, `order`).
    pub fn value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        TaskContext::put(&mut self.own.values, name.into(), value.into());
        self
    }

    /// This context over the current one.
    fn resolve(&self) -> Arc<TaskContext> {
        match current() {
            Some(outer) => Arc::new(outer.merged(&self.own)),
            None => Arc::new(self.own.clone()),
        }
    }

    /// Runs `f` with this context (over the current one) current.
    ///
    /// ```
    /// use safe_report::runtime::context::{self, Context};
    ///
    /// let values = Context::new().value("job_id", "j-7").run(|| context::current().unwrap().values.clone());
    /// assert_eq!(values, [("job_id".to_owned(), "j-7".to_owned())]);
    /// assert!(context::current().is_none());
    /// ```
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = enter(Some(self.resolve()));
        f()
    }
}

/// A future with a context current while it is polled (see [`ContextExt`]).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WithContext<F> {
    inner: Pin<Box<F>>,
    context: Option<Arc<TaskContext>>,
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<F::Output> {
        let _restore = enter(self.context.clone());
        self.inner.as_mut().poll(cx)
    }
}

/// Attaches a context to a future, as tracing's `Instrument` attaches a span.
pub trait ContextExt: Future + Sized {
    /// This future with `context` (over the context current now) current while it is
    /// polled.
    fn with_context(self, context: Context) -> WithContext<Self> {
        WithContext {
            inner: Box::pin(self),
            context: Some(context.resolve()),
        }
    }

    /// This future with the context current now: what `tokio::spawn` needs to carry it
    /// into the new task.
    fn in_current_context(self) -> WithContext<Self> {
        WithContext {
            inner: Box::pin(self),
            context: current(),
        }
    }
}

impl<F: Future> ContextExt for F {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_entries_win_and_the_outer_context_comes_back() {
        Context::new()
            .tag("tenant", "acme")
            .tag("region", "eu")
            .run(|| {
                Context::new().tag("tenant", "other").run(|| {
                    let now = current().unwrap();
                    assert_eq!(
                        now.tags,
                        [
                            ("tenant".to_owned(), "other".to_owned()),
                            ("region".to_owned(), "eu".to_owned())
                        ]
                    );
                });
                assert_eq!(current().unwrap().tags[0].1, "acme");
            });
        assert!(current().is_none());
    }

    #[test]
    fn a_panic_inside_run_restores_the_outer_context() {
        let caught = std::panic::catch_unwind(|| {
            Context::new().tag("tenant", "acme").run(|| panic!("boom"));
        });
        assert!(caught.is_err());
        assert!(current().is_none());
    }
}
