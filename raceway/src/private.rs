//! The entry points that macro-generated code calls, by absolute path
//! (`::raceway::__private::…`). Not a public API: no stability promise.
//!
//! Values are recorded through autoref specialization: for a probe
//! `(&&&Probe(&x))`, method resolution picks `Serialize` when `x`'s type has
//! it, `Debug` when it has that, and a type-name placeholder otherwise, with
//! no bound asked of the user.

use crate::event::{AccessType, ErrorEvent, Kind, Name};
use crate::global;
use crate::value::Value;
use serde::Serialize;
use std::any::Any;
use std::fmt::{Debug, Display};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::task::{Context, Poll};

pub use crate::global::is_active as enabled;

/// The source location of the generated call, which the macros span at the
/// user's tokens.
#[track_caller]
#[inline(always)]
pub fn here() -> &'static Location<'static> {
    Location::caller()
}

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
impl<T: crate::Traced + ?Sized> KeyViaTraced for &Probe<'_, T> {
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

/// The reads of `tracked!(place)` copy the value out.
#[diagnostic::on_unimplemented(
    message = "`tracked!(place)` reads by copy, and `{Self}` is not `Copy`",
    label = "not `Copy`",
    note = "read it by reference with `tracked!(&place)`, or clone what `tracked!(&place)` gives"
)]
pub trait ReadByCopy: Copy {}
impl<T: Copy> ReadByCopy for T {}

#[inline(always)]
pub fn copy_out<T: ReadByCopy>(place: &T) -> T {
    *place
}

/// The address of a place: its identity within the process.
#[inline(always)]
pub fn address<T: ?Sized>(place: &T) -> usize {
    (place as *const T).cast::<()>() as usize
}

/// The variable a state change names: a `Traced` instance's key is its
/// identity across processes; otherwise the place's address is, and its
/// source text is its display name.
#[inline(always)]
fn variable(key: Option<String>, text: &'static str, field: &'static str, addr: usize) -> (Name, usize) {
    match key {
        Some(instance) => (Name::Owned(format!("{instance}{field}")), 0),
        None => (Name::Borrowed(text), addr),
    }
}

/// Records a state change of a `tracked!` place.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn state_change(
    key: Option<String>,
    text: &'static str,
    field: &'static str,
    addr: usize,
    old: Option<Value>,
    new: Value,
    access: AccessType,
    site: &'static Location<'static>,
) {
    let (variable, addr) = variable(key, text, field, addr);
    global::emit(|| Kind::StateChange { variable, addr, old, new, access, site });
}

pub use AccessType::{Read, Write};

/// What `#[track]` knows of the function at compile time.
pub struct FnMeta {
    pub name: &'static str,
    pub module: &'static str,
    /// Whether a call is an atomic region (`atomic = false` opts out).
    pub atomic: bool,
}

/// One call of a `#[track]` function, from entry to exit.
pub struct Call {
    meta: &'static FnMeta,
    site: &'static Location<'static>,
    start: u64,
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
        if !enabled() {
            return None;
        }
        let args = args();
        // One clock reading stamps the entry and starts the duration.
        let start = crate::clock::Timebase::get().now();
        global::emit_at(start, || Kind::FunctionCall {
            function: Name::Borrowed(meta.name),
            module: Name::Borrowed(meta.module),
            args,
            atomic: meta.atomic,
            site,
        });
        Some(Call { meta, site, start })
    }

    fn finish(self, value: Value, error: Option<ErrorInfo>) {
        let tb = crate::clock::Timebase::get();
        let end = tb.now();
        let duration = tb.nanos_between(self.start, end);
        if let Some((error_type, message)) = error {
            global::emit(|| {
                Kind::Error(Box::new(ErrorEvent {
                    error_type: Name::Borrowed(error_type),
                    message,
                    stack_trace: Vec::new(),
                }))
            });
        }
        let Call { meta, site, .. } = self;
        global::emit_at(end, || Kind::FunctionReturn {
            function: Name::Borrowed(meta.name),
            module: Name::Borrowed(meta.module),
            value,
            site,
            duration_ns: duration.max(1),
        });
    }

    fn panicked(self, payload: &(dyn Any + Send)) {
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

pin_project_lite::pin_project! {
    /// An `async fn`'s body with its call: the duration covers the whole
    /// future, suspensions included; panics are recorded and resumed; a
    /// future dropped before completion records its return as cancelled.
    pub struct Instrumented<F, D> {
        #[pin]
        body: F,
        call: Option<Call>,
        describe: Option<D>,
    }

    impl<F, D> PinnedDrop for Instrumented<F, D> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.finish(Value::Unrecorded("<cancelled>".into()), None);
            }
        }
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Instrumented<F, D> {
    pub fn new(call: Option<Call>, body: F, describe: D) -> Self {
        Instrumented { body, call, describe: Some(describe) }
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Future for Instrumented<F, D> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.call.is_none() {
            return this.body.poll(cx);
        }
        match catch_unwind(AssertUnwindSafe(|| this.body.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                if let (Some(call), Some(describe)) = (this.call.take(), this.describe.take()) {
                    let (recorded, error) = describe(&value);
                    call.finish(recorded, error);
                }
                Poll::Ready(value)
            }
            Err(payload) => {
                if let Some(call) = this.call.take() {
                    call.panicked(&*payload);
                }
                resume_unwind(payload)
            }
        }
    }
}
