//! Concurrent transfers with a lost update, found with no server at all.
//!
//! Two tellers withdraw from the same account at once. Each reads the
//! balance under the account's lock, releases it to "compute", and locks
//! again to write `balance - amount` back. Every access is under the lock,
//! so there is no data race for a sanitizer to see, but one withdrawal is
//! lost. Raceway's embedded analyzer reports it when the guard is dropped.
//!
//! Run with `cargo run --example bank` (add `-- --fixed` for the corrected
//! version, which holds the lock across the read and the write).

use raceway::sync::Mutex;
use raceway::{track, tracked, Config, Traced};
use std::sync::{Arc, Barrier};

#[derive(Traced, Debug)]
struct Account {
    #[traced(key)]
    owner: String,
    balance: i64,
}

/// The buggy withdrawal: the lock is released between the read and the
/// write-back.
#[track]
fn withdraw(account: &Mutex<Account>, amount: i64, both_read: &Barrier) -> i64 {
    let seen = {
        let guard = account.lock().unwrap();
        tracked!(guard.balance)
    };
    // Both tellers have read the balance before either writes (in real life:
    // a slow fraud check, a call to another service).
    both_read.wait();
    let mut guard = account.lock().unwrap();
    tracked!(guard.balance = seen - amount);
    seen - amount
}

/// The fix: one critical section for the whole read-modify-write.
#[track]
fn withdraw_fixed(account: &Mutex<Account>, amount: i64, _both_read: &Barrier) -> i64 {
    let mut guard = account.lock().unwrap();
    tracked!(guard.balance -= amount);
    guard.balance
}

fn main() {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let guard =
        raceway::init(Config { service_name: "bank".into(), ..Config::from_env().expect("valid RACEWAY_* settings") })
            .expect("raceway::init");

    let account = Arc::new(Mutex::with_name(Account { owner: "alice".into(), balance: 100 }, "alice's account"));
    let both_read = Arc::new(Barrier::new(2));
    let tellers: Vec<_> = [30, 50]
        .into_iter()
        .map(|amount| {
            let (account, both_read) = (account.clone(), both_read.clone());
            raceway::thread::Builder::new()
                .name(format!("teller-{amount}"))
                .spawn(move || {
                    if fixed {
                        // The fixed version does not need to wait: let both
                        // tellers still run at the same time.
                        both_read.wait();
                        withdraw_fixed(&account, amount, &both_read)
                    } else {
                        withdraw(&account, amount, &both_read)
                    }
                })
                .expect("spawn a teller")
        })
        .collect();
    for teller in tellers {
        teller.join().expect("teller thread");
    }

    let balance = account.lock().unwrap().balance;
    println!("final balance of {}: {balance} (expected 20)", account.lock().unwrap().owner);
    println!("recorded {} events ({})", guard.stats().accepted, guard.stats());
    // Dropping the guard prints raceway's report to stderr.
    drop(guard);
}
