//! The lock wrappers: what they record, the lock that fixes a race, and the
//! release → acquire ordering that makes the report clean.
//!
//! `cargo run --example lock_helpers` runs three scenarios through
//! `raceway::check` and prints each report:
//!
//! 1. a counter behind a plain `std::sync::Mutex` that raceway does not see:
//!    every access looks unordered (racy);
//! 2. the same mutex locked through `raceway::tracked_lock`: each release
//!    hands its clock to the next acquisition (clean);
//! 3. `raceway::sync::RwLock`: a writer, then readers in parallel (clean).

use raceway::sync::RwLock;
use raceway::{thread, tracked};
use std::sync::Mutex;

fn untracked(counter: &Mutex<i64>) {
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut g = counter.lock().unwrap();
                tracked!(*g += 1);
            });
        }
    });
}

fn with_tracked_lock(counter: &Mutex<i64>) {
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut g = raceway::tracked_lock(counter, "counter").unwrap();
                tracked!(*g += 1);
            });
        }
    });
}

fn readers_after_writer(table: &RwLock<Vec<i64>>) {
    {
        let mut w = table.write().unwrap();
        tracked!(w[0] = 42);
    }
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let r = table.read().unwrap();
                assert_eq!(tracked!(r[0]), 42);
            });
        }
    });
}

/// Runs one scenario in a fresh `raceway::check` session and prints its
/// verdict and report.
fn run(title: &str, scenario: impl FnOnce()) {
    let report = raceway::check(scenario);
    let verdict = if report.is_clean() { "clean" } else { "racy" };
    println!("{title}: {verdict}\n{report}");
}

fn main() {
    let counter = Mutex::new(0i64);
    run("1. std::sync::Mutex, invisible to raceway", || untracked(&counter));
    run("2. the same mutex through raceway::tracked_lock", || with_tracked_lock(&counter));
    run("3. raceway::sync::RwLock: one writer, then readers", || readers_after_writer(&RwLock::new(vec![0])));
}
