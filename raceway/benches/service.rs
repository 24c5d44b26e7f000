//! The service of issue #16, measured: an axum service whose handler makes
//! two `tracked!` accesses (a read, then a write) under one
//! `raceway::sync::Mutex` shared by every request, driven on 127.0.0.1 by
//! a bounded load generator in this bench (64 keep-alive HTTP/1.1
//! connections, a fixed number of requests per sample).
//!
//! Each configuration runs in a process of its own (this binary, started
//! again with `RACEWAY_SERVICE_BENCH` set), so that the process-wide client
//! of one does not meet the next, and each process's memory is its own:
//!
//! - `none`: the same service without raceway (no client installed, no
//!   layer: `tracked!` is one relaxed load, the mutex a plain one);
//! - `embedded`: `raceway::init` with the default embedded analyzer and
//!   `RacewayLayer`;
//! - `http`: `raceway::init` with an HTTP endpoint, a loopback receiver in
//!   the same process that answers like the Raceway server (200, and 413
//!   above its 2 MiB body limit), and `RacewayLayer`.
//!
//! Every process prints its counters (events accepted, dropped, failed;
//! for `http`, what the receiver got and refused) and its RSS before and
//! after. A figure counts only when nothing was dropped.
//!
//! After the timings, `clocks` serves requests in stages (1k, then to 10k,
//! 100k and, with `RACEWAY_SERVICE_BENCH_MAX=1000000`, 1M) through the
//! HTTP sink and prints the bytes per event the receiver got in each stage;
//! `clocks-embedded` does the same with the embedded default and prints
//! the bytes and clock entries of the last events the collector kept.
//!
//! The embedded configurations take the `RACEWAY_*` variables
//! (`Config::from_env`): none set is the default; `RACEWAY_OVERFLOW=block`
//! measures it without drops.
//!
//! Every process is stopped, saying so, above 3 GiB of RSS or 10 minutes:
//! its configuration then has no figure.
//!
//! `cargo bench -p raceway --bench service --features axum,tokio`; see
//! BENCHMARKS.md.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use criterion::{Criterion, Throughput};
use raceway::{tracked, Config, Endpoint};
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 64;
const MODE: &str = "RACEWAY_SERVICE_BENCH";
/// The upstream Raceway server's body limit.
const MAX_BODY: usize = 2 << 20;

fn main() {
    match std::env::var(MODE).ok().as_deref() {
        None => parent(),
        Some("clocks") => clocks("http"),
        Some("clocks-embedded") => clocks("embedded"),
        Some(mode) => timed(mode),
    }
}

/// Runs each configuration in a child process, passing criterion's
/// arguments through.
fn parent() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs bench binaries with `--test`: one quick
    // pass of each configuration is enough there.
    let exe = std::env::current_exe().expect("the bench's own path");
    for mode in ["none", "embedded", "http", "clocks", "clocks-embedded"] {
        let status = Command::new(&exe).args(&args).env(MODE, mode).status().expect("start the bench's child");
        assert!(status.success(), "the {mode} configuration failed: {status}");
    }
}

fn is_test_run() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// The shared state: one tracked lock for every request.
struct Shared {
    counter: raceway::sync::Mutex<i64>,
}

async fn work(State(shared): State<Arc<Shared>>) -> &'static str {
    let mut n = shared.counter.lock().unwrap();
    let seen = tracked!(*n);
    tracked!(*n = seen + 1);
    "ok"
}

/// Starts the service (with the layer when `layer`) on its own runtime.
fn serve(layer: bool) -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let shared = Arc::new(Shared { counter: raceway::sync::Mutex::new(0) });
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("address");
        let app = Router::new().route("/work", get(work)).with_state(shared);
        if layer {
            let app = app.layer(raceway::layer::RacewayLayer::new().service_name("service-bench"));
            tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        } else {
            tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        }
        addr
    });
    (addr, rt)
}

/// What the loopback receiver got.
#[derive(Default)]
struct Received {
    events: AtomicU64,
    bytes: AtomicU64,
    refused: AtomicU64,
}

#[derive(serde::Deserialize)]
struct Batch {
    events: Vec<serde::de::IgnoredAny>,
}

/// A receiver that answers like the Raceway server: 200 for a batch, 413
/// above its body limit.
fn receiver() -> (SocketAddr, Arc<Received>, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let received = Arc::new(Received::default());
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("address");
        let state = received.clone();
        let app = Router::new()
            .route(
                "/events",
                post(|State(r): State<Arc<Received>>, body: axum::body::Bytes| async move {
                    if body.len() > MAX_BODY {
                        r.refused.fetch_add(1, Ordering::Relaxed);
                        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, String::new());
                    }
                    let n = serde_json::from_slice::<Batch>(&body).map_or(0, |b| b.events.len());
                    r.events.fetch_add(n as u64, Ordering::Relaxed);
                    r.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                    let reply = format!(r#"{{"success":true,"data":"Ingested {n} events","error":null}}"#);
                    (axum::http::StatusCode::OK, reply)
                }),
            )
            .route("/health", get(|| async { r#"{"success":true,"data":"ok","error":null}"# }))
            .layer(axum::extract::DefaultBodyLimit::max(4 * MAX_BODY))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        addr
    });
    (addr, received, rt)
}

/// The load generator: `requests` GETs of `/work` over [`CONNECTIONS`]
/// keep-alive connections, on a runtime of its own; the time they took.
struct Load {
    rt: tokio::runtime::Runtime,
    connections: Vec<TcpStream>,
    /// Requests sent and answered so far.
    sent: u64,
}

/// Requests answered so far in this process, for [`watch`].
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// The process's bounds: a configuration that goes above them is stopped
/// (its figure does not count) so that the bench cannot exhaust the
/// machine.
const RSS_LIMIT_MIB: f64 = 3072.0;
const TIME_LIMIT: Duration = Duration::from_secs(600);

/// Watches the process's memory and time from a thread of its own, and
/// stops the process, saying so, when either goes above its bound.
fn watch(mode: &'static str) {
    let started = Instant::now();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        let rss = rss_mib();
        if rss > RSS_LIMIT_MIB || started.elapsed() > TIME_LIMIT {
            eprintln!(
                "service bench [{mode}]: STOPPED after {} requests in {:.0?}: RSS {rss:.0} MiB (limit {RSS_LIMIT_MIB:.0}), \
                 time limit {TIME_LIMIT:?}; no figure for this configuration",
                ANSWERED.load(Ordering::Relaxed),
                started.elapsed()
            );
            let _ = std::io::stderr().flush();
            std::process::exit(0);
        }
    });
}

impl Load {
    fn connect(addr: SocketAddr) -> Load {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let connections = rt.block_on(async {
            let mut all = Vec::new();
            for _ in 0..CONNECTIONS {
                let stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                all.push(stream);
            }
            all
        });
        Load { rt, connections, sent: 0 }
    }

    fn run(&mut self, requests: u64) -> Duration {
        let per = requests.div_ceil(CONNECTIONS as u64);
        let connections = std::mem::take(&mut self.connections);
        let start = Instant::now();
        self.connections = self.rt.block_on(async {
            let tasks: Vec<_> = connections
                .into_iter()
                .map(|mut stream| {
                    tokio::spawn(async move {
                        let mut buffer = Vec::with_capacity(4096);
                        for _ in 0..per {
                            request(&mut stream, &mut buffer).await;
                            ANSWERED.fetch_add(1, Ordering::Relaxed);
                        }
                        stream
                    })
                })
                .collect();
            let mut back = Vec::new();
            for task in tasks {
                back.push(task.await.expect("a load connection"));
            }
            back
        });
        self.sent += per * CONNECTIONS as u64;
        // Whole rounds over every connection: scale to the count asked.
        start.elapsed().mul_f64(requests as f64 / (per * CONNECTIONS as u64) as f64)
    }
}

/// One request and its whole response, which must be `200`.
async fn request(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    stream.write_all(b"GET /work HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.expect("send a request");
    buffer.clear();
    loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.expect("read a response");
        assert!(n > 0, "the service closed a connection");
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = std::str::from_utf8(&buffer[..end]).expect("response head");
        assert!(head.starts_with("HTTP/1.1 200"), "response: {head}");
        let length = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
            .map_or(0, |(_, v)| v.trim().parse::<usize>().expect("content-length"));
        if buffer.len() >= end + 4 + length {
            return;
        }
    }
}

/// The resident set, from /proc (Linux), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Installs the client of `mode` (none for `none`).
fn install(mode: &str) -> (Option<raceway::RacewayGuard>, Option<(Arc<Received>, tokio::runtime::Runtime)>) {
    match mode {
        "none" => (None, None),
        "embedded" => {
            (Some(raceway::init(Config::from_env().expect("RACEWAY_* settings")).expect("raceway::init")), None)
        }
        "http" => {
            let (addr, received, rt) = receiver();
            let config = Config {
                endpoint: Some(Endpoint::parse(&format!("http://{addr}")).expect("endpoint")),
                ..Config::default()
            };
            (Some(raceway::init(config).expect("raceway::init")), Some((received, rt)))
        }
        other => panic!("unknown configuration {other}"),
    }
}

/// Criterion's timing of the service in configuration `mode`.
fn timed(mode: &str) {
    watch(match mode {
        "none" => "none",
        "embedded" => "embedded",
        _ => "http",
    });
    let rss_before = rss_mib();
    let (guard, receiver) = install(mode);
    let (addr, _server) = serve(mode != "none");
    let mut load = Load::connect(addr);
    let mut c = Criterion::default().configure_from_args().sample_size(10).warm_up_time(Duration::from_secs(1));
    let mut group = c.benchmark_group("service: axum + shared raceway::sync::Mutex, 64 connections");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(if is_test_run() { 1 } else { 5 }));
    group.bench_function(mode, |b| b.iter_custom(|iters| load.run(iters)));
    group.finish();
    let rss_after = rss_mib();
    let requests = load.sent;
    eprintln!("service bench [{mode}]: {requests} requests; RSS {rss_before:.0} MiB before, {rss_after:.0} MiB after");
    if let Some(guard) = &guard {
        let _ = guard.flush();
        let stats = guard.stats();
        eprintln!("service bench [{mode}]: pipeline counters {stats}");
    }
    if let Some((received, _rt)) = &receiver {
        eprintln!(
            "service bench [{mode}]: receiver got {} events in {} bytes; {} bodies refused with 413",
            received.events.load(Ordering::Relaxed),
            received.bytes.load(Ordering::Relaxed),
            received.refused.load(Ordering::Relaxed)
        );
    }
    let _ = std::io::stderr().flush();
    // The analysis's report is not the point here: leave without it.
    std::mem::forget(guard);
    std::process::exit(0);
}

/// Bytes per event, stage by stage, as requests accumulate: delivered to
/// the receiver (`http`), or as the embedded collector keeps them (their
/// JSON, and their clock's entries).
fn clocks(sink: &str) {
    if sink == "embedded" {
        return clocks_embedded();
    }
    let max = clock_stages_max();
    watch("clocks");
    let (guard, receiver) = install("http");
    let (received, _rt) = receiver.expect("the receiver");
    let guard = guard.expect("the client");
    let (addr, _server) = serve(true);
    let mut load = Load::connect(addr);
    let rss_start = rss_mib();
    let (mut events, mut bytes) = (0u64, 0u64);
    for stage in [1_000u64, 10_000, 100_000, 1_000_000].into_iter().filter(|s| *s <= max) {
        let before = load.sent;
        let asked = stage.saturating_sub(before);
        let took = load.run(asked);
        let rate = asked as f64 / took.as_secs_f64().max(1e-9);
        let served = load.sent;
        let _ = guard.flush();
        let (e, b) = (received.events.load(Ordering::Relaxed), received.bytes.load(Ordering::Relaxed));
        let per_event = (b - bytes) as f64 / (e - events).max(1) as f64;
        eprintln!(
            "service bench [clocks]: after {served} requests: {per_event:.0} bytes per event delivered in the last \
             stage ({} events), {rate:.0} req/s in it, RSS {:.0} MiB (started at {rss_start:.0}), {} bodies refused",
            e - events,
            rss_mib(),
            received.refused.load(Ordering::Relaxed)
        );
        (events, bytes) = (e, b);
    }
    eprintln!("service bench [clocks]: pipeline counters {}", guard.stats());
    let _ = std::io::stderr().flush();
    std::mem::forget(guard);
    std::process::exit(0);
}

/// The last clock stage: 100k requests, 1M with
/// `RACEWAY_SERVICE_BENCH_MAX=1000000`, 1k in a test run.
fn clock_stages_max() -> u64 {
    let max: u64 = std::env::var("RACEWAY_SERVICE_BENCH_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    if is_test_run() {
        1_000
    } else {
        max
    }
}

/// [`clocks`] with the embedded default: after each stage (and a flush,
/// so that the analysis has caught up), the JSON size and clock entries of
/// the last events the collector kept.
fn clocks_embedded() {
    /// Events of each stage's end that are measured.
    const SAMPLE: usize = 10_000;
    let max = clock_stages_max();
    watch("clocks-embedded");
    let (guard, _) = install("embedded");
    let guard = guard.expect("the client");
    let (addr, _server) = serve(true);
    let mut load = Load::connect(addr);
    let rss_start = rss_mib();
    for stage in [1_000u64, 10_000, 100_000, 1_000_000].into_iter().filter(|s| *s <= max) {
        let asked = stage.saturating_sub(load.sent);
        let took = load.run(asked);
        let rate = asked as f64 / took.as_secs_f64().max(1e-9);
        let _ = guard.flush();
        let events = guard.collected_events();
        let sample = &events[events.len().saturating_sub(SAMPLE)..];
        let bytes: usize = sample.iter().map(|e| serde_json::to_vec(e).map_or(0, |j| j.len())).sum();
        let entries: usize = sample.iter().map(|e| e.causality_vector.len()).sum();
        let longest = sample.iter().map(|e| e.causality_vector.len()).max().unwrap_or(0);
        let n = sample.len().max(1) as f64;
        eprintln!(
            "service bench [clocks-embedded]: after {} requests: {:.0} bytes per event, {:.1} clock entries per              event (longest {longest}) over the last {} events; {rate:.0} req/s in the stage, RSS {:.0} MiB              (started at {rss_start:.0}); pipeline counters {}",
            load.sent,
            bytes as f64 / n,
            entries as f64 / n,
            sample.len(),
            rss_mib(),
            guard.stats()
        );
    }
    let _ = std::io::stderr().flush();
    std::mem::forget(guard);
    std::process::exit(0);
}
