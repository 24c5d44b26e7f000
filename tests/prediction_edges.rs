//! Prediction never reorders across a recorded edge: the serial lost update
//! of the prediction suite (a withdrawal in two critical sections, then
//! another), ordered by each synchronization primitive in turn instead of
//! by timing, is clean with prediction on; and the same pair ordered by
//! timing only is the predicted lost update, so each clean verdict means the
//! edge was kept, not that nothing was seen.

use raceway::sync::atomic::{AtomicBool, Ordering};
use raceway::sync::{self, Mutex};
use raceway::{check, thread, track, tracked, RaceKind, Report};
use std::sync::Arc;

#[track]
fn withdraw_in_two_steps(account: &Mutex<i64>, amount: i64) {
    let seen = {
        let g = account.lock().unwrap();
        tracked!(*g)
    };
    let mut g = account.lock().unwrap();
    tracked!(*g = seen - amount);
}

fn assert_clean(report: &Report, edge: &str) {
    assert!(report.is_clean(), "ordered by {edge}, expected no race:\n{report}");
    assert!(report.events_analyzed() > 0, "{edge}: the scenario recorded nothing");
}

/// Two threads, each withdrawing in two steps; the second waits for
/// `acquire` (which returns once the first has called `release`).
fn ordered_by(release: impl FnOnce() + Send, acquire: impl FnOnce() + Send) -> Report {
    let account = Mutex::with_name(100i64, "account lock");
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                withdraw_in_two_steps(&account, 10);
                release();
            });
            s.spawn(|| {
                acquire();
                withdraw_in_two_steps(&account, 20);
            });
        });
    });
    assert_eq!(*account.lock().unwrap(), 70);
    report
}

#[test]
fn timing_alone_is_the_predicted_lost_update() {
    let (tx, rx) = std::sync::mpsc::channel(); // untracked
    let report = ordered_by(move || tx.send(()).unwrap(), move || rx.recv().unwrap());
    let kinds: Vec<_> = report.races().iter().map(|r| (r.kind(), r.is_predicted())).collect();
    assert_eq!(kinds, [(RaceKind::LostUpdate, true)], "{report}");
}

#[test]
fn std_mirrors_order_the_serial_twin() {
    let (tx, rx) = sync::mpsc::channel();
    assert_clean(&ordered_by(move || tx.send(()).unwrap(), move || rx.recv().unwrap()), "mpsc::channel");

    let (tx, rx) = sync::mpsc::sync_channel(0);
    assert_clean(&ordered_by(move || tx.send(()).unwrap(), move || rx.recv().unwrap()), "sync_channel(0)");

    let (tx, rx) = sync::mpsc::channel::<()>();
    assert_clean(&ordered_by(move || drop(tx), move || assert!(rx.recv().is_err())), "a channel's close");

    let flag = AtomicBool::new(false);
    assert_clean(
        &ordered_by(
            || flag.store(true, Ordering::Release),
            || {
                while !flag.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            },
        ),
        "an atomic release/acquire",
    );

    let flag = AtomicBool::new(false);
    assert_clean(
        &ordered_by(
            || {
                sync::atomic::fence(Ordering::Release);
                flag.store(true, Ordering::Relaxed);
            },
            || {
                while !flag.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                sync::atomic::fence(Ordering::Acquire);
            },
        ),
        "fences around relaxed accesses",
    );

    let (ready, woken) = (sync::Mutex::new(false), sync::Condvar::new());
    assert_clean(
        &ordered_by(
            || {
                *ready.lock().unwrap() = true;
                woken.notify_one();
            },
            || drop(woken.wait_while(ready.lock().unwrap(), |ready| !*ready).unwrap()),
        ),
        "a condvar",
    );

    let barrier = sync::Barrier::new(2);
    assert_clean(
        &ordered_by(
            || {
                barrier.wait();
            },
            || {
                barrier.wait();
            },
        ),
        "a barrier",
    );

    let cell = sync::OnceLock::new();
    assert_clean(
        &ordered_by(
            || cell.set(1).unwrap(),
            || {
                while cell.get().is_none() {
                    std::hint::spin_loop();
                }
            },
        ),
        "a OnceLock",
    );

    let key = 0u8;
    let done = std::sync::atomic::AtomicBool::new(false); // untracked: the edge is the annotation
    assert_clean(
        &ordered_by(
            || {
                sync::happens_before(&key);
                done.store(true, std::sync::atomic::Ordering::Release);
            },
            || {
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                sync::happens_after(&key);
            },
        ),
        "happens_before/happens_after",
    );

    let (tx, rx) = sync::crossbeam::channel::bounded(0);
    assert_clean(&ordered_by(move || tx.send(()).unwrap(), move || rx.recv().unwrap()), "a crossbeam rendezvous");

    let (tx, rx) = sync::crossbeam::channel::unbounded();
    assert_clean(&ordered_by(move || tx.send(()).unwrap(), move || rx.recv().unwrap()), "a crossbeam channel");
}

/// The tokio form of [`ordered_by`]: two raceway tasks, on `rt`.
fn tokio_ordered_by<R, A>(rt: &tokio::runtime::Runtime, release: R, acquire: A) -> Report
where
    R: std::future::Future<Output = ()> + Send + 'static,
    A: std::future::Future<Output = ()> + Send + 'static,
{
    let account = Arc::new(Mutex::with_name(100i64, "account lock"));
    let report = check(|| {
        rt.block_on(async {
            let first = raceway::task::spawn({
                let account = account.clone();
                async move {
                    withdraw_in_two_steps(&account, 10);
                    release.await;
                }
            });
            let second = raceway::task::spawn({
                let account = account.clone();
                async move {
                    acquire.await;
                    withdraw_in_two_steps(&account, 20);
                }
            });
            first.await.unwrap();
            second.await.unwrap();
        })
    });
    assert_eq!(*account.lock().unwrap(), 70);
    report
}

#[test]
fn tokio_mirrors_order_the_serial_twin_on_both_flavours() {
    use raceway::sync::tokio as rsync;
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for (flavour, rt) in [("current_thread", &current), ("multi_thread", &multi)] {
        let edge = |name: &str| format!("{name} on {flavour}");

        // Timing alone (an untracked oneshot): the predicted lost update.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let report = tokio_ordered_by(rt, async move { tx.send(()).unwrap() }, async move { rx.await.unwrap() });
        let kinds: Vec<_> = report.races().iter().map(|r| (r.kind(), r.is_predicted())).collect();
        assert_eq!(kinds, [(RaceKind::LostUpdate, true)], "timing alone on {flavour}:\n{report}");

        let (tx, rx) = rsync::oneshot::channel();
        let report = tokio_ordered_by(rt, async move { tx.send(()).unwrap() }, async move { rx.await.unwrap() });
        assert_clean(&report, &edge("oneshot"));

        let (tx, mut rx) = rsync::mpsc::channel(1);
        let report =
            tokio_ordered_by(rt, async move { tx.send(()).await.unwrap() }, async move { rx.recv().await.unwrap() });
        assert_clean(&report, &edge("mpsc"));

        let notify = Arc::new(rsync::Notify::new());
        let n = notify.clone();
        let report = tokio_ordered_by(rt, async move { n.notify_one() }, async move { notify.notified().await });
        assert_clean(&report, &edge("Notify"));

        let semaphore = Arc::new(rsync::Semaphore::new(0));
        let s = semaphore.clone();
        let report = tokio_ordered_by(rt, async move { s.add_permits(1) }, async move {
            semaphore.acquire().await.unwrap().forget();
        });
        assert_clean(&report, &edge("Semaphore"));

        let (tx, mut rx) = rsync::watch::channel(false);
        let report = tokio_ordered_by(rt, async move { tx.send(true).unwrap() }, async move {
            rx.wait_for(|ready| *ready).await.unwrap();
        });
        assert_clean(&report, &edge("watch"));

        let (tx, mut rx) = rsync::broadcast::channel(1);
        let report = tokio_ordered_by(rt, async move { drop(tx.send(())) }, async move { rx.recv().await.unwrap() });
        assert_clean(&report, &edge("broadcast"));

        let barrier = Arc::new(rsync::Barrier::new(2));
        let b = barrier.clone();
        let report = tokio_ordered_by(
            rt,
            async move {
                b.wait().await;
            },
            async move {
                barrier.wait().await;
            },
        );
        assert_clean(&report, &edge("tokio Barrier"));

        let cell = Arc::new(rsync::OnceCell::new());
        let (c, (told, heard)) = (cell.clone(), tokio::sync::oneshot::channel()); // untracked turn
        let report = tokio_ordered_by(
            rt,
            async move {
                c.set(1).unwrap();
                told.send(()).unwrap();
            },
            async move {
                heard.await.unwrap();
                assert_eq!(cell.get(), Some(&1));
            },
        );
        assert_clean(&report, &edge("OnceCell"));

        let lock = Arc::new(rsync::Mutex::new(false));
        let (l, (told, heard)) = (lock.clone(), tokio::sync::oneshot::channel()); // untracked turn
        let report = tokio_ordered_by(
            rt,
            async move {
                let mut done = l.lock().await;
                tracked!(*done = true);
                drop(done);
                told.send(()).unwrap();
            },
            async move {
                heard.await.unwrap();
                let done = lock.lock().await;
                assert!(tracked!(*done));
            },
        );
        assert_clean(&report, &edge("a flag under a tokio Mutex"));
    }
}
