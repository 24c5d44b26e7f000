//! Analysis throughput: StateChange events over 1,000 variables and 64
//! executions that synchronize through locks and spawns, at 100k and 1M
//! events (target: 1M in under 1 s, growing linearly).
//!
//! `cargo bench -p raceway --bench analyzer`; see BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use raceway::wire::{Event, EventKind, Metadata};
use raceway::{AccessType, Value};
use std::collections::BTreeMap;
use std::time::Duration;

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

/// A synthetic trace: executions spawned by a root, accessing variables
/// under locks (whose release clocks they join) and without.
fn trace(events: usize) -> Vec<Event> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names: Vec<String> = (0..EXECUTIONS).map(|i| format!("worker-{i}")).collect();
    let components: Vec<std::sync::Arc<str>> = (0..EXECUTIONS).map(|i| format!("bench#1/{i}").into()).collect();
    let variables: Vec<String> = (0..VARIABLES).map(|i| format!("account[{i}].balance")).collect();
    let mut clocks: Vec<Vec<u64>> = vec![vec![0; EXECUTIONS]; EXECUTIONS];
    // Spawns: every worker starts after the root's first events.
    for (i, clock) in clocks.iter_mut().enumerate().skip(1) {
        clock[0] = 1;
        clock[i] = 0;
    }
    let mut lock_clocks: Vec<Vec<u64>> = vec![vec![0; EXECUTIONS]; LOCKS];
    let mut out = Vec::with_capacity(events);
    let base = 1_700_000_000_000_000u64;
    let mut tags = BTreeMap::new();
    tags.insert("sdk_language".to_string(), "rust".to_string());
    let mut id = 0u128;
    while out.len() < events {
        let t = rng.below(EXECUTIONS);
        let locked = rng.below(2) == 0;
        let lock = rng.below(LOCKS);
        if locked {
            // Acquire: join the lock's last release.
            for (c, l) in clocks[t].iter_mut().zip(&lock_clocks[lock]) {
                *c = (*c).max(*l);
            }
        }
        let var = rng.below(VARIABLES);
        let write = rng.below(3) == 0;
        clocks[t][t] += 1;
        id += 1;
        let micros = base + out.len() as u64;
        out.push(Event {
            id: uuid::Uuid::from_u128(id),
            trace_id: uuid::Uuid::from_u128(7),
            parent_id: None,
            timestamp: format!(
                "2026-11-25T10:{:02}:{:02}.{:06}Z",
                (micros / 60_000_000) % 60,
                (micros / 1_000_000) % 60,
                micros % 1_000_000
            ),
            kind: EventKind::StateChange {
                variable: variables[var].clone(),
                old_value: write.then_some(Value::I64(1)),
                new_value: Value::I64(2),
                location: format!("src/bank.rs:{}:9", 10 + var % 50),
                access_type: if write { AccessType::Write } else { AccessType::Read },
            },
            metadata: Metadata {
                thread_id: names[t].clone(),
                process_id: 1,
                service_name: "bench".into(),
                environment: "bench".into(),
                tags: tags.clone(),
                duration_ns: None,
                instance_id: None,
                distributed_span_id: None,
                upstream_span_id: None,
            },
            causality_vector: {
                let mut v: Vec<(std::sync::Arc<str>, u64)> = clocks[t]
                    .iter()
                    .enumerate()
                    .filter(|&(i, &n)| n > 0 && i != t)
                    .map(|(i, &n)| (components[i].clone(), n))
                    .collect();
                v.push((components[t].clone(), clocks[t][t]));
                v
            },
            lock_set: if locked { vec![format!("lock-{lock}")] } else { Vec::new() },
        });
        if locked {
            lock_clocks[lock] = clocks[t].clone();
        }
    }
    out
}

fn analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    for events in [100_000usize, 1_000_000] {
        let input = trace(events);
        group.throughput(Throughput::Elements(events as u64));
        group.bench_function(format!("{events} events"), |b| {
            b.iter_batched(|| input.clone(), raceway::analyzer::analyze, BatchSize::PerIteration);
        });
    }
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
