//! The standard types this crate captures with its own code: numbers, strings, options,
//! lists and maps of them, locks holding them, and `serde_json::Value`. No user code runs,
//! nothing can panic and nothing waits.

use std::sync::{Mutex, RwLock};

use serde_json::Value;

use super::read::capture_locked;
use crate::model::CapturedValue;
use crate::model::value::Builder;

// ---------------------------------------------------------------------------------------
// How values are captured: the standard types by this crate's code, others through their
// `Serialize` or `Debug` impls. `vars!` picks the first that applies (autoref
// specialisation).
// ---------------------------------------------------------------------------------------

/// Types this crate captures with its own code (no user code runs, nothing can panic, and
/// nothing waits: a `Mutex` or `RwLock` is read with `try_lock`/`try_read`, see
/// [`Lock`](super::Lock)).
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

// Locks are read without waiting (see `read.rs`): `"<locked>"` while a thread holds one.
impl<T: Plain + Send + ?Sized> sealed::Sealed for Mutex<T> {}
impl<T: Plain + Send + ?Sized> Plain for Mutex<T> {
    fn capture(&self, into: &mut Builder) {
        capture_locked(self, into, T::capture);
    }
}

impl<T: Plain + Send + ?Sized> sealed::Sealed for RwLock<T> {}
impl<T: Plain + Send + ?Sized> Plain for RwLock<T> {
    fn capture(&self, into: &mut Builder) {
        capture_locked(self, into, T::capture);
    }
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
