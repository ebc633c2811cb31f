//! What runs where the error happens: frame variables registered by running code, stack
//! traces taken unresolved and resolved later, and error values that carry both.
//!
//! This layer reads and fills the [model](crate::model); it knows nothing of filters,
//! reports or integrations. Integrations plug into it through slots it owns (the `tracing`
//! layer registers where the entered spans' fields come from).
//!
//! ```
//! let order_id = "ord_42";
//! let scopes = safe_report::vars!(order_id).run(safe_report::runtime::scope::capture_scopes);
//! assert_eq!(scopes[0].vars[0].name, "order_id");
//! ```

pub mod background;
pub mod breadcrumbs;
pub mod context;
mod delivery;
pub mod scope;
mod spans;
pub mod trace;
mod traced;

pub(crate) use delivery::mark_delivery_thread;
#[cfg(any(feature = "tracing", feature = "log"))]
pub(crate) use delivery::on_delivery_thread;
#[doc(hidden)]
pub use spans::set_span_source;
pub(crate) use spans::span_scopes;
pub use traced::{ResultExt, Traced};
