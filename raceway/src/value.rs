//! Recorded values: old and new values of state changes, arguments, return
//! values and bodies.
//!
//! Capturing a scalar (integers, floats, booleans, `char`, unit, `None`)
//! neither allocates nor formats: the value is stored as it is and turned into
//! JSON on the background thread. Strings are copied; anything else goes
//! through `serde_json::to_value` once, at the call site.

use serde::ser::{self, Impossible, Serialize, Serializer};
use std::fmt;

/// A value recorded by an event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// No value: JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float; NaN and infinities are written as `null`, as JSON has no
    /// representation for them.
    F64(f64),
    /// A string.
    Str(Box<str>),
    /// Any other value, already in JSON form.
    Json(Box<serde_json::Value>),
    /// A value that could not be recorded; the text says why, for instance
    /// the name of a type that implements neither `Serialize` nor `Debug`.
    Unrecorded(std::borrow::Cow<'static, str>),
}

impl Value {
    /// Whether the value holds no allocation (null, booleans and numbers).
    pub(crate) fn owns_nothing(&self) -> bool {
        matches!(self, Value::Null | Value::Bool(_) | Value::I64(_) | Value::U64(_) | Value::F64(_))
    }

    /// Records `value` through its `Serialize` implementation.
    ///
    /// Never fails: a value whose serialization fails (a map with non-string
    /// keys, a `Serialize` impl that returns an error) is recorded as
    /// [`Value::Unrecorded`] with the error message.
    pub fn capture<T: Serialize + ?Sized>(value: &T) -> Value {
        match value.serialize(ScalarCapture) {
            Ok(v) => v,
            Err(NotScalar) => match serde_json::to_value(value) {
                Ok(json) => Value::Json(Box::new(json)),
                Err(e) => Value::Unrecorded(format!("<unserializable: {e}>").into()),
            },
        }
    }

    /// This value as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::I64(n) => (*n).into(),
            Value::U64(n) => (*n).into(),
            Value::F64(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Unrecorded(s) => serde_json::Value::String(s.to_string()),
            Value::Json(v) => (**v).clone(),
        }
    }

    /// Converts a JSON value back, as read from a file or a server.
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::I64(i)
                } else if let Some(u) = n.as_u64() {
                    Value::U64(u)
                } else {
                    Value::F64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::Str(s.into()),
            other => Value::Json(Box::new(other)),
        }
    }
}

impl Value {
    /// Truncates the value when its JSON text is longer than `max` bytes
    /// (a string: its UTF-8 length): it becomes a string, its text cut at a
    /// character boundary and ended by a marker that says it was truncated,
    /// from how many bytes, and by which setting. Returns whether it was.
    pub(crate) fn truncate(&mut self, max: usize) -> bool {
        let text = match self {
            Value::Str(s) if s.len() > max => std::mem::take(s).into_string(),
            Value::Unrecorded(s) if s.len() > max => std::mem::take(s).into_owned(),
            Value::Json(json) => {
                // Measured without allocating: the writer stops at `max`.
                let mut measure = Bounded { len: 0, max };
                if serde_json::to_writer(&mut measure, &**json).is_ok() {
                    return false;
                }
                serde_json::to_string(&**json).unwrap_or_default()
            }
            _ => return false,
        };
        *self = Value::Str(truncated(&text, max).into());
        true
    }
}

/// The end of a truncated value.
pub(crate) fn truncation_marker(total: usize, max: usize) -> String {
    format!("…<truncated by raceway: {total} bytes, over max_value_bytes = {max} (RACEWAY_MAX_VALUE_BYTES)>")
}

/// `text` cut so that, with its marker, it fits in `max` bytes (the marker
/// alone when `max` is shorter than it).
pub(crate) fn truncated(text: &str, max: usize) -> String {
    let marker = truncation_marker(text.len(), max);
    let mut end = max.saturating_sub(marker.len()).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + marker.len());
    out.push_str(&text[..end]);
    out.push_str(&marker);
    out
}

/// A writer that counts, and fails past `max` bytes.
struct Bounded {
    len: usize,
    max: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len();
        if self.len > self.max {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I64(n) => s.serialize_i64(*n),
            Value::U64(n) => s.serialize_u64(*n),
            Value::F64(f) if f.is_finite() => s.serialize_f64(*f),
            Value::F64(_) => s.serialize_unit(),
            Value::Str(v) => s.serialize_str(v),
            Value::Unrecorded(v) => s.serialize_str(v),
            Value::Json(v) => v.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Value::from_json)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::I64(n) => write!(f, "{n}"),
            Value::U64(n) => write!(f, "{n}"),
            Value::F64(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Unrecorded(s) => f.write_str(s),
            Value::Json(v) => write!(f, "{v}"),
        }
    }
}

/// The marker error of [`ScalarCapture`]: the value is not a scalar.
#[derive(Debug)]
struct NotScalar;

impl fmt::Display for NotScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a scalar")
    }
}

impl std::error::Error for NotScalar {}

impl ser::Error for NotScalar {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotScalar
    }
}

/// A serializer that stores scalars without allocating and refuses anything
/// compound, so that [`Value::capture`] can fall back to `serde_json`.
struct ScalarCapture;

macro_rules! capture_as {
    ($($method:ident($ty:ty) => $variant:ident as $into:ty;)*) => {
        $(fn $method(self, v: $ty) -> Result<Value, NotScalar> {
            Ok(Value::$variant(<$into>::from(v)))
        })*
    };
}

impl Serializer for ScalarCapture {
    type Ok = Value;
    type Error = NotScalar;
    type SerializeSeq = Impossible<Value, NotScalar>;
    type SerializeTuple = Impossible<Value, NotScalar>;
    type SerializeTupleStruct = Impossible<Value, NotScalar>;
    type SerializeTupleVariant = Impossible<Value, NotScalar>;
    type SerializeMap = Impossible<Value, NotScalar>;
    type SerializeStruct = Impossible<Value, NotScalar>;
    type SerializeStructVariant = Impossible<Value, NotScalar>;

    capture_as! {
        serialize_bool(bool) => Bool as bool;
        serialize_i8(i8) => I64 as i64;
        serialize_i16(i16) => I64 as i64;
        serialize_i32(i32) => I64 as i64;
        serialize_i64(i64) => I64 as i64;
        serialize_u8(u8) => U64 as u64;
        serialize_u16(u16) => U64 as u64;
        serialize_u32(u32) => U64 as u64;
        serialize_u64(u64) => U64 as u64;
        serialize_f32(f32) => F64 as f64;
        serialize_f64(f64) => F64 as f64;
    }

    fn serialize_i128(self, v: i128) -> Result<Value, NotScalar> {
        i64::try_from(v).map(Value::I64).map_err(|_| NotScalar)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, NotScalar> {
        u64::try_from(v).map(Value::U64).map_err(|_| NotScalar)
    }
    fn serialize_char(self, v: char) -> Result<Value, NotScalar> {
        Ok(Value::Str(v.to_string().into()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, NotScalar> {
        Ok(Value::Str(v.into()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Value, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_none(self) -> Result<Value, NotScalar> {
        Ok(Value::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<Value, NotScalar> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, NotScalar> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, NotScalar> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, NotScalar> {
        Ok(Value::Str(variant.into()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result<Value, NotScalar> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Value, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotScalar> {
        Err(NotScalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn scalars_are_stored_as_they_are() {
        assert_eq!(Value::capture(&-5i64), Value::I64(-5));
        assert_eq!(Value::capture(&7u8), Value::U64(7));
        assert_eq!(Value::capture(&true), Value::Bool(true));
        assert_eq!(Value::capture(&Option::<i32>::None), Value::Null);
        assert_eq!(Value::capture(&Some(3i32)), Value::I64(3));
        assert_eq!(Value::capture("hi"), Value::Str("hi".into()));
        assert_eq!(Value::capture(&()), Value::Null);
    }

    #[test]
    fn compound_values_become_json() {
        let v = Value::capture(&vec![1, 2, 3]);
        assert_eq!(v.to_json(), serde_json::json!([1, 2, 3]));
    }

    #[test]
    fn unserializable_values_are_recorded_not_lost() {
        let mut map = BTreeMap::new();
        map.insert(vec![1u8], 1);
        match Value::capture(&map) {
            Value::Unrecorded(text) => assert!(text.contains("unserializable"), "{text}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn non_finite_floats_are_null_in_json() {
        assert_eq!(serde_json::to_string(&Value::capture(&f64::NAN)).unwrap(), "null");
        assert_eq!(Value::capture(&f64::INFINITY).to_json(), serde_json::Value::Null);
    }

    #[test]
    fn values_over_the_cap_are_truncated_with_a_marker() {
        let mut small = Value::Str("short".into());
        assert!(!small.truncate(100));
        let mut json = Value::capture(&vec![1, 2, 3]);
        assert!(!json.truncate(7), "[1,2,3] is 7 bytes");
        assert!(json.truncate(6));

        let mut long = Value::Str("é".repeat(1000).into());
        assert!(long.truncate(300));
        let Value::Str(text) = &long else { panic!("{long:?}") };
        assert!(text.len() <= 300, "{}", text.len());
        assert!(text.starts_with("éé"));
        assert!(text.ends_with(&truncation_marker(2000, 300)), "{text}");

        let mut big = Value::capture(&vec!["x".repeat(100); 100]);
        assert!(big.truncate(1000));
        let Value::Str(text) = &big else { panic!("{big:?}") };
        assert!(text.starts_with("[\"xxx") && text.contains("truncated by raceway") && text.len() <= 1000);
    }
}
