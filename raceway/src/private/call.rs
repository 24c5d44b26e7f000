//! The lifecycle of one `#[track]` call: entry, every exit (a value, an
//! `Err`, a panic), and the events each records.

use super::probe::ErrorInfo;
use crate::clock::Timebase;
use crate::event::{Kind, Name};
use crate::rt;
use crate::value::Value;
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};

/// What `#[track]` knows of the function at compile time.
pub struct FnMeta {
    pub name: &'static str,
    pub module: &'static str,
    /// Whether a call is an atomic region (`atomic = false` opts out).
    pub atomic: bool,
}

/// One call of a `#[track]` function, from entry to exit.
pub struct Call {
    pub(super) meta: &'static FnMeta,
    pub(super) site: &'static Location<'static>,
    start: u64,
    /// An async call's arguments, recorded when it starts (at its first
    /// poll, in its own execution).
    pending: Option<Value>,
}

/// Builds the `args` value from `(name, value)` pairs.
pub fn args<const N: usize>(pairs: [(&'static str, Value); N]) -> Value {
    if N == 0 {
        return Value::Null;
    }
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.into_iter().map(|(name, value)| (name.to_string(), value.to_json())).collect();
    Value::Json(Box::new(serde_json::Value::Object(map)))
}

impl Call {
    /// Records the entry, when a client is installed; `args` is only
    /// evaluated then.
    #[inline]
    pub fn enter(
        meta: &'static FnMeta,
        site: &'static Location<'static>,
        args: impl FnOnce() -> Value,
    ) -> Option<Call> {
        let mut call = Call::enter_async(meta, site, args)?;
        call.begin();
        Some(call)
    }

    /// A call not recorded yet: it is when it [`begin`](Call::begin)s (an
    /// async call at its first poll, in the execution it runs as). `args`
    /// is evaluated now, when a client is installed.
    #[inline]
    pub fn enter_async(
        meta: &'static FnMeta,
        site: &'static Location<'static>,
        args: impl FnOnce() -> Value,
    ) -> Option<Call> {
        if !rt::is_active() {
            return None;
        }
        Some(Call { meta, site, start: 0, pending: Some(args()) })
    }

    /// Records the entry (of an async call, at its first poll): the one
    /// place where a `FunctionCall` of `#[track]` is made.
    pub(super) fn begin(&mut self) {
        let Some(args) = self.pending.take() else { return };
        let (meta, site) = (self.meta, self.site);
        // One clock reading stamps the entry and starts the duration.
        self.start = Timebase::get().now();
        rt::emit_at(self.start, || Kind::FunctionCall {
            function: Name::Borrowed(meta.name),
            module: Name::Borrowed(meta.module),
            args,
            atomic: meta.atomic,
            site,
        });
    }

    pub(super) fn finish(self, value: Value, error: Option<ErrorInfo>) {
        let tb = Timebase::get();
        let end = tb.now();
        let duration = tb.nanos_between(self.start, end);
        if let Some((error_type, message)) = error {
            rt::emit(|| Kind::error(Name::Borrowed(error_type), message, Vec::new()));
        }
        let Call { meta, site, .. } = self;
        rt::emit_at(end, || Kind::FunctionReturn {
            function: Name::Borrowed(meta.name),
            module: Name::Borrowed(meta.module),
            value,
            site,
            duration_ns: duration.max(1),
        });
    }

    pub(super) fn panicked(self, payload: &(dyn Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic payload>".to_string());
        self.finish(Value::Unrecorded("<panicked>".into()), Some(("panic", message)));
    }
}

/// Runs a function's body, catching a panic so it can be recorded.
#[inline(always)]
pub fn invoke<F: FnOnce() -> R, R>(body: F) -> std::thread::Result<R> {
    catch_unwind(AssertUnwindSafe(body))
}

/// Records the exit of `call` (if any) and gives back the body's result,
/// resuming a panic with its payload intact.
#[inline]
pub fn exit<R>(
    call: Option<Call>,
    result: std::thread::Result<R>,
    describe: impl FnOnce(&R) -> (Value, Option<ErrorInfo>),
) -> R {
    match (call, result) {
        (None, Ok(value)) => value,
        (None, Err(payload)) => resume_unwind(payload),
        (Some(call), Ok(value)) => {
            let (recorded, error) = describe(&value);
            call.finish(recorded, error);
            value
        }
        (Some(call), Err(payload)) => {
            call.panicked(&*payload);
            resume_unwind(payload)
        }
    }
}

/// [`exit`] for diverging functions: the body can only panic.
pub fn exit_diverging(call: Option<Call>, result: std::thread::Result<()>) -> ! {
    match result {
        Ok(()) => unreachable!("a function returning `!` returned"),
        Err(payload) => {
            if let Some(call) = call {
                call.panicked(&*payload);
            }
            resume_unwind(payload)
        }
    }
}
