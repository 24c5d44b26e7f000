//! Analysis throughput: StateChange events over 1,000 variables and 64
//! executions that synchronize through locks and spawns, at 100k and 1M
//! events (target: 1M in under 1 s, growing linearly). A second stream puts
//! every execution's accesses inside calls of a `#[track]` function (four
//! accesses per call), so that the atomicity analysis has regions to work
//! on: a third of its events are then the calls' entries and returns.
//! Locked accesses come with the lock's acquisition and release events and
//! the hard clock that the lock hand-off does not give (`hard_causality`),
//! as the runtime records them, and each stream runs with prediction on
//! (the default) and off (`predict=false`), the prediction's cost.
//!
//! `cargo bench -p raceway --bench analyzer`; see BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use raceway::analyzer::Analyzer;
use raceway::wire::{Event, EventKind, Metadata};
use raceway::{AccessType, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXECUTIONS: usize = 64;
const VARIABLES: usize = 1_000;
const LOCKS: usize = 16;

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A synthetic trace, generated in chunks: executions spawned by a root,
/// accessing variables under locks (whose release clocks they join) and
/// without.
struct Trace {
    rng: Rng,
    names: Vec<Arc<str>>,
    components: Vec<Arc<str>>,
    variables: Vec<String>,
    /// Shared, as the converter shares each source location's string.
    locations: Vec<Arc<str>>,
    clocks: Vec<Vec<u64>>,
    /// What each execution learnt through hard edges (spawns only here).
    hard: Vec<Vec<u64>>,
    lock_clocks: Vec<Vec<u64>>,
    /// Events made ahead (a locked access's access and release).
    pending: std::collections::VecDeque<Event>,
    tags: Arc<BTreeMap<String, String>>,
    generated: u64,
    /// With regions: each execution's accesses left in its current call.
    calls: Option<Vec<u8>>,
}

impl Trace {
    fn new(regions: bool) -> Self {
        let mut clocks: Vec<Vec<u64>> = vec![vec![0; EXECUTIONS]; EXECUTIONS];
        // Spawns: every worker starts after the root's first event.
        for clock in clocks.iter_mut().skip(1) {
            clock[0] = 1;
        }
        Trace {
            rng: Rng(0x9e37_79b9_7f4a_7c15),
            names: (0..EXECUTIONS).map(|i| format!("worker-{i}").into()).collect(),
            components: (0..EXECUTIONS).map(|i| format!("bench#1/{i}").into()).collect(),
            variables: (0..VARIABLES).map(|i| format!("account[{i}].balance")).collect(),
            locations: (0..50).map(|i| format!("src/bank.rs:{}:9", 10 + i).into()).collect(),
            hard: clocks.clone(),
            clocks,
            pending: Default::default(),
            lock_clocks: vec![vec![0; EXECUTIONS]; LOCKS],
            tags: Arc::new(BTreeMap::from([("sdk_language".to_string(), "rust".to_string())])),
            generated: 0,
            calls: regions.then(|| vec![0; EXECUTIONS]),
        }
    }

    /// The next `n` events, in time order.
    fn chunk(&mut self, n: usize) -> Vec<Event> {
        (0..n).map(|_| self.event()).collect()
    }

    fn event(&mut self) -> Event {
        if let Some(event) = self.pending.pop_front() {
            return event;
        }
        let t = self.rng.below(EXECUTIONS);
        let Some(left) = self.calls.as_mut().map(|calls| &mut calls[t]) else {
            return self.access(t);
        };
        // Four accesses per call, between its entry and its return.
        match *left {
            0 => {
                *left = 5;
                self.call(t, true)
            }
            1 => {
                *left = 0;
                self.call(t, false)
            }
            _ => {
                *left -= 1;
                self.access(t)
            }
        }
    }

    /// The entry or the return of a call of execution `t`.
    fn call(&mut self, t: usize, entry: bool) -> Event {
        let kind = if entry {
            EventKind::FunctionCall {
                function_name: "bank::transfer".into(),
                module: "bank".into(),
                args: Value::Null,
                file: "src/bank.rs".into(),
                line: 7,
            }
        } else {
            EventKind::Custom { name: raceway::wire::FUNCTION_RETURN.into(), data: Value::Null }
        };
        self.stamp(t, kind, Vec::new())
    }

    /// One access of execution `t`.
    fn access(&mut self, t: usize) -> Event {
        let rng = &mut self.rng;
        let locked = rng.below(2) == 0;
        let lock = rng.below(LOCKS);
        let var = rng.below(VARIABLES);
        let write = rng.below(3) == 0;
        let lock_id = format!("lock-{lock}");
        let acquire = locked.then(|| {
            // Acquire: join the lock's last release.
            for (c, l) in self.clocks[t].iter_mut().zip(&self.lock_clocks[lock]) {
                *c = (*c).max(*l);
            }
            let location: Arc<str> = Arc::from("src/bank.rs:5:9");
            let kind = EventKind::LockAcquire { lock_id: lock_id.clone(), lock_type: "Mutex".into(), location };
            self.stamp(t, kind, vec![lock_id.clone()])
        });
        let kind = EventKind::StateChange {
            variable: self.variables[var].clone(),
            old_value: write.then_some(Value::I64(1)),
            new_value: Value::I64(2),
            location: self.locations[var % 50].clone(),
            access_type: if write { AccessType::Write } else { AccessType::Read },
        };
        let event = self.stamp(t, kind, if locked { vec![lock_id.clone()] } else { Vec::new() });
        let Some(acquire) = acquire else { return event };
        let location: Arc<str> = Arc::from("src/bank.rs:6:9");
        let release =
            self.stamp(t, EventKind::LockRelease { lock_id, lock_type: "Mutex".into(), location }, Vec::new());
        self.lock_clocks[lock].clone_from(&self.clocks[t]);
        self.pending.push_back(event);
        self.pending.push_back(release);
        acquire
    }

    /// The next event of execution `t`: its clock ticks.
    fn stamp(&mut self, t: usize, kind: EventKind, lock_set: Vec<String>) -> Event {
        self.clocks[t][t] += 1;
        self.generated += 1;
        let micros = 1_700_000_000_000_000u64 + self.generated;
        let clock = &self.clocks[t];
        let mut causality_vector: Vec<(Arc<str>, u64)> = clock
            .iter()
            .enumerate()
            .filter(|&(i, &n)| n > 0 && i != t)
            .map(|(i, &n)| (self.components[i].clone(), n))
            .collect();
        causality_vector.push((self.components[t].clone(), clock[t]));
        let hard = &self.hard[t];
        let hard_causality = clock
            .iter()
            .zip(hard)
            .enumerate()
            .filter(|&(i, (&n, &h))| i != t && h < n)
            .map(|(i, (_, &h))| (self.components[i].clone(), h))
            .collect();
        Event {
            id: uuid::Uuid::from_u128(u128::from(self.generated)),
            trace_id: uuid::Uuid::from_u128(7),
            parent_id: None,
            timestamp: format!(
                "2026-11-25T10:{:02}:{:02}.{:06}Z",
                (micros / 60_000_000) % 60,
                (micros / 1_000_000) % 60,
                micros % 1_000_000
            ),
            kind,
            metadata: Metadata {
                thread_id: self.names[t].clone(),
                process_id: 1,
                service_name: "bench".into(),
                environment: "bench".into(),
                tags: self.tags.clone(),
                duration_ns: None,
                instance_id: None,
                distributed_span_id: None,
                upstream_span_id: None,
            },
            causality_vector,
            hard_causality,
            lock_set,
        }
    }
}

/// Events generated per chunk of the streamed runs: the input is made
/// outside the timing, a chunk at a time, so its memory stays small.
const CHUNK: usize = 10_000;

/// The time `Analyzer::observe` takes over `events` events, and the final
/// report, `iters` times.
fn stream(events: usize, regions: bool, predict: bool, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (mut trace, mut analyzer) = (Trace::new(regions), Analyzer::with_prediction(predict));
        for _ in 0..events / CHUNK {
            let chunk = trace.chunk(CHUNK);
            let start = Instant::now();
            for event in &chunk {
                analyzer.observe(event);
            }
            total += start.elapsed();
            drop(chunk);
        }
        let start = Instant::now();
        black_box(analyzer.report());
        total += start.elapsed();
    }
    total
}

fn analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));

    // The analysis as it runs: incrementally, over a stream (the embedded
    // collector, a JSON-lines file read line by line). Timed: `observe` of
    // every event and the final report; making and freeing the events is
    // the producer's part, outside the timing (it is measured below, in
    // `analyze()`).
    for (regions, name) in [(false, ""), (true, " in calls")] {
        for (predict, mode) in [(true, ""), (false, ", predict=false")] {
            for events in [100_000usize, 1_000_000] {
                group.throughput(Throughput::Elements(events as u64));
                group.bench_function(format!("stream of {events} events{name}{mode}"), |b| {
                    b.iter_custom(|iters| stream(events, regions, predict, iters));
                });
            }
        }
    }

    // `analyze` over a materialized set (sorted by timestamp first): the
    // whole input, about 1.5 KB per event, is resident, and freeing it is
    // part of the timing.
    for events in [100_000usize, 1_000_000] {
        let input = Trace::new(false).chunk(events);
        group.throughput(Throughput::Elements(events as u64));
        group.bench_function(format!("analyze() of {events} materialized events"), |b| {
            b.iter_batched(|| input.clone(), raceway::analyzer::analyze, BatchSize::PerIteration);
        });
    }
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
