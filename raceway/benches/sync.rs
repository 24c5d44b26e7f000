//! The overhead of raceway's std mirrors per operation, each against its
//! original, with recording active: the process-wide embedded client is
//! installed, and every event reaches the analyzer. The channel is sized,
//! and the benches that record events (atomics, and the mutex under the
//! condition variable) flush between chunks of iterations, outside the
//! timing, so that nothing is dropped however long criterion makes a
//! sample; the bench prints the counters to show it. Their figures are the
//! cost on the recording threads while the exporter converts and analyzes
//! on the other core; what the exporter could not keep up with is the
//! flushes' waiting time, printed too.
//!
//! - `mpsc`: a send then a receive on one thread, per message.
//! - `atomic`: a `Release` store then an `Acquire` load, per pair (two
//!   operations, two recorded events).
//! - `condvar`: a round trip between this thread and a long-lived partner
//!   through a `Mutex<bool>` and a `Condvar` (one notify that wakes the
//!   partner, one that wakes this side back), per round trip; with both
//!   threads on one CPU, and unpinned.
//!
//! Figures: `cargo bench -p raceway --bench sync`; see BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use raceway::{Config, RacewayGuard};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// Iterations between two flushes in the recording benches: at two events
/// per atomic pair, a sixteenth of the channel, so that it never fills
/// however long criterion makes a sample (warm-up batches double).
const CHUNK: u64 = 131_072;

fn config() -> Config {
    Config { channel_capacity: 1 << 22, flush_interval: Duration::from_millis(50), ..Config::default() }
}

/// The time spent waiting in the flushes between chunks, outside the
/// timings: how long the exporter took to convert and analyze what the
/// chunks recorded, beyond what it did while they ran.
#[derive(Default)]
struct Flushes {
    count: u64,
    waited: Duration,
}

impl Flushes {
    /// Runs `iters` iterations of `op`, in chunks of at most [`CHUNK`] with
    /// a flush after each, and returns the time of the chunks alone.
    fn timed(&mut self, guard: &RacewayGuard, iters: u64, mut op: impl FnMut(u64)) -> Duration {
        let mut timed = Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let n = (iters - done).min(CHUNK);
            let start = Instant::now();
            for i in done..done + n {
                op(i);
            }
            timed += start.elapsed();
            done += n;
            let start = Instant::now();
            guard.flush().expect("flush");
            self.waited += start.elapsed();
            self.count += 1;
        }
        timed
    }
}

fn counters(guard: &RacewayGuard, after: &str) {
    guard.flush().expect("flush");
    eprintln!("pipeline counters after {after}: {}", guard.stats());
}

/// A send then a receive of the message, on one thread.
fn channels(c: &mut Criterion, guard: &RacewayGuard) {
    let mut group = c.benchmark_group("mpsc send+recv, 1 thread (per message)");
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    group.bench_function("std channel()", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            rx.recv().unwrap()
        })
    });
    let (tx, rx) = raceway::sync::mpsc::channel::<u64>();
    group.bench_function("raceway channel()", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            rx.recv().unwrap()
        })
    });
    let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1);
    group.bench_function("std sync_channel(1)", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            rx.recv().unwrap()
        })
    });
    let (tx, rx) = raceway::sync::mpsc::sync_channel::<u64>(1);
    group.bench_function("raceway sync_channel(1)", |b| {
        b.iter(|| {
            tx.send(black_box(1)).unwrap();
            rx.recv().unwrap()
        })
    });
    group.finish();
    counters(guard, "the channel benches");
}

/// A `Release` store then an `Acquire` load of the same atomic.
fn atomics(c: &mut Criterion, guard: &RacewayGuard) {
    let mut group = c.benchmark_group("atomic store(Release)+load(Acquire) (per pair: 2 operations)");
    group.measurement_time(Duration::from_secs(3)).sample_size(20);
    let std_atomic = std::sync::atomic::AtomicUsize::new(0);
    group.bench_function("std AtomicUsize", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = i.wrapping_add(1);
            std_atomic.store(black_box(i), Release);
            std_atomic.load(Acquire)
        })
    });
    let atomic = raceway::sync::atomic::AtomicUsize::new(0);
    let mut flushes = Flushes::default();
    group.bench_function("raceway AtomicUsize", |b| {
        b.iter_custom(|iters| {
            flushes.timed(guard, iters, |i| {
                atomic.store(black_box(i as usize), raceway::sync::atomic::Ordering::Release);
                black_box(atomic.load(raceway::sync::atomic::Ordering::Acquire));
            })
        })
    });
    group.finish();
    eprintln!("atomic bench: {} untimed flushes waited {:.2?} in all for the exporter", flushes.count, flushes.waited);
    counters(guard, "the atomic benches");
}

/// The two sides of a ping-pong through a `Mutex<bool>` and a `Condvar`:
/// `true` while the partner has the ball. Written once for std's types and
/// raceway's, which have the same methods. The partner thread runs on
/// `$cpu` when it is `Some`.
macro_rules! ping_pong {
    ($mutex:ty, $condvar:ty, $new_mutex:expr, $new_condvar:expr, $cpu:expr) => {{
        struct Table {
            ball: $mutex,
            turn: $condvar,
            stop: std::sync::atomic::AtomicBool,
        }
        let table = std::sync::Arc::new(Table {
            ball: $new_mutex,
            turn: $new_condvar,
            stop: std::sync::atomic::AtomicBool::new(false),
        });
        let cpu: Option<usize> = $cpu;
        // The partner: waits for the ball, hands it back, until stopped.
        let partner = {
            let table = table.clone();
            std::thread::spawn(move || {
                if let Some(cpu) = cpu {
                    pin_to_cpu(cpu);
                }
                let mut ball = table.ball.lock().unwrap();
                loop {
                    ball = table.turn.wait_while(ball, |theirs| !*theirs && !table.stop.load(Acquire)).unwrap();
                    if table.stop.load(Acquire) {
                        break;
                    }
                    *ball = false;
                    table.turn.notify_one();
                }
            })
        };
        // One round trip on this side: hand the ball over, wait for it back.
        let round_trip = {
            let table = table.clone();
            move || {
                let mut ball = table.ball.lock().unwrap();
                *ball = true;
                table.turn.notify_one();
                drop(table.turn.wait_while(ball, |theirs| *theirs).unwrap());
            }
        };
        let stop = move || {
            let ball = table.ball.lock().unwrap();
            table.stop.store(true, Release);
            table.turn.notify_one();
            drop(ball);
            partner.join().unwrap();
        };
        (round_trip, stop)
    }};
}

/// A round trip between this thread and a long-lived partner thread, both
/// on one CPU (each notify hands the CPU to the woken thread; the exporter
/// has the other CPU), then with the scheduler free to place them.
fn condvars(c: &mut Criterion, guard: &RacewayGuard) {
    let mut group = c.benchmark_group("condvar round trip, 2 threads (per round trip: 2 notify+wake)");
    let mut flushes = Flushes::default();
    for (placement, cpu) in [("both on CPU 0", Some(0)), ("unpinned", None)] {
        let restore = cpu.map(pin_to_cpu);
        let (round_trip, stop) = ping_pong!(
            std::sync::Mutex<bool>,
            std::sync::Condvar,
            std::sync::Mutex::new(false),
            std::sync::Condvar::new(),
            cpu
        );
        group.bench_function(format!("std, {placement}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    round_trip();
                }
                start.elapsed()
            })
        });
        stop();
        let (round_trip, stop) = ping_pong!(
            raceway::sync::Mutex<bool>,
            raceway::sync::Condvar,
            raceway::sync::Mutex::new(false),
            raceway::sync::Condvar::new(),
            cpu
        );
        group.bench_function(format!("raceway, {placement}"), |b| {
            b.iter_custom(|iters| flushes.timed(guard, iters, |_| round_trip()))
        });
        stop();
        if let Some(Some(mask)) = restore {
            set_affinity(&mask);
        }
    }
    group.finish();
    eprintln!("condvar bench: {} untimed flushes waited {:.2?} in all for the exporter", flushes.count, flushes.waited);
    counters(guard, "the condvar benches");
}

/// Pins the calling thread to CPU `cpu`, when the machine has it; returns
/// the affinity it had, to restore.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) -> Option<libc::cpu_set_t> {
    if !std::thread::available_parallelism().is_ok_and(|n| cpu < n.get()) {
        return None;
    }
    // SAFETY: the sets are plain bit sets that sched_getaffinity, CPU_ZERO
    // and CPU_SET fill within their size; (0, ..) is the calling thread.
    unsafe {
        let mut old: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old) != 0 {
            return None;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        set_affinity(&set);
        Some(old)
    }
}

#[cfg(target_os = "linux")]
fn set_affinity(set: &libc::cpu_set_t) {
    // SAFETY: `set` is a valid cpu_set_t; (0, ..) is the calling thread.
    unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set);
    }
}

/// Elsewhere than Linux, the threads are left where the scheduler puts
/// them.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(_cpu: usize) -> Option<()> {
    None
}

#[cfg(not(target_os = "linux"))]
fn set_affinity(_set: &()) {}

fn mirrors(c: &mut Criterion) {
    let guard = raceway::init(config()).expect("raceway::init");
    // A thread that uses raceway has recorded events: its clock has its own
    // component, which a send copies (a thread that never recorded anything
    // sends an empty clock, a cheaper case no instrumented program sees).
    raceway::sync::atomic::AtomicUsize::new(0).store(1, raceway::sync::atomic::Ordering::Release);
    channels(c, &guard);
    atomics(c, &guard);
    condvars(c, &guard);
    eprintln!("pipeline counters after the benches: {}", guard.stats());
    drop(guard);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = mirrors
}
criterion_main!(benches);
