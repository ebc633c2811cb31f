//! `vars!`: registering local values as a frame's variables.

/// Support for [`vars!`](crate::vars); not part of the public API.
#[doc(hidden)]
pub mod private {
    use super::super::{How, Lock, Plain, Site};
    use serde::Serialize;
    use std::fmt;
    use std::marker::PhantomData;

    /// Stands for a type; `vars!` asks it how values of that type are captured.
    pub struct Probe<T: ?Sized>(PhantomData<fn(&T)>);

    pub fn probe<T>(_: &T) -> Probe<T> {
        Probe(PhantomData)
    }

    // Autoref specialisation: `(&&&&probe).capture()` takes the first impl that applies.
    // Locks come before `Serialize`: serde's `Serialize` for `Mutex` and `RwLock` waits
    // for the lock, which the panicking thread may hold.
    pub trait ViaPlain<T> {
        fn capture(self) -> How<T>;
    }
    pub trait ViaLock<T> {
        fn capture(self) -> How<T>;
    }
    pub trait ViaSerialize<T> {
        fn capture(self) -> How<T>;
    }
    pub trait ViaDebug<T> {
        fn capture(self) -> How<T>;
    }

    impl<T: Plain> ViaPlain<T> for &&&&Probe<T> {
        fn capture(self) -> How<T> {
            How::plain()
        }
    }
    impl<T: Lock> ViaLock<T> for &&&Probe<T>
    where
        T::Value: Serialize,
    {
        fn capture(self) -> How<T> {
            How::locked()
        }
    }
    impl<T: Serialize + Sync> ViaSerialize<T> for &&Probe<T> {
        fn capture(self) -> How<T> {
            How::serialize()
        }
    }
    impl<T: fmt::Debug + Sync> ViaDebug<T> for &Probe<T> {
        fn capture(self) -> How<T> {
            How::debug()
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
/// values behind a `Mutex` or `RwLock` are read without waiting for the lock (a held lock
/// shows `"<locked>"`, see [`Lock`](crate::runtime::scope::Lock)); other types through
/// `Serialize` when they implement it (so their fields can be filtered by name), else
/// through `Debug`. Registered values must be `Sync`.
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
/// See [`Scope`](crate::runtime::scope::Scope) for `sensitive`, `run` and `run_async`.
#[macro_export]
macro_rules! vars {
    ($($name:ident $(= $value:expr)?),* $(,)?) => {
        $crate::runtime::scope::Scope::new(
            $crate::runtime::scope::private::site(
                {
                    fn __safe_report_site() {}
                    $crate::runtime::scope::private::type_name_of(&__safe_report_site)
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
            reference => $crate::runtime::scope::Var::new(
                ::core::stringify!($name),
                reference,
                {
                    #[allow(unused_imports)]
                    use $crate::runtime::scope::private::{
                        ViaDebug, ViaLock, ViaPlain, ViaSerialize,
                    };
                    (&&&&$crate::runtime::scope::private::probe(reference)).capture()
                },
            ),
        }
    };
}
