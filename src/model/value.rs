//! Captured values: the structured data of a frame variable, stored compactly.
//!
//! The panic hook copies every registered value before unwinding drops it. As a
//! `serde_json::Value` that costs an allocation per string, list and map (a list of fifty
//! strings: fifty-one), and as many frees when the report is done. A [`CapturedValue`]
//! keeps the same data in two blocks: its nodes in one, the text of all its strings and keys
//! end to end in the other. The filter and the formatter read it in place.

use std::fmt;

use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use super::redacted::{ByteLen, Count};

mod deserialize;
mod serialize;

pub(crate) use serialize::SerializeError;

/// Deeper than this, a captured value holds `null` instead of its contents. A report hides
/// anything nested deeper than [`MAX_DEPTH`](crate::limits::MAX_DEPTH) anyway, and the
/// limit keeps capturing from recursing without bound.
const MAX_CAPTURE_DEPTH: usize = crate::limits::MAX_DEPTH + 2;

/// What stands for a string whose text would not fit in a value's 4 GiB of text.
const TOO_LONG: &str = "[too long to capture]";

/// One node as stored: 16 bytes in aligned words (so that moving it is two plain moves; an
/// enum of the same size has its fields at odd offsets). [`Shape`] says what it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    tag: u32,
    a: u32,
    b: u64,
}

/// What a node holds. A list is followed by its items, a map by its entries (a key, then its
/// value); `end` is the index of the first node after them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str { start: u32, len: u32 },
    List { len: u32, end: u32 },
    Map { len: u32, end: u32 },
}

impl Node {
    const NULL: Node = Node::new(Shape::Null);

    #[inline]
    const fn new(shape: Shape) -> Self {
        let (tag, a, b) = match shape {
            Shape::Null => (0, 0, 0),
            Shape::Bool(value) => (1, value as u32, 0),
            Shape::U64(n) => (2, 0, n),
            Shape::I64(n) => (3, 0, n as u64),
            Shape::F64(n) => (4, 0, n.to_bits()),
            Shape::Str { start, len } => (5, len, start as u64),
            Shape::List { len, end } => (6, len, end as u64),
            Shape::Map { len, end } => (7, len, end as u64),
        };
        Node { tag, a, b }
    }

    #[inline]
    fn shape(self) -> Shape {
        let Node { tag, a, b } = self;
        match tag {
            1 => Shape::Bool(a != 0),
            2 => Shape::U64(b),
            3 => Shape::I64(b as i64),
            4 => Shape::F64(f64::from_bits(b)),
            5 => Shape::Str {
                start: b as u32,
                len: a,
            },
            6 => Shape::List {
                len: a,
                end: b as u32,
            },
            7 => Shape::Map {
                len: a,
                end: b as u32,
            },
            _ => Shape::Null,
        }
    }
}

/// A frame variable's value as captured: strings, numbers, booleans, null, lists and maps
/// (keys in order), as in JSON.
///
/// Built from a `serde_json::Value` (whose maps `serde_json` keeps sorted), a string, number
/// or boolean, or read from JSON text (its maps in the order written), and read through
/// [`root`](Self::root) or copied out with [`to_value`](Self::to_value). Its JSON form is
/// the value itself. `Debug` shows its kind and size (`CapturedValue(<map, 2 entries>)`),
/// never what it holds.
///
/// ```
/// use safe_report::model::{CapturedKind, CapturedValue};
/// use serde_json::json;
///
/// let value: CapturedValue =
///     serde_json::from_str(r#"{"order": "ord_42", "items": [1, 2]}"#).unwrap();
/// let CapturedKind::Map(mut entries) = value.root().kind() else { unreachable!() };
/// let (key, order) = entries.next().unwrap();
/// assert_eq!((key, order.as_str()), ("order", Some("ord_42")));
/// assert_eq!(value, json!({"order": "ord_42", "items": [1, 2]}));
/// ```
#[derive(Clone, PartialEq)]
pub struct CapturedValue {
    /// The first node, kept inline: a number or a boolean needs no allocation.
    root: Node,
    /// Every node, the first one included, when there are several (empty otherwise).
    nodes: Box<[Node]>,
    /// The text of every string and key, end to end.
    text: Box<str>,
}

impl CapturedValue {
    /// The top of the value.
    #[inline]
    pub fn root(&self) -> CapturedRef<'_> {
        CapturedRef {
            value: self,
            index: 0,
            node: self.root,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        self.root().as_str()
    }

    /// A copy as plain data.
    pub fn to_value(&self) -> Value {
        self.root().to_value()
    }

    /// The part at `index`, which is not the root (there are other nodes).
    #[inline]
    fn part(&self, index: u32) -> CapturedRef<'_> {
        CapturedRef {
            value: self,
            index,
            node: self
                .nodes
                .get(index as usize)
                .copied()
                .unwrap_or(Node::NULL),
        }
    }

    #[inline]
    fn str_at(&self, start: u32, len: u32) -> &str {
        let (start, len) = (start as usize, len as usize);
        self.text.get(start..start + len).unwrap_or_default()
    }
}

impl Default for CapturedValue {
    /// `null`.
    fn default() -> Self {
        Self {
            root: Node::NULL,
            nodes: Box::default(),
            text: Box::default(),
        }
    }
}

impl fmt::Debug for CapturedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CapturedValue")
            .field(&self.root().outline())
            .finish()
    }
}

/// A part of a [`CapturedValue`], borrowed. `Debug` shows its kind and size only.
#[derive(Clone, Copy)]
pub struct CapturedRef<'a> {
    value: &'a CapturedValue,
    index: u32,
    /// The node at `index`, read once.
    node: Node,
}

/// What a [`CapturedRef`] is. `Debug` shows the kind and size (`Str(<6 bytes>)`), never
/// the value.
#[non_exhaustive]
pub enum CapturedKind<'a> {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    Str(&'a str),
    /// A list: its items.
    List(Items<'a>),
    /// A map: its entries, in order.
    Map(Entries<'a>),
}

impl<'a> CapturedRef<'a> {
    /// What this part is.
    #[inline]
    pub fn kind(self) -> CapturedKind<'a> {
        let value = self.value;
        match self.node.shape() {
            Shape::Null => CapturedKind::Null,
            Shape::Bool(b) => CapturedKind::Bool(b),
            Shape::U64(n) => CapturedKind::Number(n.into()),
            Shape::I64(n) => CapturedKind::Number(n.into()),
            // Only finite numbers are stored.
            Shape::F64(n) => Number::from_f64(n).map_or(CapturedKind::Null, CapturedKind::Number),
            Shape::Str { start, len } => CapturedKind::Str(value.str_at(start, len)),
            Shape::List { len, .. } => CapturedKind::List(Items {
                value,
                next: self.index + 1,
                left: len,
            }),
            Shape::Map { len, .. } => CapturedKind::Map(Entries {
                value,
                next: self.index + 1,
                left: len,
            }),
        }
    }

    /// The index of the first node after this part and everything inside it.
    #[inline]
    fn end(self) -> u32 {
        match self.node.shape() {
            Shape::List { end, .. } | Shape::Map { end, .. } => end,
            _ => self.index + 1,
        }
    }

    /// This part as a string, if it is one.
    #[inline]
    pub fn as_str(self) -> Option<&'a str> {
        match self.node.shape() {
            Shape::Str { start, len } => Some(self.value.str_at(start, len)),
            _ => None,
        }
    }

    /// A copy as plain data.
    pub fn to_value(self) -> Value {
        match self.kind() {
            CapturedKind::Null => Value::Null,
            CapturedKind::Bool(b) => Value::Bool(b),
            CapturedKind::Number(n) => Value::Number(n),
            CapturedKind::Str(text) => Value::String(text.to_owned()),
            CapturedKind::List(items) => Value::Array(items.map(CapturedRef::to_value).collect()),
            CapturedKind::Map(entries) => Value::Object(
                entries
                    .map(|(key, item)| (key.to_owned(), item.to_value()))
                    .collect(),
            ),
        }
    }

    /// What `Debug` shows of this part: its kind and size.
    pub(crate) fn outline(self) -> Outline<'a> {
        Outline(self)
    }

    /// Whether this part equals `other` as data.
    fn equals(self, other: &Value) -> bool {
        match (self.kind(), other) {
            (CapturedKind::Null, Value::Null) => true,
            (CapturedKind::Bool(a), Value::Bool(b)) => a == *b,
            (CapturedKind::Number(a), Value::Number(b)) => a == *b,
            (CapturedKind::Str(a), Value::String(b)) => a == b,
            (CapturedKind::List(items), Value::Array(others)) => {
                items.len() == others.len() && items.zip(others).all(|(a, b)| a.equals(b))
            }
            // As data, a map's order does not count (`serde_json` keeps its maps sorted).
            (CapturedKind::Map(mut entries), Value::Object(others)) => {
                entries.len() == others.len()
                    && entries.all(|(key, a)| others.get(key).is_some_and(|b| a.equals(b)))
            }
            _ => false,
        }
    }
}

impl fmt::Debug for CapturedRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CapturedRef").field(&self.outline()).finish()
    }
}

/// A captured part as `Debug` shows it: `<str, 6 bytes>`, `<list, 2 items>`,
/// `<map, 3 entries>`, `<number>`, `<bool>` or `<null>`.
pub(crate) struct Outline<'a>(CapturedRef<'a>);

impl fmt::Debug for Outline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind() {
            CapturedKind::Null => f.write_str("<null>"),
            CapturedKind::Bool(_) => f.write_str("<bool>"),
            CapturedKind::Number(_) => f.write_str("<number>"),
            CapturedKind::Str(text) => write!(f, "<str, {}>", plural(text.len(), "byte", "bytes")),
            CapturedKind::List(items) => {
                write!(f, "<list, {}>", plural(items.len(), "item", "items"))
            }
            CapturedKind::Map(entries) => {
                write!(f, "<map, {}>", plural(entries.len(), "entry", "entries"))
            }
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Debug for CapturedKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapturedKind::Null => f.write_str("Null"),
            CapturedKind::Bool(_) => f.debug_tuple("Bool").finish_non_exhaustive(),
            CapturedKind::Number(_) => f.debug_tuple("Number").finish_non_exhaustive(),
            CapturedKind::Str(text) => f.debug_tuple("Str").field(&ByteLen(text.len())).finish(),
            CapturedKind::List(items) => f.debug_tuple("List").field(items).finish(),
            CapturedKind::Map(entries) => f.debug_tuple("Map").field(entries).finish(),
        }
    }
}

impl PartialEq for CapturedRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.equals(&other.to_value())
    }
}

/// The items of a captured list. `Debug` shows how many are left.
#[derive(Clone)]
pub struct Items<'a> {
    value: &'a CapturedValue,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Items<'a> {
    type Item = CapturedRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<CapturedRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.value.part(self.next);
        self.next = item.end();
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Items<'_> {}

impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Items")
            .field(&Count::items(self.left as usize))
            .finish()
    }
}

/// The entries of a captured map, in order. `Debug` shows how many are left.
#[derive(Clone)]
pub struct Entries<'a> {
    value: &'a CapturedValue,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, CapturedRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let key = self.value.part(self.next).as_str().unwrap_or_default();
        let item = self.value.part(self.next + 1);
        self.next = item.end();
        Some((key, item))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Entries<'_> {}

impl fmt::Debug for Entries<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Entries")
            .field(&Count::entries(self.left as usize))
            .finish()
    }
}

impl PartialEq<Value> for CapturedValue {
    fn eq(&self, other: &Value) -> bool {
        self.root().equals(other)
    }
}

impl PartialEq<CapturedValue> for Value {
    fn eq(&self, other: &CapturedValue) -> bool {
        other.root().equals(self)
    }
}

impl PartialEq<str> for CapturedValue {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for CapturedValue {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl From<&Value> for CapturedValue {
    fn from(value: &Value) -> Self {
        Builder::one(|builder| builder.value(value))
    }
}

impl From<Value> for CapturedValue {
    fn from(value: Value) -> Self {
        Self::from(&value)
    }
}

impl From<&str> for CapturedValue {
    fn from(text: &str) -> Self {
        Self::text(text.into())
    }
}

impl From<String> for CapturedValue {
    /// Keeps the string's buffer.
    fn from(text: String) -> Self {
        Self::text(text.into_boxed_str())
    }
}

impl From<bool> for CapturedValue {
    fn from(b: bool) -> Self {
        Self::leaf(Shape::Bool(b))
    }
}

impl From<f64> for CapturedValue {
    /// A finite number; NaN and infinities become `null`, as in `serde_json`.
    fn from(n: f64) -> Self {
        Self::leaf(if n.is_finite() {
            Shape::F64(n)
        } else {
            Shape::Null
        })
    }
}

/// A signed integer's node: one that is not negative is stored as unsigned, as
/// `serde_json` does, so that equal numbers are stored alike.
fn signed(n: i64) -> Shape {
    u64::try_from(n).map_or(Shape::I64(n), Shape::U64)
}

macro_rules! from_integers {
    ($($ty:ty => $node:expr),*) => {$(
        impl From<$ty> for CapturedValue {
            fn from(n: $ty) -> Self {
                Self::leaf($node(n.into()))
            }
        }
    )*};
}

from_integers!(
    u8 => Shape::U64, u16 => Shape::U64, u32 => Shape::U64, u64 => Shape::U64,
    i8 => signed, i16 => signed, i32 => signed, i64 => signed
);

impl CapturedValue {
    fn leaf(shape: Shape) -> Self {
        Self {
            root: Node::new(shape),
            ..Self::default()
        }
    }

    /// A string, its text taken as it is.
    fn text(text: Box<str>) -> Self {
        match u32::try_from(text.len()) {
            Ok(len) => Self {
                root: Node::new(Shape::Str { start: 0, len }),
                nodes: Box::default(),
                text,
            },
            Err(_) => Self::from(TOO_LONG),
        }
    }
}

impl Serialize for CapturedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.root().serialize(serializer)
    }
}

impl Serialize for CapturedRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.kind() {
            CapturedKind::Null => serializer.serialize_unit(),
            CapturedKind::Bool(b) => serializer.serialize_bool(b),
            CapturedKind::Number(n) => n.serialize(serializer),
            CapturedKind::Str(text) => serializer.serialize_str(text),
            CapturedKind::List(items) => serializer.collect_seq(items),
            CapturedKind::Map(entries) => serializer.collect_map(entries),
        }
    }
}

impl<'de> Deserialize<'de> for CapturedValue {
    /// Reads the value straight into its nodes, maps in the order they come.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut builder = Builder::default();
        deserialize::Seed(&mut builder).deserialize(deserializer)?;
        Ok(builder.finish())
    }
}

/// A place in a [`Builder`] (see [`Builder::mark`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    nodes: usize,
    text: usize,
    depth: usize,
}

/// Builds [`CapturedValue`]s: the nodes of one value, depth first, then
/// [`finish`](Self::finish). One builder serves many values; its buffers are reused.
/// `Debug` shows sizes only.
#[derive(Default)]
pub struct Builder {
    nodes: Vec<Node>,
    text: String,
    depth: usize,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("nodes", &self.nodes.len())
            .field("text", &ByteLen(self.text.len()))
            .field("depth", &self.depth)
            .finish()
    }
}

const LIST: Shape = Shape::List { len: 0, end: 0 };
const MAP: Shape = Shape::Map { len: 0, end: 0 };

impl Builder {
    /// Builds one value with a new builder.
    fn one(build: impl FnOnce(&mut Builder)) -> CapturedValue {
        let mut builder = Builder::default();
        build(&mut builder);
        builder.finish()
    }

    /// The value built since the last `finish`, copied out exactly sized; the builder is
    /// empty again.
    pub(crate) fn finish(&mut self) -> CapturedValue {
        let value = match self.nodes.as_slice() {
            [] => CapturedValue::default(),
            [root] => CapturedValue {
                root: *root,
                nodes: Box::default(),
                text: self.text.as_str().into(),
            },
            nodes => CapturedValue {
                root: nodes[0],
                nodes: nodes.into(),
                text: self.text.as_str().into(),
            },
        };
        self.nodes.clear();
        self.text.clear();
        self.depth = 0;
        value
    }

    fn push(&mut self, shape: Shape) {
        // Four billion nodes would be 64 GB: never reached before memory runs out.
        if self.nodes.len() < u32::MAX as usize {
            self.nodes.push(Node::new(shape));
        }
    }

    pub(crate) fn null(&mut self) {
        self.push(Shape::Null);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.push(Shape::Bool(b));
    }

    pub(crate) fn u64(&mut self, n: u64) {
        self.push(Shape::U64(n));
    }

    pub(crate) fn i64(&mut self, n: i64) {
        self.push(signed(n));
    }

    pub(crate) fn f64(&mut self, n: f64) {
        self.push(if n.is_finite() {
            Shape::F64(n)
        } else {
            Shape::Null
        });
    }

    pub(crate) fn str(&mut self, text: &str) {
        // A value's text is addressed with `u32`s: 4 GiB. A string that would end beyond
        // is replaced by a notice, or by `null` when not even that fits.
        let start = self.text.len();
        let text = if start + text.len() <= u32::MAX as usize {
            text
        } else if start + TOO_LONG.len() <= u32::MAX as usize {
            TOO_LONG
        } else {
            return self.null();
        };
        self.text.push_str(text);
        self.push(Shape::Str {
            start: start as u32,
            len: text.len() as u32,
        });
    }

    /// Adds a list: `add` adds each item. Beyond the depth limit, `null` stands for it.
    pub(crate) fn list<I>(
        &mut self,
        items: impl IntoIterator<Item = I>,
        mut add: impl FnMut(&mut Self, I),
    ) {
        self.container(LIST, items, |builder, item| add(builder, item));
    }

    /// Adds a map: `add` adds the value of each entry, after its key.
    pub(crate) fn map<'k, I>(
        &mut self,
        entries: impl IntoIterator<Item = (&'k str, I)>,
        mut add: impl FnMut(&mut Self, I),
    ) {
        self.container(MAP, entries, |builder, (key, item)| {
            builder.str(key);
            add(builder, item);
        });
    }

    /// A list or map (`shape`, its counts filled in at the end) and what it holds.
    fn container<I>(
        &mut self,
        shape: Shape,
        parts: impl IntoIterator<Item = I>,
        mut add: impl FnMut(&mut Self, I),
    ) {
        let Some(index) = self.open(matches!(shape, Shape::Map { .. })) else {
            return;
        };
        let mut len = 0u32;
        for part in parts {
            add(self, part);
            len = len.saturating_add(1);
        }
        self.close(index, len);
    }

    /// Starts a map (`map`) or a list, to be ended by [`close`](Self::close) with the
    /// index returned and the number of items or entries added in between. Beyond the
    /// depth limit `null` stands for it and there is nothing to close: `None`.
    pub(crate) fn open(&mut self, map: bool) -> Option<usize> {
        if self.depth >= MAX_CAPTURE_DEPTH {
            self.null();
            return None;
        }
        self.depth += 1;
        let index = self.nodes.len();
        self.push(if map { MAP } else { LIST });
        Some(index)
    }

    /// Ends the list or map [`open`](Self::open) started at `index`, which holds `len`
    /// items or entries.
    pub(crate) fn close(&mut self, index: usize, len: u32) {
        self.depth -= 1;
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(node) = self.nodes.get_mut(index) {
            *node = Node::new(match node.shape() {
                Shape::Map { .. } => Shape::Map { len, end },
                _ => Shape::List { len, end },
            });
        }
    }

    /// Adds a map of one entry, `key`, whose value `add` adds.
    pub(crate) fn entry<R>(&mut self, key: &str, add: impl FnOnce(&mut Self) -> R) -> Option<R> {
        let index = self.open(true)?;
        self.str(key);
        let result = add(self);
        self.close(index, 1);
        Some(result)
    }

    /// Where the builder is now, to go back to with [`rollback`](Self::rollback).
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            nodes: self.nodes.len(),
            text: self.text.len(),
            depth: self.depth,
        }
    }

    /// Forgets what was added since `mark`.
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.nodes.truncate(mark.nodes);
        self.text.truncate(mark.text);
        self.depth = mark.depth;
    }

    /// Adds a plain value.
    pub(crate) fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(n), _) => self.u64(n),
                (_, Some(n)) => self.i64(n),
                _ => self.f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(text) => self.str(text),
            Value::Array(items) => self.list(items, Self::value),
            Value::Object(map) => {
                self.map(
                    map.iter().map(|(key, item)| (key.as_str(), item)),
                    Self::value,
                );
            }
        }
    }
}

/// How the filter and the formatter read a value, whatever holds it: plain data
/// (`&Value`), a captured value ([`CapturedRef`]) or a value as the filter shows it.
pub(crate) trait Tree<'a>: Copy {
    /// The items of a list.
    type Items: Iterator<Item = Self> + Clone;
    /// The entries of a map, in order.
    type Entries: Iterator<Item = (&'a str, Self)> + Clone;

    /// What the value is.
    fn kind(self) -> Kind<'a, Self>;
}

/// A value as [`Tree`] reads it.
pub(crate) enum Kind<'a, T: Tree<'a>> {
    /// A string.
    Str(&'a str),
    /// Null, a boolean or a number.
    Leaf(Leaf),
    /// A list: its length and items.
    List(usize, T::Items),
    /// A map: its length and entries.
    Map(usize, T::Entries),
    /// Plain data inside a shown value (a part the filter left unchanged).
    Value(&'a Value),
    /// Captured data inside a shown value (a part the filter left unchanged).
    Captured(CapturedRef<'a>),
}

/// Null, a boolean or a number.
pub(crate) enum Leaf {
    Null,
    Bool(bool),
    Number(Number),
}

/// The entries of a plain map.
#[derive(Clone)]
pub(crate) struct ValueEntries<'a>(serde_json::map::Iter<'a>);

impl<'a> Iterator for ValueEntries<'a> {
    type Item = (&'a str, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, item)| (key.as_str(), item))
    }
}

impl<'a> Tree<'a> for &'a Value {
    type Items = std::slice::Iter<'a, Value>;
    type Entries = ValueEntries<'a>;

    #[inline]
    fn kind(self) -> Kind<'a, Self> {
        match self {
            Value::String(text) => Kind::Str(text),
            Value::Array(items) => Kind::List(items.len(), items.iter()),
            Value::Object(map) => Kind::Map(map.len(), ValueEntries(map.iter())),
            Value::Null => Kind::Leaf(Leaf::Null),
            Value::Bool(b) => Kind::Leaf(Leaf::Bool(*b)),
            Value::Number(n) => Kind::Leaf(Leaf::Number(n.clone())),
        }
    }
}

impl<'a> Tree<'a> for CapturedRef<'a> {
    type Items = Items<'a>;
    type Entries = Entries<'a>;

    #[inline]
    fn kind(self) -> Kind<'a, Self> {
        match CapturedRef::kind(self) {
            CapturedKind::Str(text) => Kind::Str(text),
            CapturedKind::List(items) => Kind::List(items.len(), items),
            CapturedKind::Map(entries) => Kind::Map(entries.len(), entries),
            CapturedKind::Null => Kind::Leaf(Leaf::Null),
            CapturedKind::Bool(b) => Kind::Leaf(Leaf::Bool(b)),
            CapturedKind::Number(n) => Kind::Leaf(Leaf::Number(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "order": "ord_42",
            "items": [1, -2, 2.5, true, null, "x", [], {}],
            "nested": {"a": {"b": ["c", {"d": "e"}]}, "": ""},
            "big": u64::MAX,
            "small": i64::MIN,
        })
    }

    #[test]
    fn round_trips_through_plain_data_and_json() {
        for value in [
            sample(),
            json!(null),
            json!(7),
            json!("text"),
            json!([]),
            json!({}),
        ] {
            let captured = CapturedValue::from(&value);
            assert_eq!(captured.to_value(), value);
            assert_eq!(captured, value);
            let json = serde_json::to_string(&captured).unwrap();
            assert_eq!(json, serde_json::to_string(&value).unwrap());
            let back: CapturedValue = serde_json::from_str(&json).unwrap();
            assert_eq!(back, captured);
        }
    }

    /// [`sample`] read from its JSON text, its keys in the order written.
    fn sample_in_order() -> CapturedValue {
        let text = format!(
            r#"{{"order": "ord_42", "items": [1, -2, 2.5, true, null, "x", [], {{}}],
                "nested": {{"a": {{"b": ["c", {{"d": "e"}}]}}, "": ""}},
                "big": {}, "small": {}}}"#,
            u64::MAX,
            i64::MIN
        );
        let captured: CapturedValue = serde_json::from_str(&text).unwrap();
        assert_eq!(captured, sample());
        captured
    }

    #[test]
    fn reads_in_place() {
        let captured = sample_in_order();
        let CapturedKind::Map(entries) = captured.root().kind() else {
            panic!("a map");
        };
        let keys: Vec<&str> = entries.clone().map(|(key, _)| key).collect();
        assert_eq!(keys, ["order", "items", "nested", "big", "small"]);
        let (_, items) = entries.clone().nth(1).unwrap();
        let CapturedKind::List(items) = items.kind() else {
            panic!("a list");
        };
        assert_eq!(items.len(), 8);
        assert_eq!(items.clone().nth(5).unwrap().as_str(), Some("x"));
        assert!(matches!(
            items.clone().nth(2).unwrap().kind(),
            CapturedKind::Number(n) if n.as_f64() == Some(2.5)
        ));
    }

    #[test]
    fn differs_where_the_data_differs() {
        let captured = CapturedValue::from(sample());
        let mut other = sample();
        other["nested"]["a"]["b"][1]["d"] = json!("f");
        assert_ne!(captured, other);
        assert_ne!(CapturedValue::from(json!([1, 2])), json!([1, 2, 3]));
        assert_ne!(CapturedValue::from(json!({"a": 1})), json!({"b": 1}));
        assert_ne!(CapturedValue::from(json!(1)), json!("1"));
    }

    #[test]
    fn numbers_and_text_need_no_nodes_beyond_the_first() {
        let number = CapturedValue::from(42u64);
        assert!(number.nodes.is_empty() && number.text.is_empty());
        assert_eq!(number, json!(42));
        assert_eq!(CapturedValue::from(f64::NAN), json!(null));
        assert_eq!(CapturedValue::from("ord_42"), "ord_42");
        assert_eq!(CapturedValue::from(5i32), CapturedValue::from(json!(5)));
        assert_eq!(CapturedValue::from(-5i32), json!(-5));
    }

    #[test]
    fn nesting_beyond_the_limit_is_cut() {
        let mut deep = json!("bottom");
        for _ in 0..200 {
            deep = json!([deep]);
        }
        let captured = CapturedValue::from(&deep);
        let mut at = captured.root();
        let mut depth = 0;
        while let CapturedKind::List(mut items) = at.kind() {
            at = items.next().unwrap();
            depth += 1;
        }
        assert_eq!(depth, MAX_CAPTURE_DEPTH);
        assert!(matches!(at.kind(), CapturedKind::Null));
    }

    #[test]
    fn one_builder_builds_many_values() {
        let mut builder = Builder::default();
        builder.value(&sample());
        let first = builder.finish();
        builder.str("second");
        let second = builder.finish();
        assert_eq!(first, sample());
        assert_eq!(second, "second");
    }

    #[test]
    fn debug_of_a_builder_shows_sizes_only() {
        let mut builder = Builder::default();
        builder.str("mk7q-plant3d");
        for shown in [format!("{builder:?}"), format!("{builder:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
        }
    }
}
