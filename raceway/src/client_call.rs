//! One outgoing call's trace context and events, for `raceway::request`.

use crate::clock::Timebase;
use crate::component;
use crate::event::Kind;
use crate::propagation::{debug_enabled, propagation_headers, record_error};
use crate::rt;
use crate::trace_context::{self, RACEWAY_CLOCK};
use crate::value::Value;
use std::time::Duration;

/// One outgoing call from the current execution: its `HttpRequest`, the
/// headers it carries, and, when its response comes, the callee's clock
/// joined and its `HttpResponse`.
pub(crate) struct ClientCall {
    start: u64,
}

impl ClientCall {
    /// Records the request and returns the propagation headers to add (none
    /// outside a trace context).
    pub(crate) fn begin(
        method: &str,
        url: &str,
        headers: impl IntoIterator<Item = (String, String)>,
    ) -> (ClientCall, Vec<(&'static str, String)>) {
        rt::emit(|| Kind::http_request(method, url, headers, Value::Null));
        // After the request event: the callee happens after it.
        let propagated = propagation_headers().unwrap_or_default();
        (ClientCall { start: Timebase::get().now() }, propagated)
    }

    /// The response arrived: joins the callee's clock from its
    /// `raceway-clock` header, if it sent one, then records the response.
    pub(crate) fn respond(self, status: u16, response_clock: Option<&str>) {
        if let Some(header) = response_clock {
            match trace_context::decode_clock(header) {
                Ok(remote) => {
                    rt::absorb(&component::clock_from_wire(remote.clock.iter().map(|(c, n)| (c.as_str(), *n))))
                }
                Err(problem) if debug_enabled() => {
                    crate::log::warn(format_args!("ignored the response's {RACEWAY_CLOCK} header: {problem}"))
                }
                Err(_) => {}
            }
        }
        let duration = self.elapsed();
        rt::emit(|| Kind::http_response(status, [], Value::Null, duration));
    }

    /// The call failed without a response.
    pub(crate) fn fail(self, error_type: &'static str, message: String) {
        record_error(error_type, message);
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(Timebase::get().nanos_between(self.start, Timebase::get().now()))
    }
}
