//! The serial twins of the labelled suite's racy scenarios (the executions
//! run one after the other, ordered by timing only: an untracked std
//! channel that raceway does not see), and a clean twin of each, ordered by
//! something a reordering must keep: a join, a channel message, the lock
//! held across the whole read-modify-write, a flag written under the lock
//! that the second execution waits to observe. Shared by the `prediction`
//! suite (prediction on: the serial twins are predicted races) and
//! `prediction_off` (`RACEWAY_PREDICT=0`: they are clean).

#![allow(dead_code)]

use raceway::sync::Mutex;
use raceway::{check, thread, track, tracked, Report};
use std::sync::mpsc as untracked;

/// A variable shared without synchronization of its own.
pub struct Shared(std::cell::UnsafeCell<i64>);

// SAFETY: the scenarios run their accesses one after the other (ordered by
// untracked channels); the cell is a plain i64.
unsafe impl Sync for Shared {}

impl Shared {
    pub fn new() -> Self {
        Shared(std::cell::UnsafeCell::new(0))
    }

    #[allow(clippy::mut_from_ref)]
    fn get(&self) -> &mut i64 {
        // SAFETY: see the `Sync` impl.
        unsafe { &mut *self.0.get() }
    }

    pub fn write(&self, value: i64) {
        let v = self.get();
        tracked!(*v = value);
    }

    pub fn read(&self) -> i64 {
        let v = self.get();
        tracked!(*v)
    }
}

/// Reads the balance in one critical section, writes it back in another.
#[track]
pub fn withdraw_in_two_steps(account: &Mutex<i64>, amount: i64) {
    let seen = {
        let g = account.lock().unwrap();
        tracked!(*g)
    };
    let mut g = account.lock().unwrap();
    tracked!(*g = seen - amount);
}

/// The whole read-modify-write in one critical section.
#[track]
pub fn withdraw_at_once(account: &Mutex<i64>, amount: i64) {
    let mut g = account.lock().unwrap();
    let seen = tracked!(*g);
    tracked!(*g = seen - amount);
}

/// Two reads of the ledger, each in its own critical section.
#[track]
pub fn audit(ledger: &Mutex<i64>) -> i64 {
    let before = {
        let g = ledger.lock().unwrap();
        tracked!(*g)
    };
    let g = ledger.lock().unwrap();
    tracked!(*g) - before
}

/// Runs `first` to its end, then `second`, on two threads that nothing
/// recorded orders: an untracked channel hands the turn over.
pub fn one_after_the_other(first: impl FnOnce() + Send, second: impl FnOnce() + Send) {
    let (done, turn) = untracked::channel();
    thread::scope(|s| {
        s.spawn(move || {
            first();
            done.send(()).unwrap();
        });
        s.spawn(move || {
            turn.recv().unwrap();
            second();
        });
    });
}

// ------------------------------------------------------------ serial twins

/// The lost update across two critical sections, run serially: the
/// one-step withdrawal first, the two-step one after it.
pub fn serial_lost_update() -> (Report, i64) {
    let account = Mutex::with_name(100i64, "account lock");
    let report =
        check(|| one_after_the_other(|| withdraw_at_once(&account, 50), || withdraw_in_two_steps(&account, 30)));
    let balance = *account.lock().unwrap();
    (report, balance)
}

/// The inconsistent read, run serially: the write, then the audit.
pub fn serial_inconsistent_read() -> Report {
    let ledger = Mutex::new(10i64);
    check(|| {
        one_after_the_other(
            || {
                let mut g = ledger.lock().unwrap();
                tracked!(*g = 99);
            },
            || {
                audit(&ledger);
            },
        )
    })
}

/// Check-then-act across `.await`, run serially: the second task starts
/// when the first is done, told by an untracked tokio oneshot.
pub fn serial_check_then_act(rt: tokio::runtime::Runtime) -> Report {
    let stock = std::sync::Arc::new(raceway::sync::tokio::Mutex::new(2i64));
    check(|| {
        rt.block_on(async {
            let (done, turn) = tokio::sync::oneshot::channel::<()>();
            let first = raceway::task::spawn({
                let stock = stock.clone();
                async move {
                    take_one(&stock).await;
                    done.send(()).unwrap();
                }
            });
            let second = raceway::task::spawn({
                let stock = stock.clone();
                async move {
                    turn.await.unwrap();
                    take_one(&stock).await;
                }
            });
            first.await.unwrap();
            second.await.unwrap();
        })
    })
}

#[track]
pub async fn take_one(stock: &raceway::sync::tokio::Mutex<i64>) -> bool {
    let available = {
        let g = stock.lock().await;
        tracked!(*g) > 0
    };
    tokio::task::yield_now().await;
    if available {
        let mut g = stock.lock().await;
        tracked!(*g -= 1);
    }
    available
}

/// A data race that only a lock hand-off between critical sections that
/// touch nothing in common ordered: a write, then (later) a read, each
/// beside a critical section of the same lock (one writes one field, the
/// other reads another).
pub fn serial_data_race() -> Report {
    let (data, lock) = (Shared::new(), Mutex::new((0i64, 0i64)));
    check(|| {
        one_after_the_other(
            || {
                data.write(1);
                let mut g = lock.lock().unwrap();
                tracked!(g.0 = 1);
            },
            || {
                let g = lock.lock().unwrap();
                tracked!(g.1);
                drop(g);
                data.read();
            },
        )
    })
}

/// The same shape, ordered by a flag under the lock that nothing tracks
/// (`*guard = true`): the critical sections' contents are unknown, so
/// they are not reordered, and the write stays before the read.
pub fn untracked_flag() -> Report {
    let (data, ready) = (Shared::new(), Mutex::new(false));
    check(|| {
        one_after_the_other(
            || {
                data.write(1);
                *ready.lock().unwrap() = true;
            },
            || {
                while !*ready.lock().unwrap() {}
                data.read();
            },
        )
    })
}

/// The inconsistent read the other way round: the audit's two reads, then
/// (later) the write, which a reordering runs between them. The audit's
/// thread has ended by then.
pub fn audit_then_write() -> Report {
    let ledger = Mutex::new(10i64);
    check(|| {
        one_after_the_other(
            || {
                audit(&ledger);
            },
            || {
                let mut g = ledger.lock().unwrap();
                tracked!(*g = 99);
            },
        )
    })
}

// ------------------------------------------------------------- clean twins

/// The lost update's executions ordered by a join.
pub fn joined_lost_update() -> Report {
    let account = Mutex::new(100i64);
    check(|| {
        thread::scope(|s| {
            s.spawn(|| withdraw_at_once(&account, 50)).join().unwrap();
            s.spawn(|| withdraw_in_two_steps(&account, 30));
        });
    })
}

/// Ordered by a message on a raceway channel.
pub fn messaged_lost_update() -> Report {
    let account = Mutex::new(100i64);
    check(|| {
        let (done, turn) = raceway::sync::mpsc::channel();
        let account = &account;
        thread::scope(|s| {
            s.spawn(move || {
                withdraw_at_once(account, 50);
                done.send(()).unwrap();
            });
            s.spawn(move || {
                turn.recv().unwrap();
                withdraw_in_two_steps(account, 30);
            });
        });
    })
}

/// Both withdrawals hold the lock across the whole read-modify-write.
pub fn serial_withdrawals_at_once() -> Report {
    let account = Mutex::new(100i64);
    check(|| one_after_the_other(|| withdraw_at_once(&account, 50), || withdraw_at_once(&account, 30)))
}

/// A flag written under the lock, which the second withdrawal waits to
/// observe (under the lock) before it starts.
pub fn flagged_lost_update() -> Report {
    let account = Mutex::new((100i64, false));
    check(|| {
        one_after_the_other(
            || {
                let mut g = account.lock().unwrap();
                let seen = tracked!(g.0);
                tracked!(g.0 = seen - 50);
                tracked!(g.1 = true);
            },
            || loop {
                let ready = {
                    let g = account.lock().unwrap();
                    tracked!(g.1)
                };
                if ready {
                    two_steps_on_pair(&account, 30);
                    break;
                }
            },
        )
    })
}

#[track]
fn two_steps_on_pair(account: &Mutex<(i64, bool)>, amount: i64) {
    let seen = {
        let g = account.lock().unwrap();
        tracked!(g.0)
    };
    let mut g = account.lock().unwrap();
    tracked!(g.0 = seen - amount);
}

/// The inconsistent read's executions ordered by a message.
pub fn messaged_inconsistent_read() -> Report {
    let ledger = Mutex::new(10i64);
    check(|| {
        let (done, turn) = raceway::sync::mpsc::channel();
        let ledger = &ledger;
        thread::scope(|s| {
            s.spawn(move || {
                let mut g = ledger.lock().unwrap();
                tracked!(*g = 99);
                drop(g);
                done.send(()).unwrap();
            });
            s.spawn(move || {
                turn.recv().unwrap();
                audit(ledger);
            });
        });
    })
}

/// Check-then-act with the second task started after joining the first.
pub fn joined_check_then_act(rt: tokio::runtime::Runtime) -> Report {
    let stock = std::sync::Arc::new(raceway::sync::tokio::Mutex::new(2i64));
    check(|| {
        rt.block_on(async {
            let first = raceway::task::spawn({
                let stock = stock.clone();
                async move { take_one(&stock).await }
            });
            first.await.unwrap();
            raceway::task::spawn({
                let stock = stock.clone();
                async move { take_one(&stock).await }
            })
            .await
            .unwrap();
        })
    })
}

/// The data race's accesses ordered through the lock by a flag that the
/// reader's critical section reads and the writer's wrote.
pub fn flagged_data() -> Report {
    let (data, lock) = (Shared::new(), Mutex::new(false));
    check(|| {
        one_after_the_other(
            || {
                data.write(1);
                let mut g = lock.lock().unwrap();
                tracked!(*g = true);
            },
            || {
                let g = lock.lock().unwrap();
                assert!(tracked!(*g));
                drop(g);
                data.read();
            },
        )
    })
}

/// A message sent inside a critical section and received inside the next
/// one: the sections cannot be reordered (the receive needs the send, and
/// the lock keeps them apart), so the write after the send is ordered
/// before the read after the receive (WCP's rule (b)).
pub fn message_inside_critical_sections() -> Report {
    let (data, lock) = (Shared::new(), Mutex::new((0i64, 0i64)));
    check(|| {
        let (tx, rx) = raceway::sync::mpsc::channel();
        let (data, lock) = (&data, &lock);
        one_after_the_other(
            move || {
                let mut g = lock.lock().unwrap();
                tx.send(()).unwrap();
                data.write(1);
                tracked!(g.0 = 1);
                drop(g);
            },
            move || {
                let g = lock.lock().unwrap();
                rx.recv().unwrap();
                tracked!(g.1);
                drop(g);
                data.read();
            },
        )
    })
}

// ------------------------------------ W-R-W and W-W-R (dirty read, overwritten write)

/// Publishes a value in two critical sections: a placeholder first, then
/// the value (W-R-W: whoever reads in between sees the placeholder).
#[track]
pub fn publish_in_two_steps(slot: &Mutex<i64>) {
    {
        let mut g = slot.lock().unwrap();
        tracked!(*g = -1);
    }
    let mut g = slot.lock().unwrap();
    tracked!(*g = 10);
}

/// Writes a value, then reads it back in another critical section (W-W-R:
/// a write in between is what it reads instead).
#[track]
pub fn write_then_read_back(slot: &Mutex<i64>) -> i64 {
    {
        let mut g = slot.lock().unwrap();
        tracked!(*g = 1);
    }
    let g = slot.lock().unwrap();
    tracked!(*g)
}

/// One critical section that reads the slot.
#[track]
pub fn peek(slot: &Mutex<i64>) -> i64 {
    let g = slot.lock().unwrap();
    tracked!(*g)
}

/// One critical section that writes the slot.
#[track]
pub fn overwrite(slot: &Mutex<i64>) {
    let mut g = slot.lock().unwrap();
    tracked!(*g = 2);
}

/// The dirty read, run serially: the two-step publication, then a read.
pub fn serial_dirty_read() -> Report {
    let slot = Mutex::new(0i64);
    check(|| {
        one_after_the_other(
            || publish_in_two_steps(&slot),
            || {
                assert_eq!(peek(&slot), 10, "it did not happen in this run");
            },
        )
    })
}

/// The overwritten write, run serially: the write and its read-back, then
/// another write.
pub fn serial_overwritten_write() -> Report {
    let slot = Mutex::new(0i64);
    check(|| {
        one_after_the_other(
            || {
                assert_eq!(write_then_read_back(&slot), 1, "it did not happen in this run");
            },
            || overwrite(&slot),
        )
    })
}

/// The dirty read's clean twin: the reader waits for a message sent after
/// the publication.
pub fn messaged_dirty_read() -> Report {
    let slot = Mutex::new(0i64);
    check(|| {
        let (done, turn) = raceway::sync::mpsc::channel();
        let slot = &slot;
        thread::scope(|s| {
            s.spawn(move || {
                publish_in_two_steps(slot);
                done.send(()).unwrap();
            });
            s.spawn(move || {
                turn.recv().unwrap();
                peek(slot);
            });
        });
    })
}

/// The overwritten write's clean twin: the second writer starts after
/// joining the first.
pub fn joined_overwritten_write() -> Report {
    let slot = Mutex::new(0i64);
    check(|| {
        thread::scope(|s| {
            s.spawn(|| write_then_read_back(&slot)).join().unwrap();
            s.spawn(|| overwrite(&slot));
        });
    })
}
