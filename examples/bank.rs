//! Concurrent transfers between bank accounts, recorded with raceway's
//! embedded collector (no server needed).
//!
//! Run with `cargo run --example bank`.

use raceway::{AccessType, Config};
use std::sync::{Arc, Mutex};

fn main() {
    let guard =
        raceway::init(Config { service_name: "bank".into(), ..Config::default() }).expect("a valid configuration");
    let balance = Arc::new(Mutex::new(100i64));

    // Two tellers withdraw at the same time. Each reads the balance under
    // the lock, releases it, then writes `balance - amount` under the lock
    // again: one withdrawal can be lost.
    let tellers: Vec<_> = [30, 50]
        .into_iter()
        .map(|amount| {
            let balance = balance.clone();
            raceway::thread::spawn(move || {
                let client = raceway::client().expect("installed by init");
                let seen = *balance.lock().unwrap();
                client.track_state_change("alice.balance", None::<i64>, seen, AccessType::Read);
                let new = seen - amount;
                *balance.lock().unwrap() = new;
                client.track_state_change("alice.balance", seen, new, AccessType::Write);
            })
        })
        .collect();
    for teller in tellers {
        teller.join().expect("teller thread");
    }

    guard.flush().expect("flush");
    let events = guard.collected_events();
    println!("final balance: {} (expected 20)", balance.lock().unwrap());
    println!("recorded {} events:", events.len());
    for event in &events {
        println!("  {:<14} {}", event.kind_name(), event.metadata.thread_id);
    }
    println!("pipeline: {}", guard.stats());
}
