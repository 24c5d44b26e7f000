//! The cost of one tracking call on the calling thread, with the pipeline
//! running (embedded collector: no server needed).
//!
//! Figures: `cargo bench -p raceway --bench hot_path`; see BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use raceway::{AccessType, Config, RacewayClient};
use std::time::{Duration, Instant};

fn client() -> RacewayClient {
    RacewayClient::new(Config { flush_interval: Duration::from_millis(100), ..Config::default() }).unwrap()
}

fn state_change(c: &mut Criterion) {
    let client = client();
    let mut n = 0i64;
    c.bench_function("track_state_change i64, 1 thread", |b| {
        b.iter(|| {
            n += 1;
            client.track_state_change("account.balance", black_box(n - 1), black_box(n), AccessType::Write);
        })
    });

    // Two threads recording at once, each its own execution: each thread's
    // cost per event, taken as the slower of the two. The threads live across
    // samples, as a service's threads do. The same harness with one thread
    // gives the figure to compare with.
    workers(c, "track_state_change i64", client.clone(), |client, i| {
        client.track_state_change("account.balance", black_box(i), black_box(i + 1), AccessType::Write);
    });
    client.flush().unwrap();
    eprintln!("pipeline counters after the benches: {}", client.stats());
}

#[raceway::track]
fn empty() {}

/// `tracked!` and `#[track]`, without a client (the cost of instrumentation
/// left in a build that records nothing) and with the process-wide client.
fn macros(c: &mut Criterion) {
    let mut balance = 0i64;
    c.bench_function("tracked! write i64, no client", |b| {
        b.iter(|| raceway::tracked!(balance = black_box(7)));
    });
    c.bench_function("#[track] empty fn, no client", |b| b.iter(empty));

    let guard = raceway::init(Config { flush_interval: Duration::from_millis(100), ..Config::default() }).unwrap();
    c.bench_function("tracked! write i64, 1 thread", |b| {
        b.iter(|| raceway::tracked!(balance = black_box(7)));
    });
    c.bench_function("#[track] empty fn (call + return), 1 thread", |b| b.iter(empty));
    workers(c, "tracked! write i64", guard.client().clone(), |_, i| {
        let mut balance = 0i64;
        raceway::tracked!(balance = black_box(i));
        black_box(balance);
    });
    c.bench_function("tracked! write i64, in a raceway::thread::spawn thread", |b| {
        b.iter_custom(|iters| {
            raceway::thread::spawn(move || {
                let mut balance = 0i64;
                let start = Instant::now();
                for i in 0..iters as i64 {
                    raceway::tracked!(balance = black_box(i));
                }
                black_box(balance);
                start.elapsed()
            })
            .join()
            .unwrap()
        });
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    c.bench_function("tracked! write i64, in a raceway::task::spawn task", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                raceway::task::spawn(async move {
                    let mut balance = 0i64;
                    let start = Instant::now();
                    for i in 0..iters as i64 {
                        raceway::tracked!(balance = black_box(i));
                    }
                    black_box(balance);
                    start.elapsed()
                })
                .await
                .unwrap()
            })
        });
    });
    black_box(balance);
    drop(guard);
}

/// Every event analyzed: `tracked!` and `#[track]` inside a
/// `raceway::check` session, which never drops (a recording thread waits
/// for the analysis when it falls behind). Each sample is one session,
/// timed whole: the recording and the session's wait for the analysis of
/// everything recorded (its report made outside the timing is small), so
/// that the figure is what a sustained load costs, not what a channel can
/// absorb. The 2-thread lines run two `raceway::thread` threads in the
/// session, `iters` events each: the figure is per event of one thread. The
/// counters of every session are summed and printed: analyzed, dropped.
fn analyzed(c: &mut Criterion) {
    let (mut analyzed, mut dropped) = (0u64, 0u64);
    let mut session = |iters: u64, threads: u64, op: fn(i64)| -> Duration {
        let start = Instant::now();
        let report = raceway::check(|| {
            let per_thread: Vec<_> = (0..threads)
                .map(|_| {
                    raceway::thread::spawn(move || {
                        for i in 0..iters as i64 {
                            op(i);
                        }
                    })
                })
                .collect();
            per_thread.into_iter().for_each(|t| t.join().unwrap());
        });
        let took = start.elapsed();
        analyzed += report.events_analyzed();
        dropped += report.events_dropped();
        took
    };
    fn write(i: i64) {
        let mut balance = 0i64;
        raceway::tracked!(balance = black_box(i));
        black_box(balance);
    }
    fn call(_: i64) {
        empty();
    }
    for threads in [1, 2] {
        c.bench_function(&format!("tracked! write i64 in a check session, {threads} thread(s) (per thread)"), |b| {
            b.iter_custom(|iters| session(iters, threads, write));
        });
    }
    c.bench_function("#[track] empty fn (call + return) in a check session, 1 thread", |b| {
        b.iter_custom(|iters| session(iters, 1, call));
    });
    eprintln!("check sessions of the analyzed benches: {analyzed} events analyzed, {dropped} dropped");
}

/// `op` on 1 and on 2 worker threads, per thread, measured two ways.
///
/// - CPU time: what the operation costs the thread that runs it (the
///   thread's own CPU clock). The figure for the per-thread cost.
/// - Wall clock: that, plus the time the thread waited for its core. With
///   two workers on this 2-core machine the exporter thread, busy because a
///   tight loop overruns the channel, takes its share of one of the
///   workers' cores: the wall-clock figure counts the exporter's time as
///   the worker's.
fn workers(
    c: &mut Criterion,
    name: &str,
    client: RacewayClient,
    op: impl Fn(&RacewayClient, i64) + Copy + Send + 'static,
) {
    for threads in [1, 2] {
        let workers = Workers::start(threads, client.clone(), op);
        c.bench_function(&format!("{name}, {threads} worker thread(s) (per thread, CPU time)"), |b| {
            b.iter_custom(|iters| workers.run(iters).cpu);
        });
        c.bench_function(&format!("{name}, {threads} worker thread(s) (per thread, wall clock)"), |b| {
            b.iter_custom(|iters| workers.run(iters).wall);
        });
    }
}

/// Long-lived threads that run `op` a given number of times on request and
/// report how long it took.
struct Workers {
    start: Vec<crossbeam_channel::Sender<u64>>,
    done: crossbeam_channel::Receiver<Timing>,
}

/// One thread's time for one run.
#[derive(Clone, Copy, Default)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

impl Workers {
    /// `op` is generic, not a function pointer, so that it is inlined into
    /// the loop as the 1-thread benches' closures are.
    fn start(n: usize, client: RacewayClient, op: impl Fn(&RacewayClient, i64) + Copy + Send + 'static) -> Workers {
        let (done_tx, done) = crossbeam_channel::unbounded();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
        let start = (0..n)
            .map(|cpu| {
                let (tx, rx) = crossbeam_channel::unbounded::<u64>();
                let (client, done_tx, barrier) = (client.clone(), done_tx.clone(), barrier.clone());
                std::thread::spawn(move || {
                    pin_to_cpu(cpu);
                    for iters in rx {
                        barrier.wait();
                        let (wall, cpu) = (Instant::now(), thread_cpu_time());
                        for i in 0..iters as i64 {
                            op(&client, i);
                        }
                        let cpu = thread_cpu_time().saturating_sub(cpu);
                        done_tx.send(Timing { wall: wall.elapsed(), cpu }).unwrap();
                    }
                });
                tx
            })
            .collect();
        Workers { start, done }
    }

    /// The slowest thread's times for `iters` operations each.
    fn run(&self, iters: u64) -> Timing {
        for tx in &self.start {
            tx.send(iters).unwrap();
        }
        (0..self.start.len())
            .map(|_| self.done.recv().unwrap())
            .fold(Timing::default(), |a, b| Timing { wall: a.wall.max(b.wall), cpu: a.cpu.max(b.cpu) })
    }
}

/// The CPU time the calling thread has used; on other systems than Linux,
/// where it is not read, wall-clock time.
fn thread_cpu_time() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Pins the calling thread to CPU `cpu`, when the machine has it. Without
/// this, both workers often wake on one core after the idle time between
/// samples and stay there for the whole sample (the scheduler does not
/// move them within tens of milliseconds while the exporter keeps the other
/// core busy): the figure then measures two threads sharing one core, not
/// the cost of recording from two threads.
fn pin_to_cpu(cpu: usize) {
    #[cfg(target_os = "linux")]
    if std::thread::available_parallelism().is_ok_and(|n| cpu < n.get()) {
        // SAFETY: `set` is a plain bit set that CPU_ZERO and CPU_SET fill
        // within its size; sched_setaffinity(0, ..) only reads it and
        // applies to the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = state_change, macros, analyzed
}
criterion_main!(benches);
