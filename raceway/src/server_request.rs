//! One incoming request's execution, for the server middleware (the tower
//! layer and the actix-web middleware).

use crate::clock::Timebase;
use crate::component;
use crate::event::Kind;
use crate::event::Span;
use crate::propagation::{debug_enabled, identity, random_nonzero, record_error};
use crate::rt::{self, ExecContext, Session};
use crate::trace_context;
use crate::value::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use uuid::Uuid;

/// How the middleware runs requests, shared by its clones.
#[derive(Clone, Default)]
pub(crate) struct ServerSettings {
    /// The service the requests belong to, when not the client's
    /// `service_name`.
    pub service: Option<Arc<str>>,
    /// The `raceway::check` session the middleware was created in.
    pub session: Option<Arc<Session>>,
}

impl ServerSettings {
    /// Settings for a middleware created now: in the current `check`
    /// session, if any.
    pub(crate) fn here() -> Self {
        ServerSettings { service: None, session: rt::current_session() }
    }
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("service", &self.service)
            .field("in_check_session", &self.session.is_some())
            .finish()
    }
}

/// One incoming request's execution: a fresh or continued trace, an atomic
/// region for the analyzer (its first event is the `HttpRequest`), and the
/// handler's work inside it.
pub(crate) struct ServerRequest {
    ctx: Option<ExecContext>,
    start: u64,
}

impl ServerRequest {
    /// Opens the request's execution from its method, URL and headers (bad
    /// headers start a fresh trace; in debug mode a line says why).
    pub(crate) fn begin(method: &str, url: &str, headers: &[(&str, &str)], settings: &ServerSettings) -> Self {
        let start = Timebase::get().now();
        if !rt::is_active() {
            return ServerRequest { ctx: None, start };
        }
        let process = component::identity();
        let service = settings.service.as_deref().unwrap_or(&process.service);
        let incoming = trace_context::decode(headers.iter().copied(), service, &process.instance);
        if !incoming.problems.is_empty() && debug_enabled() {
            crate::log::warn(format_args!(
                "{method} {url}: ignored trace headers ({}); the request starts a fresh trace",
                incoming.problems.join("; ")
            ));
        }
        // With a raceway-clock, the caller named this request's span and its
        // own; from a W3C-only caller, the traceparent's span is the caller's.
        let (id, upstream) = match incoming.parent_span_id {
            Some(parent) => (incoming.span_id.unwrap_or_else(random_nonzero), Some(parent)),
            None => (random_nonzero(), incoming.span_id),
        };
        // A fresh trace's id is a v4 UUID: W3C Level 2's random-trace-id
        // flag holds. A trace named only by a raceway-clock keeps `sampled`.
        let flags = match (incoming.trace_flags, incoming.trace_id) {
            (Some(flags), _) => flags,
            (None, Some(_)) => trace_context::FLAG_SAMPLED,
            (None, None) => trace_context::FRESH_TRACE_FLAGS,
        };
        let span = Span { id, upstream, flags, tracestate: incoming.tracestate, service: settings.service.clone() };
        let trace = incoming.trace_id.unwrap_or_else(Uuid::new_v4).as_u128();
        let mut ctx = ExecContext::in_span(format!("{method} {url}"), trace, Some(Arc::new(span)));
        if let Some(session) = &settings.session {
            ctx.join_session(session.clone(), None);
        }
        ctx.absorb(&component::clock_from_wire(incoming.clock.iter().map(|(c, n)| (c.as_str(), *n))));
        let recorded = headers.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        rt::run_as(&mut ctx, || rt::emit(|| Kind::http_request(method, url, recorded, Value::Null)));
        ServerRequest { ctx: Some(ctx), start }
    }

    /// Runs `f` (the handler, or one poll of it) as the request's execution.
    pub(crate) fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match &mut self.ctx {
            Some(ctx) => rt::run_as(ctx, f),
            None => f(),
        }
    }

    /// Records the response and ends the request's execution. Returns the
    /// `raceway-clock` value for the response, with the request's clock.
    pub(crate) fn respond(&mut self, status: u16) -> Option<String> {
        let mut ctx = self.ctx.take()?;
        let duration = self.elapsed();
        rt::run_as(&mut ctx, || {
            rt::emit(|| Kind::http_response(status, [], Value::Null, duration));
        });
        let header = ctx.span().map(|span| {
            let (service, instance) = identity(span);
            let budget = trace_context::clock_budget(service, instance);
            let clock = component::clock_to_wire(&ctx.clock_now(), ctx.component(), budget);
            trace_context::encode_clock(
                Uuid::from_u128(ctx.trace_id()),
                span.id,
                span.upstream.unwrap_or(0),
                service,
                instance,
                &clock,
            )
        });
        rt::end(&ctx);
        header
    }

    /// Records that the service failed the request, and ends its execution.
    pub(crate) fn fail(&mut self, error_type: &'static str, message: String) {
        if let Some(mut ctx) = self.ctx.take() {
            rt::run_as(&mut ctx, || record_error(error_type, message));
            rt::end(&ctx);
        }
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(Timebase::get().nanos_between(self.start, Timebase::get().now()))
    }
}

impl Drop for ServerRequest {
    fn drop(&mut self) {
        // Dropped before a response: the client went away or the server
        // shut down.
        self.fail("Cancelled", "the request was dropped before its response".into());
    }
}

/// What the middleware needs of a response head, whatever the framework.
pub trait ResponseHead {
    /// The status code.
    fn status_code(&self) -> u16;
    /// Sets the `raceway-clock` response header.
    fn set_raceway_clock(&mut self, value: &str);
}

pin_project_lite::pin_project! {
    /// The response future of the Raceway middleware: polls the inner
    /// service's future inside the request's execution and, when the
    /// response head is ready, records it and adds the `raceway-clock`
    /// header. The body is passed on untouched.
    pub struct ResponseFuture<F> {
        // `None` once dropped early, inside the request's execution.
        #[pin]
        inner: Option<F>,
        scope: ServerRequest,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // A request dropped before its response (the client went away):
            // what the handler's future does as it is dropped (releasing a
            // lock, say) belongs to the request, then the request ends.
            let this = this.project();
            let mut inner = this.inner;
            this.scope.run(|| inner.set(None));
        }
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(scope: ServerRequest, call: impl FnOnce() -> F) -> Self {
        let mut scope = scope;
        let inner = Some(scope.run(call));
        ResponseFuture { inner, scope }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<R, E>>,
    R: ResponseHead,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            // Only the drop empties it: never polled again.
            return Poll::Pending;
        };
        match this.scope.run(|| inner.poll(cx)) {
            Poll::Ready(Ok(mut response)) => {
                if let Some(clock) = this.scope.respond(response.status_code()) {
                    response.set_raceway_clock(&clock);
                }
                Poll::Ready(Ok(response))
            }
            Poll::Ready(Err(error)) => {
                this.scope.fail("ServiceError", format!("the service failed: {}", std::any::type_name::<E>()));
                Poll::Ready(Err(error))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
