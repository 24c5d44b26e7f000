//! Outgoing HTTP calls through reqwest that carry the trace and the clock.

use crate::client_call::ClientCall;
use crate::trace_context::RACEWAY_CLOCK;
use reqwest::header::{HeaderName, HeaderValue};

/// Sends a reqwest request as a traced call to another service.
///
/// - It adds the [propagation headers](crate::propagation_headers) of the
///   current execution; headers already set on the request win.
/// - It records `HttpRequest`, and `HttpResponse` with the status and the
///   duration (or an `Error` when no response came).
/// - The current execution's clock advances: the callee happens after
///   everything done before the call, and when the response carries a
///   `raceway-clock` header (this SDK's middleware sends one), what the
///   callee did happens before what the caller does next.
///
/// Outside any trace context the request is sent without propagation
/// headers, and still recorded. The response is returned as reqwest gave
/// it; its body is not read.
///
/// ```no_run
/// # async fn f() -> reqwest::Result<()> {
/// let client = reqwest::Client::new();
/// let response = raceway::request(client.post("http://inventory/reserve").body("sku-1")).await?;
/// # Ok(()) }
/// ```
pub async fn request(builder: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let (client, request) = builder.build_split();
    let mut request = request?;
    let recorded = request.headers().iter().filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())));
    let (call, propagated) = ClientCall::begin(request.method().as_str(), request.url().as_str(), recorded);
    for (name, value) in propagated {
        let name = HeaderName::from_static(name);
        if !request.headers().contains_key(&name) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                request.headers_mut().insert(name, value);
            }
        }
    }
    match client.execute(request).await {
        Ok(response) => {
            let clock = response.headers().get(RACEWAY_CLOCK).and_then(|v| v.to_str().ok());
            call.respond(response.status().as_u16(), clock);
            Ok(response)
        }
        Err(error) => {
            call.fail("reqwest::Error", error.to_string());
            Err(error)
        }
    }
}
