//! The tower middleware: each request runs as its own execution, in the
//! trace its headers continue, as one atomic region. Works with axum and
//! any tower-based server (hyper, tonic, warp).
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{routing::get, Router};
//!
//! let app: Router = Router::new()
//!     .route("/balance", get(|| async { "42" }))
//!     .layer(raceway::layer::RacewayLayer::new().service_name("accounts"));
//! # }
//! ```
//!
//! For each request the layer reads `traceparent`, `tracestate` and
//! `raceway-clock` (a bad header starts a fresh trace and never fails the
//! request), records `HttpRequest`, runs the inner service inside the
//! request's execution (so `tracked!`, `#[track]` and tasks spawned through
//! `raceway` belong to the request), and records `HttpResponse` with the
//! status and duration when the response head is ready. It adds a
//! `raceway-clock` response header with the request's clock, which
//! [`request`](crate::request) joins on the caller's side. Bodies pass
//! through untouched: nothing is buffered and streaming responses are not
//! delayed (work done while the body streams is not part of the request's
//! execution).

use crate::server_request::{ResponseHead, ServerRequest, ServerSettings};
use crate::trace_context::RACEWAY_CLOCK;
use http::{HeaderValue, Request, Response};
use std::sync::Arc;
use std::task::{Context, Poll};

pub use crate::server_request::ResponseFuture;

/// The tower [`Layer`](tower_layer::Layer) that opens a Raceway execution per
/// request; see the [module docs](self).
///
/// Created inside [`raceway::check`](crate::check), it records into that
/// check's session, so a test can run a server and get the analysis of its
/// requests.
#[derive(Clone, Debug)]
pub struct RacewayLayer {
    settings: Arc<ServerSettings>,
}

impl Default for RacewayLayer {
    fn default() -> Self {
        RacewayLayer::new()
    }
}

impl RacewayLayer {
    /// A layer for the client's `service_name`.
    pub fn new() -> Self {
        RacewayLayer { settings: Arc::new(ServerSettings::here()) }
    }

    /// Names the service the requests belong to, for several services in
    /// one process (otherwise the client's `service_name`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).service = Some(Arc::from(name.into()));
        self
    }
}

impl<S> tower_layer::Layer<S> for RacewayLayer {
    type Service = RacewayService<S>;

    fn layer(&self, inner: S) -> RacewayService<S> {
        RacewayService { inner, settings: self.settings.clone() }
    }
}

/// The service that [`RacewayLayer`] wraps around another.
#[derive(Clone, Debug)]
pub struct RacewayService<S> {
    inner: S,
    settings: Arc<ServerSettings>,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for RacewayService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).collect();
        let scope =
            ServerRequest::begin(request.method().as_str(), &request.uri().to_string(), &headers, &self.settings);
        ResponseFuture::new(scope, || self.inner.call(request))
    }
}

impl<B> ResponseHead for Response<B> {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    fn set_raceway_clock(&mut self, value: &str) {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers_mut().insert(RACEWAY_CLOCK, value);
        }
    }
}
