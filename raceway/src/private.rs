//! The entry points that macro-generated code calls, by absolute path
//! (`::raceway::__private::…`). Not a public API: no stability promise.

pub use crate::global::is_active as enabled;
