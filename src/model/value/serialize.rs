//! Reading a `Serialize` value (a registered frame variable) straight into a [`Builder`], in
//! its own order: a struct's fields as declared, a map's entries as it gives them. No
//! `serde_json::Value` in between, so nothing depends on how `serde_json` orders maps.
//!
//! Shapes follow `serde_json::to_value`: `None` and `()` are `null`, an enum variant with data
//! is a map of one entry named after it, bytes are a list of numbers, map keys that are
//! numbers, booleans or characters become strings.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::Builder;

/// Why a value could not be read: its `Serialize` failed, or gave a shape JSON cannot hold.
#[derive(Debug)]
pub(crate) struct SerializeError(String);

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerializeError {}

impl ser::Error for SerializeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

impl Builder {
    /// Adds `value` as its `Serialize` gives it. When that fails, nothing is added.
    pub(crate) fn serialized<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), SerializeError> {
        let mark = self.mark();
        let result = value.serialize(Adding(self));
        if result.is_err() {
            self.rollback(mark);
        }
        result
    }
}

/// The serializer: adds what it is given to its builder.
struct Adding<'b>(&'b mut Builder);

fn out_of_range() -> SerializeError {
    SerializeError("number out of range".to_owned())
}

impl<'b> ser::Serializer for Adding<'b> {
    type Ok = ();
    type Error = SerializeError;
    type SerializeSeq = Compound<'b>;
    type SerializeTuple = Compound<'b>;
    type SerializeTupleStruct = Compound<'b>;
    type SerializeTupleVariant = Compound<'b>;
    type SerializeMap = Compound<'b>;
    type SerializeStruct = Compound<'b>;
    type SerializeStructVariant = Compound<'b>;

    fn serialize_bool(self, v: bool) -> Result<(), SerializeError> {
        self.0.bool(v);
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), SerializeError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), SerializeError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), SerializeError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), SerializeError> {
        self.0.i64(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), SerializeError> {
        if let Ok(n) = u64::try_from(v) {
            self.0.u64(n);
        } else {
            self.0.i64(i64::try_from(v).map_err(|_| out_of_range())?);
        }
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), SerializeError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), SerializeError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), SerializeError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), SerializeError> {
        self.0.u64(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), SerializeError> {
        self.0.u64(u64::try_from(v).map_err(|_| out_of_range())?);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), SerializeError> {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), SerializeError> {
        self.0.f64(v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), SerializeError> {
        self.0.str(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), SerializeError> {
        self.0.str(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerializeError> {
        self.0.list(v, |builder, &byte| builder.u64(byte.into()));
        Ok(())
    }

    fn serialize_none(self) -> Result<(), SerializeError> {
        self.0.null();
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), SerializeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), SerializeError> {
        self.0.null();
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), SerializeError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), SerializeError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.0
            .entry(variant, |builder| value.serialize(Adding(builder)))
            .unwrap_or(Ok(()))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'b>, SerializeError> {
        Ok(Compound::open(self.0, None, false))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'b>, SerializeError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'b>, SerializeError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'b>, SerializeError> {
        Ok(Compound::open(self.0, Some(variant), false))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'b>, SerializeError> {
        Ok(Compound::open(self.0, None, true))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'b>, SerializeError> {
        Ok(Compound::open(self.0, None, true))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'b>, SerializeError> {
        Ok(Compound::open(self.0, Some(variant), true))
    }
}

/// A list or map being added. `index` is `None` beyond the depth limit, where `null` stands
/// for it and its parts are not read at all.
struct Compound<'b> {
    builder: &'b mut Builder,
    index: Option<usize>,
    len: u32,
    /// The map of one entry around an enum variant's data, when this is one.
    variant: Option<usize>,
}

impl<'b> Compound<'b> {
    fn open(builder: &'b mut Builder, variant: Option<&str>, map: bool) -> Self {
        let (variant, index) = match variant {
            Some(name) => match builder.open(true) {
                Some(outer) => {
                    builder.str(name);
                    (Some(outer), builder.open(map))
                }
                None => (None, None),
            },
            None => (None, builder.open(map)),
        };
        Compound {
            builder,
            index,
            len: 0,
            variant,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerializeError> {
        if self.index.is_some() {
            value.serialize(Adding(self.builder))?;
            self.len = self.len.saturating_add(1);
        }
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), SerializeError> {
        if self.index.is_some() {
            self.builder.str(key);
            value.serialize(Adding(self.builder))?;
            self.len = self.len.saturating_add(1);
        }
        Ok(())
    }

    fn finish(self) -> Result<(), SerializeError> {
        if let Some(index) = self.index {
            self.builder.close(index, self.len);
        }
        if let Some(outer) = self.variant {
            self.builder.close(outer, 1);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerializeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerializeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerializeError> {
        if self.index.is_some() {
            self.builder.str(&key.serialize(KeyText)?);
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerializeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), SerializeError> {
        self.finish()
    }
}

/// A map key as text: strings and characters as they are; numbers and booleans written out,
/// as `serde_json` does. Anything else cannot be a key.
struct KeyText;

fn not_a_key<T>() -> Result<T, SerializeError> {
    Err(SerializeError("key must be a string".to_owned()))
}

macro_rules! written_keys {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<String, SerializeError> {
            Ok(v.to_string())
        }
    )*};
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = SerializeError;
    type SerializeSeq = Impossible<String, SerializeError>;
    type SerializeTuple = Impossible<String, SerializeError>;
    type SerializeTupleStruct = Impossible<String, SerializeError>;
    type SerializeTupleVariant = Impossible<String, SerializeError>;
    type SerializeMap = Impossible<String, SerializeError>;
    type SerializeStruct = Impossible<String, SerializeError>;
    type SerializeStructVariant = Impossible<String, SerializeError>;

    written_keys!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str
    );

    fn serialize_f32(self, _: f32) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_f64(self, _: f64) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_none(self) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_unit(self) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, SerializeError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, SerializeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, SerializeError> {
        not_a_key()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerializeError> {
        not_a_key()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerializeError> {
        not_a_key()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerializeError> {
        not_a_key()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerializeError> {
        not_a_key()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerializeError> {
        not_a_key()
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerializeError> {
        not_a_key()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerializeError> {
        not_a_key()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::super::{Builder, CapturedKind, CapturedValue};

    fn captured<T: Serialize>(value: &T) -> CapturedValue {
        let mut builder = Builder::default();
        builder.serialized(value).expect("serializable");
        builder.finish()
    }

    fn keys(value: &CapturedValue) -> Vec<String> {
        let CapturedKind::Map(entries) = value.root().kind() else {
            panic!("a map");
        };
        entries.map(|(key, _)| key.to_owned()).collect()
    }

    #[derive(Serialize)]
    struct Order {
        zone: &'static str,
        id: u32,
        items: Vec<Item>,
        note: Option<String>,
        kind: Kind,
        total: (i64, f64),
    }

    #[derive(Serialize)]
    enum Item {
        Sku(&'static str),
        Bundle { skus: Vec<&'static str>, price: u32 },
        Pair(u8, u8),
        Gift,
    }

    #[derive(Serialize)]
    struct Kind(&'static str);

    #[test]
    fn a_struct_keeps_its_fields_in_declaration_order_and_the_shapes_of_serde_json() {
        let order = Order {
            zone: "eu",
            id: 7,
            items: vec![
                Item::Sku("sku-1"),
                Item::Bundle {
                    skus: vec!["a", "b"],
                    price: 30,
                },
                Item::Pair(1, 2),
                Item::Gift,
            ],
            note: None,
            kind: Kind("retail"),
            total: (-3, 1.5),
        };
        let value = captured(&order);
        assert_eq!(
            keys(&value),
            ["zone", "id", "items", "note", "kind", "total"]
        );
        assert_eq!(value.to_value(), serde_json::to_value(&order).unwrap());
    }

    #[test]
    fn map_keys_are_written_as_serde_json_writes_them() {
        let numbers = BTreeMap::from([(2, "two"), (10, "ten")]);
        let numbers = captured(&numbers);
        assert_eq!(keys(&numbers), ["2", "10"]);
        assert_eq!(numbers, json!({"2": "two", "10": "ten"}));
        let mut builder = Builder::default();
        let error = builder
            .serialized(&BTreeMap::from([((1, 2), "pair")]))
            .unwrap_err();
        assert_eq!(error.to_string(), "key must be a string");
        // Nothing of the failed value is left behind.
        builder.str("next");
        assert_eq!(builder.finish(), json!("next"));
    }

    #[test]
    fn a_failing_serialize_adds_nothing() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut builder = Builder::default();
        let error = builder
            .serialized(&json!({"a": [1, 2]}).as_object().map(|_| vec![Some(Fails)]))
            .unwrap_err();
        assert_eq!(error.to_string(), "no");
        builder.u64(5);
        assert_eq!(builder.finish(), json!(5));
    }

    #[test]
    fn deep_values_stop_at_the_depth_limit_without_reading_further() {
        /// Lists nested `0` deep; reading the innermost panics.
        struct Nest(usize);
        impl Serialize for Nest {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                assert!(self.0 > 0, "read below the depth limit");
                let mut seq = s.serialize_seq(Some(1))?;
                seq.serialize_element(&Nest(self.0 - 1))?;
                seq.end()
            }
        }
        let value = captured(&Nest(1_000));
        let mut depth = 0;
        let mut at = value.root();
        while let CapturedKind::List(mut items) = at.kind() {
            depth += 1;
            at = items.next().expect("one item");
        }
        assert!(matches!(at.kind(), CapturedKind::Null));
        assert_eq!(depth, super::super::MAX_CAPTURE_DEPTH);
    }
}
