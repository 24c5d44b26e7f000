//! A real HTTP server on 127.0.0.1, standing in for the Raceway server's
//! ingest endpoint: every batch is checked against [`crate::schema`], and
//! a test can make it fail, throttle or stall.

use crate::schema::{parse_batch, ServerEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Mode {
    /// 200, storing the events.
    Accept,
    /// Answers `status` to the next `times` batches (storing nothing), then
    /// accepts.
    Fail { status: u16, times: usize },
    /// Never answers until the mode changes; then answers 503.
    Stall,
    /// Answers the next `times` batches as the Raceway server does when
    /// its queue is full: `206` with `{"data":"Ingested N events, M
    /// errors"}`, storing all but the last `errors` events of the batch.
    Partial { errors: usize, times: usize },
    /// Answers `status` with `Retry-After: retry_after` to the next batch
    /// (storing nothing), then accepts.
    Throttle { status: u16, retry_after: String },
}

/// The Raceway server's body limit: larger requests are answered 413.
pub const SERVER_BODY_LIMIT: usize = 2 << 20;

#[derive(Default)]
struct Log {
    events: Vec<serde_json::Value>,
    typed: Vec<ServerEvent>,
    batch_sizes: Vec<usize>,
    /// Batches the schema rejected, with serde's message: must stay empty.
    schema_errors: Vec<String>,
    requests: usize,
    headers: Vec<HeaderMap>,
    /// When each request arrived, and its body's size.
    arrivals: Vec<Instant>,
    body_sizes: Vec<usize>,
    /// Requests answered 413.
    too_large: usize,
}

struct Inner {
    log: Mutex<Log>,
    changed: Condvar,
    mode: Mutex<Mode>,
    body_limit: Mutex<usize>,
    release: tokio::sync::Notify,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Generous bound for waiting on a signal, so that a broken test fails
/// instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(60);

impl Receiver {
    /// Starts on an ephemeral port.
    pub fn start() -> Receiver {
        Self::start_on(0)
    }

    /// A port on which nothing listens (yet).
    pub fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    /// Starts on `port` (0 for an ephemeral one).
    pub fn start_on(port: u16) -> Receiver {
        let inner = Arc::new(Inner {
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            mode: Mutex::new(Mode::Accept),
            body_limit: Mutex::new(SERVER_BODY_LIMIT),
            release: tokio::sync::Notify::new(),
        });
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let state = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let app = Router::new()
                    .route("/events", post(ingest))
                    .route("/health", get(|| async { "{\"success\":true}" }))
                    .layer(axum::extract::DefaultBodyLimit::disable())
                    .with_state(state);
                // Small responses after small requests: without TCP_NODELAY
                // every exchange waits for a delayed ACK.
                let listener = tokio::net::TcpListener::from_std(listener).unwrap().tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver { addr, inner, shutdown: Some(shutdown), thread: Some(thread) }
    }

    /// The base URL to configure as `endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
        self.inner.release.notify_waiters();
    }

    /// Requests with a body over `limit` bytes are answered 413 (by
    /// default [`SERVER_BODY_LIMIT`], as the Raceway server does).
    pub fn set_body_limit(&self, limit: usize) {
        *self.inner.body_limit.lock().unwrap() = limit;
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.inner.log.lock().unwrap().arrivals.clone()
    }

    /// The body size of each request.
    pub fn body_sizes(&self) -> Vec<usize> {
        self.inner.log.lock().unwrap().body_sizes.clone()
    }

    /// How many requests were answered 413.
    pub fn too_large(&self) -> usize {
        self.inner.log.lock().unwrap().too_large
    }

    /// Every stored event, as JSON.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.inner.log.lock().unwrap().events.clone()
    }

    pub fn with_typed<R>(&self, f: impl FnOnce(&[ServerEvent]) -> R) -> R {
        f(&self.inner.log.lock().unwrap().typed)
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.inner.log.lock().unwrap().batch_sizes.clone()
    }

    pub fn schema_errors(&self) -> Vec<String> {
        self.inner.log.lock().unwrap().schema_errors.clone()
    }

    pub fn requests(&self) -> usize {
        self.inner.log.lock().unwrap().requests
    }

    pub fn headers(&self) -> Vec<HeaderMap> {
        self.inner.log.lock().unwrap().headers.clone()
    }

    /// Waits until `pred` holds of the stored events and request count,
    /// or [`PATIENCE`] passes. Returns whether it held.
    pub fn wait_until(&self, pred: impl Fn(usize, usize) -> bool) -> bool {
        let deadline = Instant::now() + PATIENCE;
        let mut log = self.inner.log.lock().unwrap();
        while !pred(log.events.len(), log.requests) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            log = self.inner.changed.wait_timeout(log, deadline - now).unwrap().0;
        }
        true
    }

    /// Waits for at least `n` stored events.
    pub fn wait_for_events(&self, n: usize) -> bool {
        self.wait_until(|events, _| events >= n)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.set_mode(Mode::Accept);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn ingest(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> (StatusCode, HeaderMap, String) {
    let mut answer_headers = HeaderMap::new();
    let (status, text) = answer(&inner, headers, body, &mut answer_headers).await;
    (status, answer_headers, text)
}

async fn answer(
    inner: &Inner,
    headers: HeaderMap,
    body: Bytes,
    answer_headers: &mut HeaderMap,
) -> (StatusCode, String) {
    // Registered before the mode is read: a change of mode right after the
    // read still wakes a stalled request (`notify_waiters` wakes only
    // registered waiters).
    let release = inner.release.notified();
    tokio::pin!(release);
    release.as_mut().enable();
    let mode = inner.mode.lock().unwrap().clone();
    let too_large = body.len() > *inner.body_limit.lock().unwrap();
    {
        let mut log = inner.log.lock().unwrap();
        log.requests += 1;
        log.headers.push(headers);
        log.arrivals.push(Instant::now());
        log.body_sizes.push(body.len());
        log.too_large += usize::from(too_large);
    }
    inner.changed.notify_all();
    if too_large {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Failed to buffer the request body: length limit exceeded".into());
    }
    match &mode {
        Mode::Stall => {
            release.await;
            return (StatusCode::SERVICE_UNAVAILABLE, "stalled".into());
        }
        &Mode::Fail { status, times } if times > 0 => {
            let mut m = inner.mode.lock().unwrap();
            *m = if times > 1 { Mode::Fail { status, times: times - 1 } } else { Mode::Accept };
            return (StatusCode::from_u16(status).unwrap(), format!("test receiver answers {status}"));
        }
        Mode::Throttle { status, retry_after } => {
            let status = *status;
            *inner.mode.lock().unwrap() = Mode::Accept;
            answer_headers.insert(axum::http::header::RETRY_AFTER, retry_after.parse().unwrap());
            return (StatusCode::from_u16(status).unwrap(), format!("test receiver answers {status}"));
        }
        _ => {}
    }
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()),
    };
    let batch = match parse_batch(&body) {
        Ok(b) => b,
        Err(e) => {
            inner.log.lock().unwrap().schema_errors.push(e.clone());
            inner.changed.notify_all();
            return (StatusCode::UNPROCESSABLE_ENTITY, e);
        }
    };
    let n = batch.events.len();
    let errors = match mode {
        Mode::Partial { errors, times } if times > 0 => {
            let mut m = inner.mode.lock().unwrap();
            *m = if times > 1 { Mode::Partial { errors, times: times - 1 } } else { Mode::Accept };
            errors.min(n)
        }
        _ => 0,
    };
    let stored = n - errors;
    {
        let mut log = inner.log.lock().unwrap();
        log.batch_sizes.push(stored);
        let events = json["events"].as_array().cloned().unwrap_or_default();
        log.events.extend(events.into_iter().take(stored));
        log.typed.extend(batch.events.into_iter().take(stored));
    }
    inner.changed.notify_all();
    if errors > 0 {
        return (
            StatusCode::PARTIAL_CONTENT,
            format!("{{\"success\":true,\"data\":\"Ingested {stored} events, {errors} errors\",\"error\":null}}"),
        );
    }
    (StatusCode::OK, format!("{{\"success\":true,\"data\":\"Ingested {n} events\",\"error\":null}}"))
}
