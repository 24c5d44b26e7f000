//! The server middleware, tower layer (axum) and actix-web alike, against
//! real servers on 127.0.0.1: one execution and atomic region per request,
//! the trace continued from good headers and started fresh on bad ones,
//! the response's `raceway-clock`, and streaming responses passed through
//! undelayed. Each test runs for both frameworks, and on both tokio runtime
//! flavours on the client side (and the axum server's).

use base64::Engine as _;
use bytes::Bytes;
use raceway::trace_context::{self, Outgoing};
use raceway::{check, tracked, RaceKind, Report};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A failure guard for tests that wait on a signal: a broken build hangs
/// no longer than this. Nothing is timed.
const PATIENCE: Duration = Duration::from_secs(60);

/// What the handlers of both frameworks share.
struct AppState {
    balance: raceway::sync::Mutex<i64>,
    both_read: tokio::sync::Barrier,
    /// The streaming handler's second chunk waits for this.
    go_on: tokio::sync::Notify,
    /// The server's own URL, for handlers that call it back.
    url: std::sync::OnceLock<String>,
}

impl AppState {
    fn new() -> Arc<AppState> {
        Arc::new(AppState {
            balance: raceway::sync::Mutex::with_name(100, "balance"),
            both_read: tokio::sync::Barrier::new(2),
            go_on: tokio::sync::Notify::new(),
            url: std::sync::OnceLock::new(),
        })
    }

    /// Read, wait for the other request to read too, write back: a lost
    /// update between two requests, every access under the lock.
    async fn debit(&self) {
        let seen = {
            let balance = self.balance.lock().unwrap();
            tracked!(*balance)
        };
        self.both_read.wait().await;
        let mut balance = self.balance.lock().unwrap();
        tracked!(*balance = seen - 10);
    }

    /// The `traceparent` this request would send on, or why not.
    fn context() -> String {
        match raceway::propagation_headers() {
            Ok(headers) => headers.into_iter().find(|(k, _)| *k == "traceparent").map(|(_, v)| v).unwrap(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// The `traceparent` a task spawned from the handler would send on.
    async fn context_in_task() -> String {
        raceway::task::spawn(async { AppState::context() }).await.unwrap()
    }

    /// Calls `/echo` on this server through `raceway::request`, with or
    /// without an explicit `traceparent`; returns what `/echo` saw.
    async fn relay(&self, explicit: Option<&'static str>) -> String {
        let mut call = reqwest::Client::new().get(format!("{}/echo", self.url.get().unwrap()));
        if let Some(traceparent) = explicit {
            call = call.header("traceparent", traceparent);
        }
        raceway::request(call).await.unwrap().text().await.unwrap()
    }

    /// "first", then, once the test says so, "second".
    fn stream(self: Arc<Self>) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::unfold((self, 0), |(state, n)| async move {
            match n {
                0 => Some((Ok(Bytes::from_static(b"first")), (state, 1))),
                1 => {
                    state.go_on.notified().await;
                    Some((Ok(Bytes::from_static(b"second")), (state, 2)))
                }
                _ => None,
            }
        })
    }
}

/// A server of either framework, started in the current `check` session.
struct Server {
    url: String,
    stop: Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>,
}

impl Server {
    async fn stop(self) {
        (self.stop)().await.expect("the server stops");
    }
}

#[derive(Clone, Copy, Debug)]
enum Framework {
    Axum,
    Actix,
}

impl Framework {
    async fn start(self, state: Arc<AppState>) -> Server {
        match self {
            Framework::Axum => axum_server(state).await,
            Framework::Actix => actix_server(state),
        }
    }
}

async fn axum_server(state: Arc<AppState>) -> Server {
    use axum::extract::State;
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route("/debit", post(|State(s): State<Arc<AppState>>| async move { s.debit().await }))
        .route("/context", get(|| async { AppState::context() }))
        .route("/context-in-task", get(AppState::context_in_task))
        .route(
            "/echo",
            get(|headers: axum::http::HeaderMap| async move { format!("{:?}", headers.get("traceparent")) }),
        )
        .route("/relay", get(|State(s): State<Arc<AppState>>| async move { s.relay(None).await }))
        .route("/relay-explicit", get(|State(s): State<Arc<AppState>>| async move { s.relay(Some(EXPLICIT)).await }))
        .route(
            "/stream",
            get(|State(s): State<Arc<AppState>>| async move { axum::body::Body::from_stream(s.stream()) }),
        )
        .with_state(state.clone())
        .layer(raceway::layer::RacewayLayer::new().service_name("axum-app"));
    let server = raceway_tests::server::Server::start(app).await;
    state.url.set(server.url.clone()).unwrap();
    Server { url: server.url.clone(), stop: Box::new(move || tokio::spawn(server.stop())) }
}

fn actix_server(state: Arc<AppState>) -> Server {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let middleware = raceway::actix::RacewayMiddleware::new().service_name("actix-app");
    let (started, address) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::from(state.clone()))
                    .wrap(middleware.clone())
                    .route(
                        "/debit",
                        web::post().to(|s: web::Data<AppState>| async move {
                            s.debit().await;
                            ""
                        }),
                    )
                    .route("/context", web::get().to(|| async { AppState::context() }))
                    .route("/context-in-task", web::get().to(AppState::context_in_task))
                    .route(
                        "/stream",
                        web::get().to(|s: web::Data<AppState>| async move {
                            HttpResponse::Ok().streaming(s.into_inner().stream())
                        }),
                    )
            })
            .workers(2)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1");
            let url = format!("http://{}", server.addrs()[0]);
            let running = server.run();
            started.send((url, running.handle())).unwrap();
            running.await.unwrap();
        });
    });
    let (url, handle) = address.recv().unwrap();
    Server {
        url,
        stop: Box::new(move || {
            tokio::spawn(async move {
                handle.stop(true).await;
                tokio::task::spawn_blocking(move || thread.join().unwrap()).await.unwrap();
            })
        }),
    }
}

/// Runs `scenario` against a server of `framework` inside `raceway::check`,
/// on a tokio runtime of the given flavour.
fn run<F, Fut>(framework: Framework, multi_thread: bool, scenario: F) -> Report
where
    F: FnOnce(Arc<AppState>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    };
    check(|| {
        runtime.block_on(async {
            let state = AppState::new();
            let server = framework.start(state.clone()).await;
            tokio::time::timeout(PATIENCE, scenario(state, server.url.clone())).await.expect("the scenario finished");
            server.stop().await;
        })
    })
}

/// One test per framework and runtime flavour.
macro_rules! for_each_setup {
    ($scenario:ident: $($name:ident => $framework:ident, $multi:literal;)*) => {
        $(
            #[test]
            fn $name() {
                $scenario(Framework::$framework, $multi);
            }
        )*
    };
}

// ---------------------------------------------------------------- regions

/// Two concurrent requests, each reading and writing back under the lock:
/// the middleware makes each request one atomic region.
fn lost_update_between_two_requests(framework: Framework, multi_thread: bool) {
    let report = run(framework, multi_thread, |_, url| async move {
        let http = reqwest::Client::new();
        let (a, b) = tokio::join!(http.post(format!("{url}/debit")).send(), http.post(format!("{url}/debit")).send());
        assert!(a.unwrap().status().is_success() && b.unwrap().status().is_success());
    });
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == RaceKind::LostUpdate), "{report}");
    let race = &report.races()[0];
    assert_eq!(race.variable(), "*balance");
    assert!(race.accesses().iter().all(|a| a.execution.starts_with("POST /debit")), "{report}");
    assert!(!race.also_unsynchronized(), "{report}");
}

for_each_setup! { lost_update_between_two_requests:
    axum_lost_update_current_thread => Axum, false;
    axum_lost_update_multi_thread => Axum, true;
    actix_lost_update_current_thread => Actix, false;
    actix_lost_update_multi_thread => Actix, true;
}

// ---------------------------------------------------------------- trace context

fn response_clock(response: &reqwest::Response) -> trace_context::RacewayClock {
    let header = response.headers().get("raceway-clock").expect("the middleware sends its clock back");
    trace_context::decode_clock(header.to_str().unwrap()).expect("a valid raceway-clock")
}

/// The trace id in a `traceparent`.
fn trace_of(traceparent: &str) -> Uuid {
    Uuid::parse_str(traceparent.split('-').nth(1).expect("a traceparent")).unwrap()
}

/// Good headers continue the caller's trace, in the span it named; the
/// response's clock names the same trace and span.
fn continues_the_callers_trace(framework: Framework, multi_thread: bool) {
    let report = run(framework, multi_thread, |_, url| async move {
        let caller_trace = Uuid::new_v4();
        let clock = [("caller#1".to_string(), 7)];
        let headers = trace_context::encode(&Outgoing {
            trace_id: caller_trace,
            current_span_id: 0x1111,
            child_span_id: 0x2222,
            tracestate: Some("vendor=x"),
            trace_flags: 1,
            clock: &clock,
            service: "caller",
            instance: "1",
        })
        .headers;
        let mut request = reqwest::Client::new().get(format!("{url}/context"));
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let back = response_clock(&response);
        assert_eq!(back.trace_id, caller_trace);
        assert_eq!(back.span_id, Some(0x2222), "the request works in the span the caller named");
        assert_eq!(back.parent_span_id, Some(0x1111));
        // 7, incremented by the caller as it sent the call.
        assert!(back.clock.contains(&("caller#1".to_string(), 8)), "the caller's clock was joined: {:?}", back.clock);
        let onward = response.text().await.unwrap();
        assert_eq!(trace_of(&onward), caller_trace, "calls from the handler continue the trace: {onward}");
        assert_ne!(&onward[36..52], "0000000000002222", "each onward call names a new span");
        // A task the handler spawns through raceway belongs to the request.
        let mut request = reqwest::Client::new().get(format!("{url}/context-in-task"));
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let from_task = request.send().await.unwrap().text().await.unwrap();
        assert_eq!(trace_of(&from_task), caller_trace, "{from_task}");
    });
    assert!(report.is_clean(), "{report}");
    assert!(report.events_analyzed() > 0);
}

for_each_setup! { continues_the_callers_trace:
    axum_continues_trace_current_thread => Axum, false;
    axum_continues_trace_multi_thread => Axum, true;
    actix_continues_trace_current_thread => Actix, false;
    actix_continues_trace_multi_thread => Actix, true;
}

/// Malformed and oversized headers never fail the request: it starts a
/// fresh trace.
fn bad_headers_start_a_fresh_trace(framework: Framework, multi_thread: bool) {
    run(framework, multi_thread, |_, url| async move {
        let hostile_clock = {
            let entries: Vec<_> = (0..5000).map(|i| (format!("svc#{i}"), i)).collect();
            let json = serde_json::json!({"trace_id": Uuid::new_v4(), "clock": entries}).to_string();
            format!("v1;{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
        };
        let zero = format!("00-{}-{}-01", "0".repeat(32), "0".repeat(16));
        let cases: Vec<(&str, String)> = vec![
            ("traceparent", "garbage".into()),
            ("traceparent", zero.clone()),
            ("traceparent", format!("ff-{}-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736")),
            ("raceway-clock", "v1;!!!not-base64".into()),
            ("raceway-clock", "v2;e30".into()),
            ("raceway-clock", hostile_clock),
            ("traceparent", format!("00-{}-00f067aa0ba902b7-01", "a".repeat(20_000))),
            ("tracestate", ",".repeat(20_000)),
        ];
        let http = reqwest::Client::new();
        let mut traces = std::collections::BTreeSet::new();
        for (name, value) in cases {
            let response = http.get(format!("{url}/context")).header(name, &value).send().await.unwrap();
            assert!(response.status().is_success(), "{name}: {} failed the request", &value[..value.len().min(40)]);
            let back = response_clock(&response);
            assert!(back.clock.len() <= trace_context::MAX_CLOCK_ENTRIES + 1, "{name}: clock capped");
            assert!(!back.trace_id.is_nil());
            traces.insert(back.trace_id);
            let onward = response.text().await.unwrap();
            assert_eq!(trace_of(&onward), back.trace_id, "{name}: the handler runs in the fresh trace");
        }
        // Each bad request started its own trace (the hostile clock names
        // a valid trace id, which is continued; its entries are capped).
        assert!(traces.len() >= 7, "fresh traces: {traces:?}");
    });
}

for_each_setup! { bad_headers_start_a_fresh_trace:
    axum_bad_headers_current_thread => Axum, false;
    axum_bad_headers_multi_thread => Axum, true;
    actix_bad_headers_current_thread => Actix, false;
    actix_bad_headers_multi_thread => Actix, true;
}

/// The trace flags a request's work passes on: unknown flags zeroed, a
/// fresh trace sampled with W3C Level 2's random-trace-id flag.
fn trace_flags_are_zeroed_or_set_for_a_fresh_trace(framework: Framework, multi_thread: bool) {
    run(framework, multi_thread, |_, url| async move {
        let http = reqwest::Client::new();
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
        for (incoming, onward) in
            [(None, "03"), (Some("ff"), "03"), (Some("00"), "00"), (Some("02"), "02"), (Some("81"), "01")]
        {
            let mut call = http.get(format!("{url}/context"));
            if let Some(flags) = incoming {
                call = call.header("traceparent", format!("{parent}-{flags}"));
            }
            let traceparent = call.send().await.unwrap().text().await.unwrap();
            assert_eq!(&traceparent[traceparent.len() - 2..], onward, "{incoming:?}: {traceparent}");
        }
    });
}

for_each_setup! { trace_flags_are_zeroed_or_set_for_a_fresh_trace:
    axum_trace_flags_current_thread => Axum, false;
    axum_trace_flags_multi_thread => Axum, true;
    actix_trace_flags_current_thread => Actix, false;
    actix_trace_flags_multi_thread => Actix, true;
}

const EXPLICIT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// `raceway::request` adds the propagation headers, and headers set on the
/// request win.
#[test]
fn request_propagates_and_explicit_headers_win() {
    for multi_thread in [false, true] {
        let report = run(Framework::Axum, multi_thread, |_, url| async move {
            let http = reqwest::Client::new();
            let relayed = http.get(format!("{url}/relay")).send().await.unwrap().text().await.unwrap();
            assert!(relayed.starts_with("Some(\"00-"), "the call carried a traceparent: {relayed}");
            let explicit = http.get(format!("{url}/relay-explicit")).send().await.unwrap().text().await.unwrap();
            assert_eq!(explicit, format!("Some({EXPLICIT:?})"));
        });
        assert!(report.is_clean(), "{report}");
    }
}

#[test]
fn propagation_headers_outside_a_request_say_so() {
    let error = raceway::propagation_headers().unwrap_err();
    assert!(error.to_string().contains("no trace context"), "{error}");
    check(|| assert!(raceway::propagation_headers().is_err()));
}

// ---------------------------------------------------------------- streaming

/// The first chunk reaches the client while the handler still holds the
/// second: the middleware neither buffers nor delays the body.
fn streams_without_buffering(framework: Framework, multi_thread: bool) {
    let report = run(framework, multi_thread, |state, url| async move {
        let mut response = reqwest::Client::new().get(format!("{url}/stream")).send().await.unwrap();
        assert!(response.headers().contains_key("raceway-clock"));
        let first = response.chunk().await.unwrap().expect("the first chunk, before the second exists");
        assert_eq!(&first[..], b"first");
        state.go_on.notify_one();
        let mut rest = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            rest.extend_from_slice(&chunk);
        }
        assert_eq!(rest, b"second");
    });
    assert!(report.is_clean(), "{report}");
}

for_each_setup! { streams_without_buffering:
    axum_streams_current_thread => Axum, false;
    axum_streams_multi_thread => Axum, true;
    actix_streams_current_thread => Actix, false;
    actix_streams_multi_thread => Actix, true;
}
