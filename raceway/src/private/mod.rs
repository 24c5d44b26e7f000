//! The entry points that macro-generated code calls, by absolute path
//! (`::raceway::__private::…`). Not a public API: no stability promise.
//!
//! - `probe.rs`: how values, errors and `Traced` keys are read without
//!   asking the user for bounds (autoref specialization);
//! - `tracked.rs`: the `tracked!` entry;
//! - `call.rs`: the `#[track]` call lifecycle;
//! - `instrumented.rs`: the future of a tracked `async fn`.

mod call;
mod instrumented;
mod probe;
mod tracked;

pub use crate::rt::is_active as enabled;
pub use crate::value::Value;
pub use call::{args, exit, exit_diverging, invoke, Call, FnMeta};
pub use instrumented::Instrumented;
pub use probe::{
    key_to_string, ErrNone, ErrViaDebug, ErrViaDisplay, ErrorInfo, KeyNone, KeyViaTraced, Probe, ViaDebug,
    ViaSerialize, ViaTypeName,
};
pub use tracked::{copy_out, place_of, state_change, Read, ReadByCopy, Write};

/// The source location of the generated call, which the macros span at the
/// user's tokens.
#[track_caller]
#[inline(always)]
pub fn here() -> &'static std::panic::Location<'static> {
    std::panic::Location::caller()
}
