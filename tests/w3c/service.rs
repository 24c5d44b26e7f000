//! The test service that the official W3C Trace Context suite (this
//! folder, `test.py`) drives: an axum service built on
//! `raceway::layer::RacewayLayer`, whose handler makes the calls the
//! harness asks for with `raceway::request`, so that what the suite checks
//! is exactly what a Raceway-instrumented service does.
//!
//! The harness POSTs a JSON list of `{"url": ..., "arguments": ...}`; for
//! each element the service POSTs `arguments` (as JSON) to `url`, carrying
//! the request's trace context. Run by `tests/w3c/run.sh`:
//!
//! ```text
//! w3c-service ADDRESS_FILE    # binds 127.0.0.1:0, writes http://127.0.0.1:PORT/test to ADDRESS_FILE
//! ```

use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use serde_json::Value;

async fn test(client: reqwest::Client, body: Bytes) -> &'static str {
    // Any body the harness sends is fine; a malformed one means no calls.
    let actions: Vec<Value> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(actions)) => actions,
        Ok(other @ Value::Object(_)) => vec![other],
        _ => Vec::new(),
    };
    for action in actions {
        let Some(url) = action.get("url").and_then(Value::as_str) else { continue };
        let arguments = action.get("arguments").cloned().unwrap_or(Value::Array(Vec::new()));
        let call = client
            .post(url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&arguments).expect("a JSON value serializes"));
        if let Err(error) = raceway::request(call).await {
            eprintln!("w3c-service: the call to {url} failed: {error}");
        }
    }
    "{}"
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let address_file = std::env::args().nth(1).expect("usage: w3c-service ADDRESS_FILE");
    // In-process collector: the service records as any instrumented one,
    // without a Raceway server.
    let _raceway = raceway::init(raceway::Config {
        service_name: "w3c-test-service".into(),
        embedded_capacity: 10_000,
        ..raceway::Config::default()
    })
    .expect("a valid configuration");
    let client = reqwest::Client::new();
    let app = Router::new()
        .route("/test", post(move |body: Bytes| test(client.clone(), body)))
        .layer(raceway::layer::RacewayLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let url = format!("http://{}/test", listener.local_addr().unwrap());
    // Written whole, then renamed: the runner never reads half an address.
    let partial = format!("{address_file}.partial");
    std::fs::write(&partial, &url).expect("write the address file");
    std::fs::rename(&partial, &address_file).expect("write the address file");
    eprintln!("w3c-service: listening on {url}");
    axum::serve(listener, app).await.expect("the service runs");
}
