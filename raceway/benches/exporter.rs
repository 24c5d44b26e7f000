//! The background sender's throughput: events recorded on one thread,
//! converted to the wire format, serialized, batched and delivered over
//! HTTP to a receiver on 127.0.0.1, per second of wall time until `flush`
//! returns.
//!
//! The receiver (axum, in this process, on its own runtime) answers 200 and
//! counts the events by their `"id"` keys without parsing them, so that it
//! is not the bottleneck. Batches of 1,000 events; the hand-off channel is
//! large enough that nothing is dropped (checked after each sample).
//!
//! Besides criterion's wall-clock throughput, the bench prints the exporter
//! thread's own CPU time per event (from `/proc`, Linux only): on this
//! 2-core machine the recording thread, the exporter and the receiver share
//! the cores, and the CPU figure says what one background core can carry.
//!
//! Figures: `cargo bench -p raceway --bench exporter`; see BENCHMARKS.md.

use axum::routing::post;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use raceway::{AccessType, Config, Endpoint, RacewayClient};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: u64 = 100_000;

/// Starts the counting receiver; returns its URL and its count.
fn receiver() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/events",
                post(move |body: axum::body::Bytes| async move {
                    let events = std::str::from_utf8(&body).map_or(0, |text| text.matches("{\"id\":").count());
                    counted.fetch_add(events as u64, Ordering::Relaxed);
                    "{\"success\":true}"
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (url, count)
}

/// CPU time (user + system) consumed so far by this process's thread named
/// `name` (as `/proc` shows it, truncated to 15 bytes), in clock ticks.
fn thread_cpu_ticks(name: &str) -> Option<u64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // Fields after the parenthesized name: state is field 3, utime 14, stime 15.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            return Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?);
        }
    }
    None
}

fn exporter(c: &mut Criterion) {
    let (url, delivered) = receiver();
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::parse(&url).unwrap()),
        batch_size: 1_000,
        channel_capacity: 4 * EVENTS as usize,
        flush_interval: Duration::from_millis(100),
        ..Config::default()
    })
    .unwrap();
    let mut group = c.benchmark_group("exporter");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    let (mut exporter_ticks, mut exported) = (0u64, 0u64);
    group.bench_function("100k state changes to a loopback HTTP receiver", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let before = delivered.load(Ordering::Relaxed);
                let cpu_before = thread_cpu_ticks("raceway-exporte");
                let start = Instant::now();
                for i in 0..EVENTS as i64 {
                    client.track_state_change("account.balance", i, i + 1, AccessType::Write);
                }
                client.flush().expect("delivered within flush_timeout");
                total += start.elapsed();
                assert_eq!(delivered.load(Ordering::Relaxed) - before, EVENTS, "every event arrives");
                if let (Some(a), Some(b)) = (cpu_before, thread_cpu_ticks("raceway-exporte")) {
                    exporter_ticks += b - a;
                    exported += EVENTS;
                }
            }
            total
        });
    });
    group.finish();
    let stats = client.stats();
    assert_eq!(stats.dropped, 0, "the bench must not drop: {stats}");
    eprintln!("exporter counters: {stats}");
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    if exporter_ticks > 0 {
        let seconds = exporter_ticks as f64 / ticks_per_second;
        eprintln!(
            "exporter thread CPU: {:.0} ns per event, {:.2}M events/s of one core ({exported} events, {seconds:.2} s)",
            seconds * 1e9 / exported as f64,
            exported as f64 / seconds / 1e6
        );
    }
}

criterion_group!(benches, exporter);
criterion_main!(benches);
