//! The synchronization suite: for every primitive of `raceway::sync`, a
//! clean program that it orders and a racy one it does not, each with its
//! exact verdict (the shapes of Go's `TestRace*`/`TestNoRace*` in
//! runtime/race/testdata). Async primitives run on both tokio flavours.

use raceway::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicUsize, Ordering};
use raceway::sync::{happens_after, happens_before, mpsc, Barrier, Condvar, Mutex, Once, OnceLock};
use raceway::{check, thread, tracked, RaceKind, Report};
use std::cell::UnsafeCell;

/// A variable shared without synchronization of its own: the accesses are
/// ordered only by what the scenario does.
struct Shared(UnsafeCell<i64>);

// SAFETY: the scenarios access the cell from several threads on purpose;
// every access is a plain read or write of an i64, and the racy ones are the
// point of the test (each program is well-defined in practice: aligned
// word-sized accesses).
unsafe impl Sync for Shared {}

impl Shared {
    fn new() -> Self {
        Shared(UnsafeCell::new(0))
    }

    #[allow(clippy::mut_from_ref)]
    fn get(&self) -> &mut i64 {
        // SAFETY: see the `Sync` impl.
        unsafe { &mut *self.0.get() }
    }
}

fn write(data: &Shared, value: i64) {
    let v = data.get();
    tracked!(*v = value);
}

fn read(data: &Shared) -> i64 {
    let v = data.get();
    tracked!(*v)
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected no race:\n{report}");
    assert!(report.events_analyzed() > 0, "the scenario recorded nothing");
}

fn assert_data_race(report: &Report) {
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, [RaceKind::DataRace], "{report}");
    assert_eq!(report.races()[0].variable(), "*v", "{report}");
}

// ------------------------------------------------------------- channels

#[test]
fn clean_channel_send_happens_before_receive() {
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            read(&data);
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_channel_write_after_send() {
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            s.spawn(|| {
                tx.send(()).unwrap();
                write(&data, 1);
                done_tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            done_rx.recv().unwrap();
            read(&data);
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_the_message_carries_its_own_send_s_clock_not_later_ones() {
    // The receive joins what its send knew: a second send after a write
    // does not order the first receive's reads... and the clean part: each
    // receive sees the write before its send.
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                tx.send(1).unwrap();
                tx.send(2).unwrap();
            });
            assert_eq!(rx.recv().unwrap(), 1);
            read(&data);
            assert_eq!(rx.recv().unwrap(), 2);
        });
    });
    assert_clean(&report);
}

#[test]
fn clean_channel_close_happens_before_the_receive_that_sees_it() {
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::channel::<()>();
        thread::scope(|s| {
            let data = &data;
            s.spawn(move || {
                write(data, 1);
                drop(tx);
            });
            assert!(rx.recv().is_err());
            read(data);
        });
    });
    assert_clean(&report);
}

#[test]
fn clean_rendezvous_receive_happens_before_the_send_returns() {
    // Go's TestNoRaceChanSyncRev: the receive of an unbuffered channel
    // happens before the send completes.
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::sync_channel(0);
        thread::scope(|s| {
            s.spawn(|| {
                tx.send(()).unwrap();
                write(&data, 2);
            });
            write(&data, 1);
            rx.recv().unwrap();
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_buffered_receive_does_not_order_the_send() {
    // Go's TestRaceChanAsyncRev: with room in the buffer, the send does not
    // wait for the receive.
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::sync_channel(10);
        let (go_tx, go_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            let (tx, data) = (&tx, &data);
            s.spawn(move || {
                tx.send(()).unwrap();
                go_rx.recv().unwrap();
                write(data, 2);
            });
            write(data, 1);
            rx.recv().unwrap();
            go_tx.send(()).unwrap();
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_a_channel_of_capacity_one_used_as_a_mutex() {
    // Go's TestNoRaceChanMutex: the k-th receive happens before the
    // (k+1)-th send completes.
    let data = Shared::new();
    let report = check(|| {
        let (lock_tx, lock_rx) = mpsc::sync_channel(1);
        let unlock = std::sync::Mutex::new(lock_rx); // one receiver at a time
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..20 {
                        lock_tx.send(()).unwrap();
                        let v = read(&data);
                        write(&data, v + 1);
                        unlock.lock().unwrap().recv().unwrap();
                    }
                });
            }
        });
    });
    assert_clean(&report);
    assert_eq!(*data.get(), 40);
}

#[test]
fn clean_worker_pool_over_channels() {
    let results = Shared::new();
    let report = check(|| {
        let (jobs_tx, jobs_rx) = mpsc::channel::<i64>();
        let (results_tx, results_rx) = mpsc::channel::<i64>();
        let jobs_rx = std::sync::Mutex::new(jobs_rx);
        thread::scope(|s| {
            for _ in 0..3 {
                let results_tx = results_tx.clone();
                let jobs_rx = &jobs_rx;
                s.spawn(move || loop {
                    let job = jobs_rx.lock().unwrap().recv();
                    match job {
                        Ok(job) => results_tx.send(job * 2).unwrap(),
                        Err(_) => break,
                    }
                });
            }
            drop(results_tx);
            for job in 0..10 {
                jobs_tx.send(job).unwrap();
            }
            drop(jobs_tx);
            let sum: i64 = results_rx.iter().sum();
            write(&results, sum);
        });
        read(&results);
    });
    assert_clean(&report);
    assert_eq!(*results.get(), 90);
}

#[test]
fn try_send_try_recv_and_recv_timeout_carry_the_clock() {
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = mpsc::sync_channel(1);
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                tx.try_send(()).unwrap();
            });
            loop {
                match rx.try_recv() {
                    Ok(()) => break,
                    Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
            read(&data);
        });
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 2);
                tx.send(()).unwrap();
            });
            rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
            read(&data);
        });
    });
    assert_clean(&report);
}

// -------------------------------------------------------------- atomics

#[test]
fn clean_release_store_acquire_load_publishes() {
    let data = Shared::new();
    let ready = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                ready.store(true, Ordering::Release);
            });
            while !ready.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_relaxed_flag_orders_nothing() {
    let data = Shared::new();
    let ready = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                ready.store(true, Ordering::Relaxed);
            });
            while !ready.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_fences_around_relaxed_accesses() {
    let data = Shared::new();
    let ready = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                fence(Ordering::Release);
                ready.store(true, Ordering::Relaxed);
            });
            while !ready.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            fence(Ordering::Acquire);
            read(&data);
        });
    });
    assert_clean(&report);
}

#[test]
fn clean_read_modify_writes_continue_the_release_sequence() {
    // A wait group: each worker writes its slot, then decrements with
    // Release; the waiter acquires when the count reaches 0.
    let slots = [Shared::new(), Shared::new(), Shared::new()];
    let pending = AtomicUsize::new(3);
    let report = check(|| {
        thread::scope(|s| {
            for slot in &slots {
                let pending = &pending;
                s.spawn(move || {
                    write(slot, 7);
                    pending.fetch_sub(1, Ordering::Release);
                });
            }
            while pending.load(Ordering::Acquire) != 0 {
                std::hint::spin_loop();
            }
            for slot in &slots {
                read(slot);
            }
        });
    });
    assert_clean(&report);
}

#[test]
fn atomics_never_race_each_other_but_get_mut_does() {
    let counter = AtomicI64::new(0);
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| counter.fetch_add(1, Ordering::Relaxed));
            }
        });
    });
    assert_clean(&report);

    let report = check(|| {
        let mut counter = AtomicI64::new(0);
        let p = &mut counter as *mut AtomicI64 as usize;
        let (go_tx, go_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: the two accesses below never overlap in time (the
                // untracked channel orders them); nothing recorded orders them.
                let counter = unsafe { &*(p as *const AtomicI64) };
                counter.store(5, Ordering::Relaxed);
                go_tx.send(()).unwrap();
            });
            go_rx.recv().unwrap();
            // SAFETY: as above.
            let counter = unsafe { &mut *(p as *mut AtomicI64) };
            *counter.get_mut() += 1;
        });
        let _ = &mut counter;
    });
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, [RaceKind::DataRace], "{report}");
    assert_eq!(report.races()[0].variable(), "AtomicI64");
}

#[test]
fn compare_exchange_acquires_on_success() {
    let data = Shared::new();
    let lock = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..10 {
                        while lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                            std::hint::spin_loop();
                        }
                        let v = read(&data);
                        write(&data, v + 1);
                        lock.store(false, Ordering::Release);
                    }
                });
            }
        });
    });
    assert_clean(&report);
    assert_eq!(*data.get(), 20);
}

// ------------------------------------------------- condvar, barrier, once

#[test]
fn clean_condvar_notify_happens_before_the_woken_wait() {
    let data = Shared::new();
    let ready = Mutex::new(false);
    let cv = Condvar::new();
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1); // outside the lock: ordered by the notify
                *ready.lock().unwrap() = true;
                cv.notify_one();
            });
            let guard = cv.wait_while(ready.lock().unwrap(), |ready| !*ready).unwrap();
            drop(guard);
            read(&data);
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_condvar_write_after_notify() {
    let data = Shared::new();
    let ready = Mutex::new(false);
    let cv = Condvar::new();
    let report = check(|| {
        let (done_tx, done_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            s.spawn(|| {
                *ready.lock().unwrap() = true;
                cv.notify_all();
                write(&data, 1);
                done_tx.send(()).unwrap();
            });
            let mut guard = ready.lock().unwrap();
            while !*guard {
                guard = cv.wait(guard).unwrap();
            }
            drop(guard);
            done_rx.recv().unwrap();
            read(&data);
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_barrier_orders_each_round() {
    let data = [Shared::new(), Shared::new()];
    let barrier = Barrier::new(2);
    let report = check(|| {
        thread::scope(|s| {
            for i in 0..2 {
                let (data, barrier) = (&data, &barrier);
                s.spawn(move || {
                    for round in 0..3 {
                        write(&data[i], round);
                        barrier.wait();
                        read(&data[1 - i]);
                        barrier.wait();
                    }
                });
            }
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_barrier_writes_after_the_same_wait() {
    let data = Shared::new();
    let barrier = Barrier::new(2);
    let report = check(|| {
        thread::scope(|s| {
            for value in 0..2 {
                let (data, barrier) = (&data, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    write(data, value);
                });
            }
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_once_initialization_happens_before_every_caller() {
    let data = Shared::new();
    let once = Once::new();
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    once.call_once(|| write(&data, 1));
                    read(&data);
                });
            }
        });
    });
    assert_clean(&report);
    assert!(once.is_completed());
}

#[test]
fn clean_and_racy_once_lock() {
    let data = Shared::new();
    let cell = OnceLock::new();
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                let _ = cell.set(5);
            });
            while cell.get().is_none() {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_clean(&report);

    let data = Shared::new();
    let cell = OnceLock::new();
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                let _ = cell.get_or_init(|| 5);
                write(&data, 1);
            });
            while cell.get().is_none() {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    // The write after the initialization is ordered with nothing: a race
    // whichever way the threads ran.
    assert_data_race(&report);
}

#[test]
fn clean_and_racy_lazy_lock() {
    use raceway::sync::LazyLock;
    // What the initializer did happens before every access that sees the
    // value, whichever thread ran it.
    let data = Shared::new();
    let lazy = LazyLock::new(|| {
        write(&data, 1);
        5
    });
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| assert_eq!(*lazy, 5));
            assert_eq!(*LazyLock::force(&lazy), 5);
            read(&data);
        });
    });
    assert_clean(&report);

    // A write after the initialization is ordered with nothing.
    let data = Shared::new();
    let lazy: LazyLock<i64> = LazyLock::new(|| 5);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel(); // untracked: timing only
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(*lazy, 5);
                write(&data, 1);
                ready_tx.send(()).unwrap();
            });
            ready_rx.recv().unwrap();
            assert_eq!(*lazy, 5);
            read(&data);
        });
    });
    assert_data_race(&report);
}

#[test]
fn fetch_not_releases_and_acquires_like_the_other_read_modify_writes() {
    let data = Shared::new();
    let flag = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                assert!(!flag.fetch_not(Ordering::AcqRel));
            });
            while !flag.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_clean(&report);
    assert!(flag.load(Ordering::Relaxed));

    let data = Shared::new();
    let flag = AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                flag.fetch_not(Ordering::Relaxed);
            });
            while !flag.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_data_race(&report);
}

#[test]
fn clean_manual_happens_before_after() {
    let data = Shared::new();
    let flag = std::sync::atomic::AtomicBool::new(false); // std's: not tracked
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                happens_before(&flag);
                flag.store(true, std::sync::atomic::Ordering::Release);
            });
            while !flag.load(std::sync::atomic::Ordering::Acquire) {
                std::hint::spin_loop();
            }
            happens_after(&flag);
            read(&data);
        });
    });
    assert_clean(&report);

    // Without the annotations, the same program races.
    let data = Shared::new();
    let flag = std::sync::atomic::AtomicBool::new(false);
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 1);
                flag.store(true, std::sync::atomic::Ordering::Release);
            });
            while !flag.load(std::sync::atomic::Ordering::Acquire) {
                std::hint::spin_loop();
            }
            read(&data);
        });
    });
    assert_data_race(&report);
}

// ---------------------------------------------------------------- tokio

mod tokio_sync {
    use super::*;
    use raceway::sync::tokio as rsync;
    use std::sync::Arc;

    /// Runs `scenario` in a `check` session on each tokio flavour and
    /// returns both reports.
    fn on_both_flavours<F, Fut>(scenario: F) -> [Report; 2]
    where
        F: Fn(Arc<Shared>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let current = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        [current, multi].map(|rt| check(|| rt.block_on(scenario(Arc::new(Shared::new())))))
    }

    fn all_clean(reports: &[Report; 2]) {
        for report in reports {
            assert_clean(report);
        }
    }

    fn all_racy(reports: &[Report; 2]) {
        for report in reports {
            assert_data_race(report);
        }
    }

    #[test]
    fn clean_mpsc_send_happens_before_receive() {
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(4);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    tx.send(()).await.unwrap();
                }
            });
            rx.recv().await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn racy_mpsc_write_after_send() {
        all_racy(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::unbounded_channel();
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send(()).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            rx.recv().await.unwrap();
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_sends_through_an_upgraded_weak_sender() {
        // An upgraded weak sender's send happens before the receive, as any
        // sender's; and the close (the last strong sender dropped, a weak
        // one left) before the receive that observes it.
        all_clean(&on_both_flavours(|data| async move {
            let closing = Arc::new(Shared::new());
            let (tx, mut rx) = rsync::mpsc::channel(4);
            let (utx, mut urx) = rsync::mpsc::unbounded_channel::<()>();
            let (weak, uweak) = (tx.downgrade(), utx.downgrade());
            assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
            let child = raceway::task::spawn({
                let (data, closing) = (data.clone(), closing.clone());
                async move {
                    write(&data, 1);
                    weak.upgrade().expect("open").send(()).await.unwrap();
                    write(&closing, 1);
                    drop(utx);
                    assert!(uweak.upgrade().is_none());
                }
            });
            rx.recv().await.unwrap();
            read(&data);
            assert!(urx.recv().await.is_none());
            read(&closing);
            drop(tx);
            child.await.unwrap();
        }));
        // Through an upgraded sender, a bounded channel's room orders as
        // any sender's: the first receive before the second send of a
        // channel of one completes.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let weak = tx.downgrade();
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    let tx = weak.upgrade().expect("open");
                    tx.send(()).await.unwrap();
                    tx.send(()).await.unwrap();
                    read(&data);
                }
            });
            write(&data, 1);
            rx.recv().await.unwrap();
            rx.recv().await.unwrap();
            drop(tx);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::unbounded_channel();
            let weak = tx.downgrade();
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    weak.upgrade().expect("open").send(()).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            rx.recv().await.unwrap();
            done_rx.await.unwrap();
            read(&data);
            drop(tx);
            child.await.unwrap();
        }));
    }

    #[test]
    fn send_timeout_takes_room_in_order_and_times_out_without_a_send() {
        // A channel of one: the first receive happens before the second
        // send completes, whichever way the send waited.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send_timeout(1, std::time::Duration::from_secs(60)).await.unwrap();
                    tx.send_timeout(2, std::time::Duration::from_secs(60)).await.unwrap();
                    read(&data);
                    let full = tx.send_timeout(3, std::time::Duration::from_millis(1)).await;
                    assert!(matches!(full, Err(rsync::mpsc::error::SendTimeoutError::Timeout(3))), "{full:?}");
                }
            });
            write(&data, 1);
            assert_eq!(rx.recv().await, Some(1));
            child.await.unwrap();
            assert_eq!(rx.recv().await, Some(2));
        }));
    }

    #[test]
    fn clean_mpsc_close_is_observed_by_recv() {
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel::<()>(1);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    drop(tx);
                }
            });
            assert!(rx.recv().await.is_none());
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_mpsc_permits() {
        // A message sent through a reserved permit carries its sender's clock.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    let permit = tx.reserve().await.unwrap();
                    permit.send(());
                }
            });
            rx.recv().await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
        // An owned permit too, and the sender it gives back still sends.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    let permit = tx.reserve_owned().await.unwrap();
                    let tx = permit.send(0);
                    write(&data, 1);
                    let permit = tx.reserve_owned().await.unwrap();
                    drop(permit.send(1));
                    // With the buffer full again, try_reserve_owned hands
                    // the sender back.
                    let (other_tx, _other_rx) = rsync::mpsc::channel::<()>(1);
                    let tx = match other_tx.try_reserve_owned() {
                        Ok(permit) => permit.send(()),
                        Err(_) => unreachable!("an empty channel of one has room"),
                    };
                    assert!(matches!(tx.clone().try_reserve_owned(), Err(rsync::mpsc::error::TrySendError::Full(_))));
                }
            });
            assert_eq!(rx.recv().await, Some(0));
            assert_eq!(rx.recv().await, Some(1));
            read(&data);
            child.await.unwrap();
        }));
        // For capacity 1, the first receive happens before the second
        // reservation completes.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let (go_tx, go_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send(0).await.unwrap();
                    go_tx.send(()).unwrap();
                    let permit = tx.reserve().await.unwrap();
                    read(&data);
                    permit.send(1);
                }
            });
            go_rx.await.unwrap();
            write(&data, 1);
            assert_eq!(rx.recv().await, Some(0));
            assert_eq!(rx.recv().await, Some(1));
            child.await.unwrap();
        }));
        // A write after the permit's send is not ordered before the receive.
        all_racy(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.reserve().await.unwrap().send(());
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            rx.recv().await.unwrap();
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_owned_mutex_guards() {
        // A write under an owned guard is ordered before the next holder's
        // read.
        all_clean(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::Mutex::new(()));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let (data, lock) = (data.clone(), lock.clone());
                async move {
                    let guard = lock.lock_owned().await;
                    write(&data, 1);
                    drop(guard);
                    done_tx.send(()).unwrap();
                }
            });
            done_rx.await.unwrap();
            let guard = lock.clone().try_lock_owned().expect("free");
            read(&data);
            drop(guard);
            child.await.unwrap();
        }));
        // A write after the owned guard is gone is not.
        all_racy(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::Mutex::new(()));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let (data, lock) = (data.clone(), lock.clone());
                async move {
                    drop(lock.lock_owned().await);
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            done_rx.await.unwrap();
            let guard = lock.lock().await;
            read(&data);
            drop(guard);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_owned_rwlock_guards() {
        // A write under an owned write guard is ordered before the next
        // reader's read, owned or not.
        all_clean(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::RwLock::new(0i64));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let (data, lock) = (data.clone(), lock.clone());
                async move {
                    let mut guard = lock.write_owned().await;
                    *guard += 1;
                    write(&data, 1);
                    drop(guard);
                    done_tx.send(()).unwrap();
                }
            });
            done_rx.await.unwrap();
            let guard = lock.clone().try_read_owned().expect("no writer");
            assert_eq!(*guard, 1);
            read(&data);
            drop(guard);
            let guard = lock.clone().read_owned().await;
            read(&data);
            drop(guard);
            let guard = lock.clone().try_write_owned().expect("free");
            write(&data, 2);
            drop(guard);
            child.await.unwrap();
        }));
        // A write after the owned guard is gone is not ordered; and a read
        // release orders no later read.
        all_racy(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::RwLock::new(0i64));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let (data, lock) = (data.clone(), lock.clone());
                async move {
                    drop(lock.write_owned().await);
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            done_rx.await.unwrap();
            let guard = lock.clone().read_owned().await;
            read(&data);
            drop(guard);
            child.await.unwrap();
        }));
    }

    #[test]
    fn rwlock_try_and_blocking_acquisitions_order_like_the_others() {
        all_clean(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::RwLock::new(0i64));
            let child = raceway::task::spawn_blocking({
                let (data, lock) = (data.clone(), lock.clone());
                move || {
                    let mut guard = lock.blocking_write();
                    *guard += 1;
                    write(&data, 1);
                }
            });
            child.await.unwrap();
            let guard = lock.try_read().expect("no writer");
            read(&data);
            assert_eq!(*guard, 1);
            drop(guard);
            let mut guard = lock.try_write().expect("free");
            *guard += 1;
            write(&data, 2);
        }));
        // Without the join, only the lock orders: a write outside it races.
        all_racy(&on_both_flavours(|data| async move {
            let lock = Arc::new(rsync::RwLock::new(0i64));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked: timing only
            let child = raceway::task::spawn({
                let (data, lock) = (data.clone(), lock.clone());
                async move {
                    drop(lock.try_write().expect("free"));
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            done_rx.await.unwrap();
            let guard = lock.try_read().expect("no writer");
            read(&data);
            drop(guard);
            child.await.unwrap();
        }));
    }

    #[test]
    fn a_dropped_permit_gives_its_room_back() {
        // Capacity 1: a permit dropped unused frees the room for the next
        // send, which must complete (without waiting for a receive's credit)
        // and keep the channel's order.
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::mpsc::channel(1);
            drop(tx.reserve().await.unwrap());
            assert!(tx.try_reserve().is_ok_and(|permit| {
                drop(permit);
                true
            }));
            let owned = tx.clone().reserve_owned().await.unwrap();
            let tx2 = owned.release();
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    tx2.send(()).await.unwrap();
                }
            });
            rx.recv().await.unwrap();
            read(&data);
            drop(tx);
            child.await.unwrap();
            assert!(rx.recv().await.is_none());
        }));
    }

    #[test]
    fn clean_and_racy_oneshot() {
        all_clean(&on_both_flavours(|data| async move {
            let (tx, rx) = rsync::oneshot::channel();
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    tx.send(7).unwrap();
                }
            });
            assert_eq!(rx.await.unwrap(), 7);
            read(&data);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let (tx, rx) = rsync::oneshot::channel();
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send(7).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            assert_eq!(rx.await.unwrap(), 7);
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_watch() {
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::watch::channel(0);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    tx.send(1).unwrap();
                    tx
                }
            });
            rx.changed().await.unwrap();
            assert_eq!(*rx.borrow_and_update(), 1);
            read(&data);
            drop(child.await.unwrap());
        }));
        all_racy(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::watch::channel(0);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send(1).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                    tx
                }
            });
            rx.changed().await.unwrap();
            done_rx.await.unwrap();
            read(&data);
            drop(child.await.unwrap());
        }));
    }

    #[test]
    fn clean_and_racy_broadcast() {
        all_clean(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::broadcast::channel(4);
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    write(&data, 1);
                    tx.send(1).unwrap();
                }
            });
            assert_eq!(rx.recv().await.unwrap(), 1);
            read(&data);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let (tx, mut rx) = rsync::broadcast::channel(4);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let data = data.clone();
                async move {
                    tx.send(1).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            assert_eq!(rx.recv().await.unwrap(), 1);
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_notify() {
        all_clean(&on_both_flavours(|data| async move {
            let notify = Arc::new(rsync::Notify::new());
            let child = raceway::task::spawn({
                let (data, notify) = (data.clone(), notify.clone());
                async move {
                    write(&data, 1);
                    notify.notify_one();
                }
            });
            notify.notified().await;
            read(&data);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let notify = Arc::new(rsync::Notify::new());
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let (data, notify) = (data.clone(), notify.clone());
                async move {
                    notify.notify_one();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            notify.notified().await;
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_semaphore() {
        all_clean(&on_both_flavours(|data| async move {
            let semaphore = Arc::new(rsync::Semaphore::new(0));
            let child = raceway::task::spawn({
                let (data, semaphore) = (data.clone(), semaphore.clone());
                async move {
                    write(&data, 1);
                    semaphore.add_permits(1);
                }
            });
            let _permit = semaphore.acquire().await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
        // A semaphore of one permit as a lock: clean read-modify-writes.
        all_clean(&on_both_flavours(|data| async move {
            let semaphore = Arc::new(rsync::Semaphore::new(1));
            let mut children = Vec::new();
            for _ in 0..2 {
                let (data, semaphore) = (data.clone(), semaphore.clone());
                children.push(raceway::task::spawn(async move {
                    for _ in 0..5 {
                        let _permit = semaphore.clone().acquire_owned().await.unwrap();
                        let v = read(&data);
                        tokio::task::yield_now().await;
                        write(&data, v + 1);
                    }
                }));
            }
            for child in children {
                child.await.unwrap();
            }
        }));
        all_racy(&on_both_flavours(|data| async move {
            let semaphore = Arc::new(rsync::Semaphore::new(2));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let (data, semaphore) = (data.clone(), semaphore.clone());
                async move {
                    let _permit = semaphore.acquire().await.unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            let _permit = semaphore.acquire().await.unwrap();
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_barrier() {
        all_clean(&on_both_flavours(|data| async move {
            let barrier = Arc::new(rsync::Barrier::new(2));
            let child = raceway::task::spawn({
                let (data, barrier) = (data.clone(), barrier.clone());
                async move {
                    write(&data, 1);
                    barrier.wait().await;
                }
            });
            barrier.wait().await;
            read(&data);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let barrier = Arc::new(rsync::Barrier::new(2));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let (data, barrier) = (data.clone(), barrier.clone());
                async move {
                    barrier.wait().await;
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            barrier.wait().await;
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }

    #[test]
    fn clean_and_racy_once_cell() {
        all_clean(&on_both_flavours(|data| async move {
            let cell = Arc::new(rsync::OnceCell::new());
            let child = raceway::task::spawn({
                let (data, cell) = (data.clone(), cell.clone());
                async move {
                    cell.get_or_init(|| async {
                        write(&data, 1);
                        5
                    })
                    .await;
                }
            });
            while cell.get().is_none() {
                tokio::task::yield_now().await;
            }
            read(&data);
            child.await.unwrap();
        }));
        all_racy(&on_both_flavours(|data| async move {
            let cell = Arc::new(rsync::OnceCell::new());
            let (done_tx, done_rx) = tokio::sync::oneshot::channel(); // untracked
            let child = raceway::task::spawn({
                let (data, cell) = (data.clone(), cell.clone());
                async move {
                    cell.set(5).unwrap();
                    write(&data, 1);
                    done_tx.send(()).unwrap();
                }
            });
            while cell.get().is_none() {
                tokio::task::yield_now().await;
            }
            done_rx.await.unwrap();
            read(&data);
            child.await.unwrap();
        }));
    }
}

// ------------------------------------------------------------ crossbeam

#[test]
fn clean_crossbeam_channels_and_rendezvous() {
    use raceway::sync::crossbeam::channel;
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = channel::bounded(0);
        thread::scope(|s| {
            let (tx, data) = (&tx, &data);
            s.spawn(move || {
                tx.send(()).unwrap();
                write(data, 2);
            });
            write(data, 1);
            rx.recv().unwrap();
        });
        let (tx, rx) = channel::unbounded();
        let rx2 = rx.clone();
        thread::scope(|s| {
            s.spawn(|| {
                write(&data, 3);
                tx.send(()).unwrap();
            });
            rx2.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
            read(&data);
        });
    });
    assert_clean(&report);
}

#[test]
fn racy_crossbeam_buffered_send() {
    use raceway::sync::crossbeam::channel;
    let data = Shared::new();
    let report = check(|| {
        let (tx, rx) = channel::bounded(4);
        let (go_tx, go_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            let (tx, data) = (&tx, &data);
            s.spawn(move || {
                tx.send(()).unwrap();
                go_rx.recv().unwrap();
                write(data, 2);
            });
            write(data, 1);
            rx.recv().unwrap();
            go_tx.send(()).unwrap();
        });
    });
    assert_data_race(&report);
}

// ------------------------------------------------------ variable identity

#[derive(Clone, Copy, Default)]
struct Point {
    x: i64,
    y: i64,
}

struct SharedPoint(UnsafeCell<Point>);

// SAFETY: as `Shared`: racy on purpose, word-sized accesses.
unsafe impl Sync for SharedPoint {}

impl SharedPoint {
    #[allow(clippy::mut_from_ref)]
    fn get(&self) -> &mut Point {
        // SAFETY: see the `Sync` impl.
        unsafe { &mut *self.0.get() }
    }
}

#[test]
fn two_expressions_that_reach_one_place_are_one_variable() {
    let cells = [Shared::new(), Shared::new()];
    let report = check(|| {
        let (go_tx, go_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            s.spawn(|| {
                let s = [cells[0].get(), cells[1].get()];
                tracked!(*s[1] = 1);
                go_tx.send(()).unwrap();
            });
            go_rx.recv().unwrap();
            let s2 = [cells[0].get(), cells[1].get()];
            let _ = tracked!(*s2[1]);
        });
    });
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, [RaceKind::DataRace], "{report}");
    // The display name is the first expression seen.
    assert_eq!(report.races()[0].variable(), "*s[1]", "{report}");
}

#[test]
fn a_write_of_a_whole_struct_conflicts_with_an_access_of_its_field() {
    let point = SharedPoint(UnsafeCell::new(Point::default()));
    let report = check(|| {
        let (go_tx, go_rx) = std::sync::mpsc::channel(); // untracked: timing only
        thread::scope(|s| {
            s.spawn(|| {
                let p = point.get();
                let _ = tracked!(p.y);
                go_tx.send(()).unwrap();
            });
            go_rx.recv().unwrap();
            let p = point.get();
            tracked!(*p = Point { x: 1, y: 2 });
        });
    });
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, [RaceKind::DataRace], "{report}");

    // Disjoint fields never conflict.
    let point = SharedPoint(UnsafeCell::new(Point::default()));
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                let p = point.get();
                tracked!(p.x = 1);
            });
            s.spawn(|| {
                let p = point.get();
                tracked!(p.y = 2);
            });
        });
    });
    assert_clean(&report);
}

// ------------------------------------------- the mirrors' trait contract

#[test]
fn the_mirrors_have_the_originals_auto_traits_and_common_impls() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn clone<T: Clone>() {}
    fn debug<T: std::fmt::Debug>() {}
    fn default<T: Default>() {}
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

    // As std's: a lock, a once-cell or an atomic can be used across
    // `catch_unwind`.
    unwind_safe::<raceway::sync::Mutex<i32>>();
    unwind_safe::<raceway::sync::RwLock<i32>>();
    unwind_safe::<raceway::sync::Condvar>();
    unwind_safe::<raceway::sync::Barrier>();
    unwind_safe::<raceway::sync::OnceLock<i32>>();
    unwind_safe::<raceway::sync::atomic::AtomicUsize>();
    unwind_safe::<raceway::sync::atomic::AtomicBool>();

    send_sync::<mpsc::Sender<i32>>();
    send_sync::<mpsc::SyncSender<i32>>();
    send::<mpsc::Receiver<i32>>();
    clone::<mpsc::Sender<i32>>();
    clone::<mpsc::SyncSender<i32>>();
    debug::<mpsc::Sender<i32>>();
    debug::<mpsc::Receiver<i32>>();
    send_sync::<Condvar>();
    default::<Condvar>();
    debug::<Condvar>();
    send_sync::<Barrier>();
    debug::<Barrier>();
    send_sync::<Once>();
    debug::<Once>();
    send_sync::<raceway::sync::LazyLock<String>>();
    default::<raceway::sync::LazyLock<String>>();
    debug::<raceway::sync::LazyLock<String>>();
    unwind_safe::<raceway::sync::LazyLock<String>>();
    send_sync::<OnceLock<String>>();
    default::<OnceLock<String>>();
    clone::<OnceLock<String>>();
    debug::<OnceLock<String>>();
    send_sync::<AtomicUsize>();
    default::<AtomicUsize>();
    debug::<AtomicUsize>();
    send_sync::<AtomicBool>();
    send_sync::<raceway::sync::atomic::AtomicPtr<String>>();
    default::<raceway::sync::atomic::AtomicPtr<String>>();
    send_sync::<Mutex<i32>>();

    use raceway::sync::tokio as rsync;
    send_sync::<rsync::mpsc::Sender<i32>>();
    send_sync::<rsync::mpsc::Receiver<i32>>();
    send_sync::<rsync::mpsc::UnboundedSender<i32>>();
    clone::<rsync::mpsc::Sender<i32>>();
    clone::<rsync::mpsc::UnboundedSender<i32>>();
    send_sync::<rsync::mpsc::Permit<'static, i32>>();
    send_sync::<rsync::OwnedMutexGuard<i32>>();
    default::<rsync::Mutex<i32>>();
    default::<rsync::RwLock<i32>>();
    let _: rsync::Mutex<i32> = 1.into();
    let _: rsync::RwLock<i32> = 1.into();
    send_sync::<rsync::mpsc::OwnedPermit<i32>>();
    send_sync::<rsync::oneshot::Sender<i32>>();
    send_sync::<rsync::oneshot::Receiver<i32>>();
    send_sync::<rsync::watch::Sender<i32>>();
    clone::<rsync::watch::Receiver<i32>>();
    clone::<rsync::broadcast::Sender<i32>>();
    send_sync::<rsync::Notify>();
    default::<rsync::Notify>();
    send_sync::<rsync::Semaphore>();
    send_sync::<rsync::Barrier>();
    send_sync::<rsync::OnceCell<i32>>();
    default::<rsync::OnceCell<i32>>();

    use raceway::sync::crossbeam::channel;
    send_sync::<channel::Sender<i32>>();
    send_sync::<channel::Receiver<i32>>();
    clone::<channel::Sender<i32>>();
    clone::<channel::Receiver<i32>>();
    debug::<channel::Receiver<i32>>();
}

// ------------------------------------------------------- const constructors

static LEDGER: Mutex<i64> = Mutex::new(0);
static TABLE: raceway::sync::RwLock<i64> = raceway::sync::RwLock::new(0);
static HITS: AtomicUsize = AtomicUsize::new(0);
static READY: Condvar = Condvar::new();
static GATE: Barrier = Barrier::new(1);
static INIT: OnceLock<i64> = OnceLock::new();
static LAZY: raceway::sync::LazyLock<i64> = raceway::sync::LazyLock::new(|| 7);

#[test]
fn the_mirrors_construct_in_statics_like_the_originals() {
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut guard = LEDGER.lock().unwrap();
                    let seen = tracked!(*guard);
                    tracked!(*guard = seen + 1);
                    drop(guard);
                    let mut table = TABLE.write().unwrap();
                    tracked!(*table += 1);
                    HITS.fetch_add(1, Ordering::Relaxed);
                    READY.notify_all();
                    GATE.wait();
                    INIT.get_or_init(|| 7);
                    assert_eq!(*LAZY, 7);
                });
            }
        });
    });
    assert_clean(&report);
    assert!(LEDGER.name().starts_with("Mutex at tests/sync.rs:"), "{}", LEDGER.name());
    assert_eq!(*LEDGER.lock().unwrap(), 2);
}
