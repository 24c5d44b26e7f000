//! Trace context across service boundaries, for any HTTP stack: the headers
//! an outgoing call carries, the execution an incoming request runs as, and
//! the clock that comes back with a response.
//!
//! The framework adapters (the tower layer, the actix-web middleware,
//! `raceway::request`) are thin: they hand headers in and out of
//! `ServerRequest` (in `server_request.rs`) and `ClientCall` (in
//! `client_call.rs`), which hold the behaviour.
//!
//! Causality crosses a call both ways. The caller's clock travels in
//! `raceway-clock`, so what the caller did before the call happens before
//! the callee's request; the callee's clock comes back in a `raceway-clock`
//! response header, so what the callee did happens before what the caller
//! does after the response. Services of the other SDKs send no response
//! clock; nothing breaks, only that edge is missing.

use crate::clock::VectorClock;
use crate::component;
use crate::event::Span;
#[cfg(any(feature = "tower", feature = "actix", feature = "reqwest"))]
use crate::event::{Kind, Name};
use crate::rt;
use crate::trace_context::{self, Outgoing};
use std::fmt;
use uuid::Uuid;

/// [`propagation_headers`] was called outside any trace context.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoTraceContext;

impl fmt::Display for NoTraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no trace context: propagation headers exist only inside a request opened by the raceway middleware \
             (the tower layer or the actix-web middleware), or in an execution spawned from one",
        )
    }
}

impl std::error::Error for NoTraceContext {}

/// The headers that carry the current execution's trace and clock to
/// another service: `traceparent`, `raceway-clock` and, when the incoming
/// request had one, `tracestate`. Each call names a new child span.
///
/// The clock covers everything the current execution did so far, so the
/// callee's work happens after it (at most 64 entries travel: the
/// execution's own and the latest others). Outside any trace context (not in a
/// request opened by the middleware, nor in an execution spawned from one)
/// it returns [`NoTraceContext`].
///
/// ```
/// assert!(raceway::propagation_headers().is_err());
/// ```
pub fn propagation_headers() -> Result<Vec<(&'static str, String)>, NoTraceContext> {
    let (trace_id, span, own, clock) = rt::trace_context().ok_or(NoTraceContext)?;
    Ok(headers_for(trace_id, &span, own, &clock))
}

fn headers_for(trace_id: u128, span: &Span, own: u64, clock: &VectorClock) -> Vec<(&'static str, String)> {
    let (service, instance) = identity(span);
    let clock = component::clock_to_wire(clock, own, trace_context::clock_budget(service, instance));
    trace_context::encode_exact(&Outgoing {
        trace_id: Uuid::from_u128(trace_id),
        current_span_id: span.id,
        child_span_id: random_nonzero(),
        tracestate: span.tracestate.as_deref(),
        trace_flags: span.flags,
        clock: &clock,
        service,
        instance,
    })
}

/// The service and instance that a span's headers name.
pub(crate) fn identity(span: &Span) -> (&str, &str) {
    let process = component::identity();
    (span.service.as_deref().unwrap_or(&process.service), &process.instance)
}

pub(crate) fn random_nonzero() -> u64 {
    Uuid::new_v4().as_u64_pair().0.max(1)
}

#[cfg(any(feature = "tower", feature = "actix", feature = "reqwest"))]
pub(crate) fn debug_enabled() -> bool {
    crate::global::client().is_some_and(|c| c.config().debug)
}

#[cfg(any(feature = "tower", feature = "actix", feature = "reqwest"))]
pub(crate) fn record_error(error_type: &'static str, message: String) {
    rt::emit(|| Kind::error(Name::Borrowed(error_type), message, Vec::new()));
}
