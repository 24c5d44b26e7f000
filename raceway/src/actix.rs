//! The actix-web middleware: the same behaviour as the
//! [tower layer](crate::layer) for actix-web 4. Each request runs as its own
//! execution, in the trace its headers continue, as one atomic region.
//!
//! ```
//! use actix_web::{web, App};
//!
//! let app = App::new()
//!     .wrap(raceway::actix::RacewayMiddleware::new().service_name("accounts"))
//!     .route("/balance", web::get().to(|| async { "42" }));
//! ```
//!
//! Like the layer, it reads `traceparent`, `tracestate` and `raceway-clock`
//! (a bad header starts a fresh trace and never fails the request), records
//! `HttpRequest`, runs the handler inside the request's execution, records
//! `HttpResponse` with the status and duration when the response head is
//! ready, and adds a `raceway-clock` response header. Bodies are neither
//! buffered nor delayed.

use crate::server_request::{ResponseHead, ServerRequest, ServerSettings};
use crate::trace_context::RACEWAY_CLOCK;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

pub use crate::server_request::ResponseFuture;

/// The actix-web middleware (`App::wrap`) that opens a Raceway execution
/// per request; see the [module docs](self).
///
/// Created inside [`raceway::check`](crate::check), it records into that
/// check's session.
#[derive(Clone, Debug)]
pub struct RacewayMiddleware {
    settings: Arc<ServerSettings>,
}

impl Default for RacewayMiddleware {
    fn default() -> Self {
        RacewayMiddleware::new()
    }
}

impl RacewayMiddleware {
    /// A middleware for the client's `service_name`.
    pub fn new() -> Self {
        RacewayMiddleware { settings: Arc::new(ServerSettings::here()) }
    }

    /// Names the service the requests belong to, for several services in
    /// one process (otherwise the client's `service_name`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).service = Some(Arc::from(name.into()));
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RacewayMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<B>;
    type Error = S::Error;
    type Transform = RacewayActixService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RacewayActixService { service, settings: self.settings.clone() }))
    }
}

/// The service that [`RacewayMiddleware`] wraps around another.
#[derive(Debug)]
pub struct RacewayActixService<S> {
    service: S,
    settings: Arc<ServerSettings>,
}

impl<S, B> Service<ServiceRequest> for RacewayActixService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<B>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).collect();
        let scope =
            ServerRequest::begin(request.method().as_str(), &request.uri().to_string(), &headers, &self.settings);
        drop(headers);
        ResponseFuture::new(scope, || self.service.call(request))
    }
}

impl<B> ResponseHead for ServiceResponse<B> {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    fn set_raceway_clock(&mut self, value: &str) {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers_mut().insert(HeaderName::from_static(RACEWAY_CLOCK), value);
        }
    }
}
