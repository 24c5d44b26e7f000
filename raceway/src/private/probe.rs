//! Value probes: autoref specialization. For a probe `(&&&Probe(&x))`,
//! method resolution picks `Serialize` when `x`'s type has it, `Debug` when
//! it has that, and a type-name placeholder otherwise, with no bound asked
//! of the user. The same trick reads an `Err`'s message and a `Traced`
//! instance's key.

use crate::value::Value;
use serde::Serialize;
use std::fmt::{Debug, Display};

/// The probe of autoref specialization.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Records through `Serialize` (most specific: `&&Probe`).
pub trait ViaSerialize {
    fn raceway_value(&self) -> Value;
}
impl<T: Serialize + ?Sized> ViaSerialize for &&Probe<'_, T> {
    #[inline]
    fn raceway_value(&self) -> Value {
        Value::capture(self.0)
    }
}

/// Records through `Debug`.
pub trait ViaDebug {
    fn raceway_value(&self) -> Value;
}
impl<T: Debug + ?Sized> ViaDebug for &Probe<'_, T> {
    fn raceway_value(&self) -> Value {
        Value::Str(format!("{:?}", self.0).into())
    }
}

/// Records the type's name only.
pub trait ViaTypeName {
    fn raceway_value(&self) -> Value;
}
impl<T: ?Sized> ViaTypeName for Probe<'_, T> {
    fn raceway_value(&self) -> Value {
        Value::Unrecorded(std::borrow::Cow::Borrowed(std::any::type_name::<T>()))
    }
}

/// An error value: its type name and message.
pub type ErrorInfo = (&'static str, String);

/// `Err(e)` with `e: Display`.
pub trait ErrViaDisplay {
    fn raceway_error(&self) -> Option<ErrorInfo>;
}
impl<T, E: Display> ErrViaDisplay for &&Probe<'_, Result<T, E>> {
    fn raceway_error(&self) -> Option<ErrorInfo> {
        self.0.as_ref().err().map(|e| (std::any::type_name::<E>(), e.to_string()))
    }
}

/// `Err(e)` with `e: Debug`.
pub trait ErrViaDebug {
    fn raceway_error(&self) -> Option<ErrorInfo>;
}
impl<T, E: Debug> ErrViaDebug for &Probe<'_, Result<T, E>> {
    fn raceway_error(&self) -> Option<ErrorInfo> {
        self.0.as_ref().err().map(|e| (std::any::type_name::<E>(), format!("{e:?}")))
    }
}

/// Anything else is not an error.
pub trait ErrNone {
    fn raceway_error(&self) -> Option<ErrorInfo>;
}
impl<T: ?Sized> ErrNone for Probe<'_, T> {
    fn raceway_error(&self) -> Option<ErrorInfo> {
        None
    }
}

/// The key of a `Traced` instance.
pub trait KeyViaTraced {
    fn raceway_key(&self) -> Option<String>;
}
impl<T: crate::traced::Traced + ?Sized> KeyViaTraced for &Probe<'_, T> {
    fn raceway_key(&self) -> Option<String> {
        self.0.raceway_key().map(|key| format!("{}[{key}]", self.0.raceway_type_name()))
    }
}

/// Not `Traced`: no key.
pub trait KeyNone {
    fn raceway_key(&self) -> Option<String>;
}
impl<T: ?Sized> KeyNone for Probe<'_, T> {
    fn raceway_key(&self) -> Option<String> {
        None
    }
}

/// Formats a `Traced` key; the bound makes a non-`Display` key a compile
/// error at the field.
pub fn key_to_string<T: Display + ?Sized>(key: &T) -> String {
    key.to_string()
}
