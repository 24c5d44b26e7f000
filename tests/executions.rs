//! Every happens-before edge, from real events recorded through the
//! embedded collector: the clocks order the right pairs and leave the
//! others unordered.

use raceway::sync::{Mutex, RwLock};
use raceway::task::FutureExt;
use raceway::wire::EventKind;
use raceway::{thread, tracked};
use raceway_tests::capture::capture;
use raceway_tests::clocks::{concurrent, happens_before, write};
use std::sync::mpsc;

/// A signal the instrumentation does not see: it orders real time without
/// creating a happens-before edge.
fn untracked_signal() -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    mpsc::channel()
}

#[test]
fn lock_hand_off_orders_the_critical_sections() {
    let lock = Mutex::new(0i64);
    let (_, events) = capture(|| {
        let (tx, rx) = untracked_signal();
        let lock = &lock;
        std::thread::scope(|s| {
            s.spawn(move || {
                let mut guard = lock.lock().unwrap();
                tracked!(*guard = 1);
                drop(guard);
                tx.send(()).unwrap();
            });
            s.spawn(move || {
                rx.recv().unwrap();
                let guard = lock.lock().unwrap();
                let _ = tracked!(*guard);
            });
        });
    });
    let write = write(&events, "*guard", 1);
    let read = events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::StateChange { access_type: raceway::AccessType::Read, .. }))
        .unwrap();
    assert_ne!(write.metadata.thread_id, read.metadata.thread_id);
    assert!(happens_before(write, read), "release -> acquire orders the write before the read");
    assert_eq!(write.lock_set.len(), 1, "the write carries the lock");
    assert_eq!(write.lock_set, read.lock_set);
}

#[test]
fn without_the_lock_nothing_orders_them() {
    let mut value = 0i64;
    let cell = std::sync::Mutex::new(());
    let (_, events) = capture(|| {
        let (tx, rx) = untracked_signal();
        let value = &mut value;
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = cell.lock().unwrap(); // untracked: no edge
                tracked!(*value = 1);
                tx.send(()).unwrap();
            });
        });
        rx.recv().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = cell.lock().unwrap();
                tracked!(*value = 2);
            });
        });
    });
    assert!(concurrent(write(&events, "*value", 1), write(&events, "*value", 2)));
}

#[test]
fn rwlock_readers_against_writers() {
    let lock = RwLock::new(0i64);
    let (_, events) = capture(|| {
        {
            let mut w = lock.write().unwrap();
            tracked!(*w = 1);
        }
        let (tx, rx) = untracked_signal();
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for _ in 0..2 {
                let (lock, barrier, tx) = (&lock, &barrier, tx.clone());
                s.spawn(move || {
                    let r = lock.read().unwrap();
                    barrier.wait(); // both readers hold the lock at once
                    let _ = tracked!(*r);
                    drop(r);
                    tx.send(()).unwrap();
                });
            }
        });
        rx.recv().unwrap();
        rx.recv().unwrap();
        let lock = &lock;
        std::thread::scope(|s| {
            s.spawn(move || {
                let mut w = lock.write().unwrap();
                tracked!(*w = 2);
            });
        });
    });
    let first = write(&events, "*w", 1);
    let second = write(&events, "*w", 2);
    let reads: Vec<_> = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::StateChange { access_type: raceway::AccessType::Read, .. }))
        .collect();
    assert_eq!(reads.len(), 2);
    for read in &reads {
        assert!(happens_before(first, read), "a reader joins the last write release");
        assert!(happens_before(read, second), "a writer joins every release since");
    }
    assert!(concurrent(reads[0], reads[1]), "readers do not order each other");
}

#[test]
fn spawn_and_join_edges() {
    let mut x = 0i64;
    let mut y = 0i64;
    let (_, events) = capture(|| {
        tracked!(x = 1);
        let handle = {
            let x = x;
            thread::spawn(move || {
                let mut x = x;
                tracked!(x += 10);
                x
            })
        };
        tracked!(y = 5); // concurrent with the child
        let child = handle.join().unwrap();
        tracked!(y = child + 100);
    });
    let before = write(&events, "x", 1);
    let child_write = write(&events, "x", 11);
    let during = write(&events, "y", 5);
    let after = write(&events, "y", 111);
    assert!(happens_before(child_write, after));
    assert!(happens_before(before, child_write), "spawn: parent before child");
    assert!(concurrent(during, child_write));
    let parent_after: Vec<_> = events
        .iter()
        .filter(|e| e.metadata.thread_id == before.metadata.thread_id && e.kind_name() == "AsyncAwait")
        .collect();
    assert!(happens_before(child_write, parent_after[0]), "join: child before the parent's next event");
}

#[test]
fn scoped_threads_join_at_the_end_of_the_scope() {
    let (mut a, mut b) = (0i64, 0i64);
    let mut total = 0i64;
    let (_, events) = capture(|| {
        thread::scope(|s| {
            s.spawn(|| tracked!(a = 1));
            s.spawn(|| tracked!(b = 2));
        });
        tracked!(total = a + b);
    });
    let (wa, wb, sum) = (write(&events, "a", 1), write(&events, "b", 2), write(&events, "total", 3));
    assert!(concurrent(wa, wb), "sibling scoped threads are unordered");
    assert!(happens_before(wa, sum) && happens_before(wb, sum), "the scope's end joins them");
}

#[test]
fn nested_spawns_are_transitive() {
    let mut v = 0i64;
    let (_, events) = capture(|| {
        tracked!(v = 1);
        let child = thread::spawn(move || {
            let grandchild = thread::spawn(move || {
                let mut w = v;
                tracked!(w += 1);
                w
            });
            grandchild.join().unwrap()
        });
        let got = child.join().unwrap();
        tracked!(v = got * 10);
    });
    let (root, deep, end) = (write(&events, "v", 1), write(&events, "w", 2), write(&events, "v", 20));
    assert!(happens_before(root, deep));
    assert!(happens_before(deep, end));
}

fn tokio_tasks(rt: tokio::runtime::Runtime) {
    let (_, events) = capture(|| {
        rt.block_on(async {
            let mut shared = 0i64;
            tracked!(shared = 1);
            let a = raceway::task::spawn(async move {
                let mut mine = shared;
                tracked!(mine += 1);
            });
            let b = raceway::task::spawn(async move {
                let mut mine = shared;
                tracked!(mine += 2);
            });
            a.await.unwrap();
            b.await.unwrap();
            tracked!(shared = 4);
        });
    });
    let (start, ta, tb, end) = (
        write(&events, "shared", 1),
        write(&events, "mine", 2),
        write(&events, "mine", 3),
        write(&events, "shared", 4),
    );
    assert_ne!(ta.metadata.thread_id, tb.metadata.thread_id, "each task is its own execution");
    assert!(happens_before(start, ta) && happens_before(start, tb));
    assert!(concurrent(ta, tb));
    assert!(happens_before(ta, end) && happens_before(tb, end), "awaiting the handles joins the tasks");
}

#[test]
fn tokio_tasks_on_the_current_thread_runtime() {
    tokio_tasks(tokio::runtime::Builder::new_current_thread().build().unwrap());
}

#[test]
fn tokio_tasks_on_the_multi_thread_runtime() {
    tokio_tasks(tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap());
}

#[test]
fn futures_joined_on_one_thread_are_two_executions() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (_, events) = capture(|| {
        rt.block_on(async {
            let (mut left, mut right) = (0i64, 0i64);
            let l = async {
                tracked!(left = 1);
                tokio::task::yield_now().await;
                tracked!(left += 1);
            };
            let r = async {
                tracked!(right = 1);
                tokio::task::yield_now().await;
                tracked!(right += 1);
            };
            tokio::join!(l.execution(), r.execution());
            let mut sum = 0;
            tracked!(sum = left + right);
        });
    });
    let (l, r, sum) = (write(&events, "left", 2), write(&events, "right", 2), write(&events, "sum", 4));
    assert_ne!(l.metadata.thread_id, r.metadata.thread_id);
    assert!(concurrent(l, r), "interleaved on one thread, yet unordered");
    assert!(happens_before(l, sum) && happens_before(r, sum));
}

#[test]
fn a_task_that_migrates_stays_one_execution() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let ((), events) = capture(|| {
        rt.block_on(async {
            raceway::task::spawn(async {
                let mut threads = std::collections::HashSet::new();
                let mut step = 0i64;
                // Ping-pong with a task woken from the other worker until this
                // one has run on both.
                for _ in 0..10_000 {
                    threads.insert(std::thread::current().id());
                    if threads.len() > 1 {
                        break;
                    }
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    tokio::spawn(async move { tx.send(()).unwrap() });
                    rx.await.unwrap();
                    tracked!(step += 1);
                }
                assert!(threads.len() > 1, "the task ran on both workers");
            })
            .await
            .unwrap();
        });
    });
    let steps = raceway_tests::clocks::accesses(&events, "step");
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|e| e.metadata.thread_id == steps[0].metadata.thread_id), "one execution");
    // Program order survives the moves: each write happens after the previous one.
    let writes: Vec<_> = steps.iter().filter(|e| e.kind_name() == "StateChange").collect();
    for pair in writes.windows(2) {
        assert!(happens_before(pair[0], pair[1]));
    }
}

#[test]
fn a_tokio_mutex_held_across_await_orders_the_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let lock = std::sync::Arc::new(raceway::sync::tokio::Mutex::new(0i64));
    let (_, events) = capture(|| {
        rt.block_on(async {
            let tasks: Vec<_> = (1..=2)
                .map(|n| {
                    let lock = lock.clone();
                    raceway::task::spawn(async move {
                        let mut guard = lock.lock().await;
                        let seen = tracked!(*guard);
                        tokio::task::yield_now().await;
                        tracked!(*guard = seen + n);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
    let writes: Vec<_> = raceway_tests::clocks::accesses(&events, "*guard")
        .into_iter()
        .filter(|e| matches!(&e.kind, EventKind::StateChange { access_type: raceway::AccessType::Write, .. }))
        .collect();
    assert_eq!(writes.len(), 2);
    assert!(!concurrent(writes[0], writes[1]), "the lock orders the two critical sections");
}

#[test]
fn a_panic_holding_a_tracked_lock_poisons_it_and_records_the_release() {
    let lock = std::sync::Arc::new(Mutex::with_name(0i64, "balance lock"));
    let (_, events) = capture(|| {
        let l = lock.clone();
        let result = thread::spawn(move || {
            let mut guard = l.lock().unwrap();
            *guard = 1;
            panic!("while holding the lock");
        })
        .join();
        assert!(result.is_err());
        assert!(lock.is_poisoned(), "poisoning is std's");
        let guard = lock.lock().unwrap_err().into_inner();
        assert_eq!(*guard, 1);
    });
    let releases: Vec<_> = events.iter().filter(|e| e.kind_name() == "LockRelease").collect();
    assert_eq!(releases.len(), 2, "the panicking thread's release and ours");
    match &releases[0].kind {
        EventKind::LockRelease { lock_id, lock_type, .. } => {
            assert!(lock_id.starts_with("balance lock@0x"), "{lock_id}");
            assert_eq!(lock_type, "Mutex");
        }
        other => panic!("{other:?}"),
    }
    let acquires: Vec<_> = events.iter().filter(|e| e.kind_name() == "LockAcquire").collect();
    assert!(happens_before(releases[0], acquires[1]), "the poisoned lock still hands over its clock");
}

#[test]
fn tracked_lock_on_a_std_mutex() {
    let m = std::sync::Mutex::new(0i64);
    let (_, events) = capture(|| {
        let (tx, rx) = untracked_signal();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut g = raceway::tracked_lock(&m, "counter").unwrap();
                tracked!(*g = 7);
                drop(g);
                tx.send(()).unwrap();
            });
            let m = &m;
            s.spawn(move || {
                rx.recv().unwrap();
                let mut g = raceway::tracked_lock(m, "counter").unwrap();
                tracked!(*g += 1);
            });
        });
    });
    let (first, second) = (write(&events, "*g", 7), write(&events, "*g", 8));
    assert!(happens_before(first, second));
    assert!(first.lock_set[0].starts_with("counter@0x"));
}

#[test]
fn rayon_join_scope_and_spawn() {
    let (_, events) = capture(|| {
        let mut start = 0i64;
        tracked!(start = 1);
        let ((), ()) = raceway::rayon::join(
            || {
                let mut left = 0i64;
                tracked!(left = 2);
            },
            || {
                let mut right = 0i64;
                tracked!(right = 3);
            },
        );
        tracked!(start = 4);
        raceway::rayon::scope(|s| {
            s.spawn(|_| {
                let mut job = 0i64;
                tracked!(job = 5);
            });
            s.spawn(|inner| {
                inner.spawn(|_| {
                    let mut nested = 0i64;
                    tracked!(nested = 6);
                });
            });
        });
        tracked!(start = 7);
        let (tx, rx) = untracked_signal();
        raceway::rayon::spawn(move || {
            let mut fired = 0i64;
            tracked!(fired = 8);
            tx.send(()).unwrap();
        });
        rx.recv().unwrap();
    });
    let (s1, l, r, s4) =
        (write(&events, "start", 1), write(&events, "left", 2), write(&events, "right", 3), write(&events, "start", 4));
    assert_ne!(l.metadata.thread_id, r.metadata.thread_id);
    assert!(concurrent(l, r));
    assert!(happens_before(s1, l) && happens_before(s1, r));
    assert!(happens_before(l, s4) && happens_before(r, s4), "join joins both");
    let (job, nested, s7) = (write(&events, "job", 5), write(&events, "nested", 6), write(&events, "start", 7));
    assert!(happens_before(s4, job) && happens_before(s4, nested));
    assert!(happens_before(job, s7) && happens_before(nested, s7), "the scope's end joins every job");
    let fired = write(&events, "fired", 8);
    assert!(happens_before(s7, fired));
    assert!(!happens_before(fired, s7));
}

// --------------------------------------------- check_async, JoinSet, spawn_blocking

mod async_executions {
    use raceway::sync::tokio::Mutex;
    use raceway::{track, tracked, RaceKind};
    use std::sync::Arc;

    #[track]
    async fn withdraw(account: Arc<Mutex<i64>>, amount: i64, both_read: Arc<tokio::sync::Barrier>) {
        let seen = {
            let guard = account.lock().await;
            tracked!(*guard)
        };
        both_read.wait().await; // untracked: timing only
        let mut guard = account.lock().await;
        tracked!(*guard = seen - amount);
    }

    async fn two_withdrawals_in_a_join_set() -> raceway::Report {
        raceway::check_async(async {
            let account = Arc::new(Mutex::new(100i64));
            let both_read = Arc::new(tokio::sync::Barrier::new(2));
            let mut set = raceway::task::JoinSet::new();
            for amount in [30, 50] {
                set.spawn(withdraw(account.clone(), amount, both_read.clone()));
            }
            assert_eq!(set.len(), 2);
            set.join_all().await;
            let balance = account.lock().await;
            let _ = tracked!(*balance);
        })
        .await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn check_async_finds_a_lost_update_in_a_join_set_on_current_thread() {
        let report = two_withdrawals_in_a_join_set().await;
        let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
        assert_eq!(kinds, [RaceKind::LostUpdate], "{report}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_async_finds_a_lost_update_in_a_join_set_on_multi_thread() {
        let report = two_withdrawals_in_a_join_set().await;
        let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
        assert_eq!(kinds, [RaceKind::LostUpdate], "{report}");
    }

    async fn spawn_blocking_then_read() -> raceway::Report {
        raceway::check_async(async {
            let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
            let child = raceway::task::spawn_blocking({
                let shared = shared.clone();
                move || {
                    let mut guard = shared.lock().unwrap();
                    tracked!(*guard = 5);
                }
            });
            child.await.unwrap();
            // Ordered by the join: clean.
            let guard = shared.lock().unwrap();
            let _ = tracked!(*guard);
        })
        .await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn spawn_blocking_has_spawn_and_join_edges_on_current_thread() {
        let report = spawn_blocking_then_read().await;
        assert!(report.is_clean(), "{report}");
        assert!(report.events_analyzed() >= 4, "{report}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spawn_blocking_has_spawn_and_join_edges_on_multi_thread() {
        let report = spawn_blocking_then_read().await;
        assert!(report.is_clean(), "{report}");
    }

    /// Two blocking withdrawals that both read before either writes.
    async fn two_blocking_withdrawals() -> raceway::Report {
        raceway::check_async(async {
            let account = Arc::new(raceway::sync::Mutex::new(100i64));
            let both_read = Arc::new(std::sync::Barrier::new(2));
            let tellers: Vec<_> = [30, 50]
                .into_iter()
                .map(|amount| {
                    let (account, both_read) = (account.clone(), both_read.clone());
                    raceway::task::spawn_blocking(move || blocking_withdraw(&account, amount, &both_read))
                })
                .collect();
            for teller in tellers {
                teller.await.unwrap();
            }
        })
        .await
    }

    #[track]
    fn blocking_withdraw(account: &raceway::sync::Mutex<i64>, amount: i64, both_read: &std::sync::Barrier) {
        let seen = {
            let guard = account.lock().unwrap();
            tracked!(*guard)
        };
        both_read.wait(); // untracked: timing only
        let mut guard = account.lock().unwrap();
        tracked!(*guard = seen - amount);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn spawn_blocking_lost_update_on_current_thread() {
        let report = two_blocking_withdrawals().await;
        let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
        assert_eq!(kinds, [RaceKind::LostUpdate], "{report}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spawn_blocking_lost_update_on_multi_thread() {
        let report = two_blocking_withdrawals().await;
        let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
        assert_eq!(kinds, [RaceKind::LostUpdate], "{report}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_join_set_orders_its_task_on_current_thread() {
        a_join_set_orders_each_task_after_the_spawn_and_before_join_next_body().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_join_set_orders_each_task_after_the_spawn_and_before_join_next() {
        a_join_set_orders_each_task_after_the_spawn_and_before_join_next_body().await;
    }

    async fn a_join_set_orders_each_task_after_the_spawn_and_before_join_next_body() {
        let report = raceway::check_async(async {
            let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
            {
                let mut guard = shared.lock().unwrap();
                tracked!(*guard = 1);
            }
            let mut set = raceway::task::JoinSet::new();
            let child = shared.clone();
            set.spawn(async move {
                let mut guard = child.lock().unwrap();
                tracked!(*guard += 1);
            });
            assert!(set.join_next().await.unwrap().is_ok());
            assert!(set.is_empty());
            let guard = shared.lock().unwrap();
            let _ = tracked!(*guard);
        })
        .await;
        assert!(report.is_clean(), "{report}");
        assert!(report.events_analyzed() >= 5, "{report}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn assert_race_free_async_panics_with_the_report() {
        let outcome = tokio::spawn(raceway::assert_race_free_async(async {
            let account = Arc::new(Mutex::new(100i64));
            let both_read = Arc::new(tokio::sync::Barrier::new(2));
            let a = raceway::task::spawn(withdraw(account.clone(), 30, both_read.clone()));
            let b = raceway::task::spawn(withdraw(account.clone(), 50, both_read.clone()));
            a.await.unwrap();
            b.await.unwrap();
        }))
        .await;
        let panic = outcome.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("lost update"), "{message}");
    }
}

// ------------------------------------------------- join! and select! branches

mod branches {
    use raceway::sync::tokio::Mutex;
    use raceway::{track, tracked, RaceKind};

    /// Reads the balance, yields (the other branch runs), writes it back.
    #[track]
    async fn withdraw(account: &Mutex<i64>, amount: i64) {
        let seen = {
            let guard = account.lock().await;
            tracked!(*guard)
        };
        tokio::task::yield_now().await;
        let mut guard = account.lock().await;
        tracked!(*guard = seen - amount);
    }

    fn on_both_flavours(
        scenario: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
    ) -> [raceway::Report; 2] {
        let current = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        [current, multi].map(|rt| raceway::check(|| rt.block_on(scenario())))
    }

    fn kinds(report: &raceway::Report) -> Vec<RaceKind> {
        report.races().iter().map(|r| r.kind()).collect()
    }

    #[test]
    fn tokio_join_of_two_tracked_calls_is_concurrent_and_finds_the_lost_update() {
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                tokio::join!(withdraw(&account, 30), withdraw(&account, 50));
            })
        }) {
            assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
        }
    }

    #[test]
    fn awaiting_one_tracked_call_after_the_other_stays_ordered() {
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                withdraw(&account, 30).await;
                withdraw(&account, 50).await;
                let balance = account.lock().await;
                assert_eq!(*balance, 20);
            })
        }) {
            assert!(report.is_clean(), "{report}");
            assert!(report.events_analyzed() > 8, "{report}");
        }
    }

    #[test]
    fn futures_join_is_concurrent_too() {
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                futures_util::future::join(withdraw(&account, 30), withdraw(&account, 50)).await;
            })
        }) {
            assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
        }
    }

    #[track]
    async fn deposit_whole(account: &Mutex<i64>, amount: i64) {
        let mut guard = account.lock().await;
        let seen = tracked!(*guard);
        tokio::task::yield_now().await;
        tracked!(*guard = seen + amount);
    }

    #[test]
    fn join_of_calls_that_hold_the_lock_across_the_update_is_clean() {
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                tokio::join!(deposit_whole(&account, 30), deposit_whole(&account, 50));
                assert_eq!(*account.lock().await, 180);
            })
        }) {
            assert!(report.is_clean(), "{report}");
        }
    }

    #[test]
    fn select_branches_are_executions_of_their_own() {
        // The losing branch is dropped (cancelled) after it read: its
        // execution ends there; the winner's read-modify-write is whole.
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                let slow = async {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                };
                tokio::select! {
                    _ = deposit_whole(&account, 10) => {}
                    _ = slow => unreachable!("the deposit completes first"),
                }
                let balance = account.lock().await;
                let _ = tracked!(*balance);
            })
        }) {
            assert!(report.is_clean(), "{report}");
        }
        for report in on_both_flavours(|| {
            Box::pin(async {
                let account = Mutex::new(100i64);
                let (a, b) = (withdraw(&account, 30), withdraw(&account, 50));
                tokio::pin!(a, b);
                let mut done = 0;
                while done != 3 {
                    tokio::select! {
                        _ = &mut a, if done & 1 == 0 => done |= 1,
                        _ = &mut b, if done & 2 == 0 => done |= 2,
                    }
                }
            })
        }) {
            assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
        }
    }
}
