//! Concurrent transfers with a lost update, found with no server at all.
//!
//! Two tellers withdraw from the same account. Each reads the balance under
//! the account's lock, releases it to "compute", and locks again to write
//! `balance - amount` back. Every access is under the lock, so there is no
//! data race for a sanitizer to see, but when the tellers overlap one
//! withdrawal is lost.
//!
//! In this run they do not overlap: the second teller arrives 50 ms after
//! the first, as tests usually run. Raceway's embedded analyzer still
//! reports the lost update when the guard is dropped, as a prediction: the
//! only thing that ordered the two withdrawals is the account's lock, whose
//! critical sections a different timing runs in another order.
//!
//! Run with `cargo run --example bank` (add `-- --fixed` for the corrected
//! version, which holds the lock across the read and the write: clean,
//! whatever the timing).

use raceway::sync::Mutex;
use raceway::{track, tracked, Config, Traced};
use std::sync::Arc;
use std::time::Duration;

#[derive(Traced, Debug)]
struct Account {
    #[traced(key)]
    owner: String,
    balance: i64,
}

/// The buggy withdrawal: the lock is released between the read and the
/// write-back.
#[track]
fn withdraw(account: &Mutex<Account>, amount: i64) -> i64 {
    let seen = {
        let guard = account.lock().unwrap();
        tracked!(guard.balance)
    };
    // In real life: a fraud check, a call to another service. Another
    // teller can take the lock here.
    let mut guard = account.lock().unwrap();
    tracked!(guard.balance = seen - amount);
    seen - amount
}

/// The fix: one critical section for the whole read-modify-write.
#[track]
fn withdraw_fixed(account: &Mutex<Account>, amount: i64) -> i64 {
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
    let tellers: Vec<_> = [(30, 0), (50, 50)]
        .into_iter()
        .map(|(amount, arrives_after_ms)| {
            let account = account.clone();
            raceway::thread::Builder::new()
                .name(format!("teller-{amount}"))
                .spawn(move || {
                    // Only timing separates the tellers: nothing recorded
                    // orders them but the account's lock.
                    std::thread::sleep(Duration::from_millis(arrives_after_ms));
                    if fixed {
                        withdraw_fixed(&account, amount)
                    } else {
                        withdraw(&account, amount)
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
