//! Work a `raceway::check` session did not start: plain `std::thread::spawn`
//! threads and plain `tokio::spawn` tasks are taken into the session as
//! executions whose spawn and join are unknown (their absence is never
//! taken for a race), and what it cannot attribute at all is counted and
//! said, never silently missing.
//!
//! One test function in a binary of its own: with one session open,
//! unattributed work is certainly that session's (with several open,
//! sessions only note it), so the scenarios run one after another.

use raceway::sync::Mutex;
use raceway::{track, tracked, RaceKind};
use std::sync::{Arc, Barrier};

#[test]
fn work_a_check_did_not_start_is_analyzed_or_said() {
    plain_threads_that_overlap_race();
    plain_threads_ordered_by_spawn_and_join_are_clean();
    a_lost_update_between_plain_threads_is_found();
    plain_scoped_threads_racy_and_clean();
    plain_tokio_tasks_are_their_own_executions();
    an_axum_server_inside_a_plain_task_is_analyzed();
    a_check_that_recorded_nothing_says_so();
}

fn kinds(report: &raceway::Report) -> Vec<RaceKind> {
    report.races().iter().map(|r| r.kind()).collect()
}

/// Both threads have started (each recorded before the other's access)
/// and are seen running after both accesses (each records again after an
/// untracked barrier): neither's spawn nor its join can order them.
fn plain_threads_that_overlap_race() {
    let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
    let report = raceway::check(|| {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (shared, barrier) = (shared.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut started = i;
                    tracked!(started += 1);
                    barrier.wait();
                    {
                        let mut guard = shared.lock().unwrap();
                        tracked!(*guard = started);
                    }
                    barrier.wait();
                    tracked!(started += 1);
                    started
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    });
    assert_eq!(kinds(&report), [RaceKind::DataRace], "{report}");
    assert_eq!(report.events_unattributed(), 0, "{report}");
}

fn plain_threads_ordered_by_spawn_and_join_are_clean() {
    let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
    let report = raceway::check(|| {
        {
            let mut guard = shared.lock().unwrap();
            tracked!(*guard = 1);
        }
        let child = std::thread::spawn({
            let shared = shared.clone();
            move || {
                let mut guard = shared.lock().unwrap();
                tracked!(*guard += 1);
            }
        });
        child.join().unwrap();
        let guard = shared.lock().unwrap();
        let _ = tracked!(*guard);
    });
    assert!(report.is_clean(), "{report}");
    assert!(report.events_analyzed() >= 4, "{report}");
    assert!(report.unordered_unknown_edges() >= 2, "{report}");
    assert!(report.to_string().contains("threads started without raceway"), "{report}");
}

#[track]
fn withdraw(account: &Mutex<i64>, amount: i64, both_read: &Barrier) {
    let seen = {
        let guard = account.lock().unwrap();
        tracked!(*guard)
    };
    both_read.wait(); // untracked: timing only
    let mut guard = account.lock().unwrap();
    tracked!(*guard = seen - amount);
}

fn a_lost_update_between_plain_threads_is_found() {
    let account = Arc::new(Mutex::new(100i64));
    let report = raceway::check(|| {
        let both_read = Arc::new(Barrier::new(2));
        let tellers: Vec<_> = [30, 50]
            .into_iter()
            .map(|amount| {
                let (account, both_read) = (account.clone(), both_read.clone());
                std::thread::spawn(move || withdraw(&account, amount, &both_read))
            })
            .collect();
        for teller in tellers {
            teller.join().unwrap();
        }
    });
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
}

fn plain_scoped_threads_racy_and_clean() {
    let account = Mutex::new(100i64);
    let report = raceway::check(|| {
        let both_read = Barrier::new(2);
        std::thread::scope(|s| {
            for amount in [30, 50] {
                let (account, both_read) = (&account, &both_read);
                s.spawn(move || withdraw(account, amount, both_read));
            }
        });
    });
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");

    let shared = std::sync::Mutex::new(0i64); // untracked lock
    let report = raceway::check(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut guard = shared.lock().unwrap();
                tracked!(*guard = 7);
            });
        });
        // The scope joined the thread.
        let guard = shared.lock().unwrap();
        let _ = tracked!(*guard);
    });
    assert!(report.is_clean(), "{report}");
    assert!(report.events_analyzed() >= 2, "{report}");
}

/// Both tokio flavours, for the plain-task scenarios.
fn runtimes() -> [tokio::runtime::Runtime; 2] {
    [
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    ]
}

/// A teller that reads the balance under the lock, waits for the other
/// teller to have read it too, and writes it back less `amount`.
#[track]
async fn withdraw_in_task(account: Arc<Mutex<i64>>, amount: i64, both_read: Arc<tokio::sync::Barrier>) {
    let seen = {
        let guard = account.lock().unwrap();
        tracked!(*guard)
    };
    both_read.wait().await; // untracked: timing only
    let mut guard = account.lock().unwrap();
    tracked!(*guard = seen - amount);
}

fn plain_tokio_tasks_are_their_own_executions() {
    for rt in runtimes() {
        let flavour = format!("{:?}", rt.handle().runtime_flavor());
        // A task polled inside the check's own execution (current_thread:
        // block_on polls it there) is not taken for that execution.
        let report = raceway::check(|| {
            rt.block_on(async {
                let mut mine = 0i64;
                tracked!(mine = 1);
                tokio::spawn(async {
                    let mut x = 0i64;
                    tracked!(x = 2);
                    x
                })
                .await
                .unwrap();
            })
        });
        assert_eq!(report.events_analyzed(), 2, "{flavour}: the root's write and the task's: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour}: {report}");
        assert!(report.is_clean(), "{flavour}: {report}");

        // Two plain tasks that lose an update: found, on either flavour.
        let account = Arc::new(Mutex::new(100i64));
        let report = raceway::check(|| {
            rt.block_on(async {
                let both_read = Arc::new(tokio::sync::Barrier::new(2));
                let tellers: Vec<_> = [30, 50]
                    .into_iter()
                    .map(|amount| tokio::spawn(withdraw_in_task(account.clone(), amount, both_read.clone())))
                    .collect();
                for teller in tellers {
                    teller.await.unwrap();
                }
            })
        });
        assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{flavour}: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour}: {report}");
        let outcome = std::panic::catch_unwind(|| {
            raceway::assert_race_free(|| {
                rt.block_on(async {
                    let both_read = Arc::new(tokio::sync::Barrier::new(2));
                    let a = tokio::spawn(withdraw_in_task(account.clone(), 30, both_read.clone()));
                    let b = tokio::spawn(withdraw_in_task(account.clone(), 50, both_read));
                    a.await.unwrap();
                    b.await.unwrap();
                })
            })
        });
        assert!(outcome.is_err(), "{flavour}: assert_race_free must fail on plain tasks' lost update");

        // A child reading what its parent wrote before the plain spawn:
        // the unknown spawn edge is not taken for a race.
        let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
        let report = raceway::check(|| {
            rt.block_on(async {
                {
                    let mut guard = shared.lock().unwrap();
                    tracked!(*guard = 1);
                }
                let shared2 = shared.clone();
                tokio::spawn(async move {
                    let guard = shared2.lock().unwrap();
                    let _ = tracked!(*guard);
                })
                .await
                .unwrap();
            })
        });
        assert!(report.is_clean(), "{flavour}: {report}");
        assert_eq!(report.events_analyzed(), 2, "{flavour}: {report}");
        assert!(report.unordered_unknown_edges() >= 1, "{flavour}: {report}");

        // tokio's JoinSet and spawn_blocking, unwrapped: the same verdicts.
        let report = raceway::check(|| {
            rt.block_on(async {
                let both_read = Arc::new(tokio::sync::Barrier::new(2));
                let mut set = tokio::task::JoinSet::new();
                for amount in [30, 50] {
                    set.spawn(withdraw_in_task(account.clone(), amount, both_read.clone()));
                }
                set.join_all().await;
            })
        });
        assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{flavour} JoinSet: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour} JoinSet: {report}");
        let report = raceway::check(|| {
            rt.block_on(async {
                let both_read = Arc::new(Barrier::new(2));
                let tellers: Vec<_> = [30, 50]
                    .into_iter()
                    .map(|amount| {
                        let (account, both_read) = (account.clone(), both_read.clone());
                        tokio::task::spawn_blocking(move || withdraw(&account, amount, &both_read))
                    })
                    .collect();
                for teller in tellers {
                    teller.await.unwrap();
                }
            })
        });
        assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{flavour} spawn_blocking: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour} spawn_blocking: {report}");
        for kind in ["JoinSet", "spawn_blocking"] {
            let report = raceway::check(|| {
                rt.block_on(async {
                    {
                        let mut guard = shared.lock().unwrap();
                        tracked!(*guard = 2);
                    }
                    let shared2 = shared.clone();
                    let read = move || {
                        let guard = shared2.lock().unwrap();
                        let _ = tracked!(*guard);
                    };
                    if kind == "JoinSet" {
                        let mut set = tokio::task::JoinSet::new();
                        set.spawn(async move { read() });
                        set.join_next().await.unwrap().unwrap();
                    } else {
                        tokio::task::spawn_blocking(read).await.unwrap();
                    }
                })
            });
            assert!(report.is_clean(), "{flavour} {kind}: {report}");
            assert_eq!(report.events_analyzed(), 2, "{flavour} {kind}: {report}");
        }

        // A task that moves between workers between its events keeps its
        // program order, and nothing it records is lost: each of two tasks
        // hands a value to a raceway task over a tracked channel after
        // writing it, many times, and waits for an (untracked) reply: a
        // task woken from another worker is run there next.
        let report = raceway::check(|| {
            rt.block_on(async {
                type Cell = Arc<std::sync::Mutex<i64>>;
                let (tx, mut rx) =
                    raceway::sync::tokio::mpsc::unbounded_channel::<(Cell, tokio::sync::oneshot::Sender<()>)>();
                let reader = raceway::task::spawn(async move {
                    // Kept: a freed cell's address could be the next one's,
                    // the same variable to the analysis.
                    let mut cells = Vec::new();
                    while let Some((cell, reply)) = rx.recv().await {
                        {
                            let guard = cell.lock().unwrap();
                            let _ = tracked!(*guard);
                        }
                        cells.push(cell);
                        let _ = reply.send(());
                    }
                    cells.len()
                });
                let writers: Vec<_> = (0..2)
                    .map(|_| {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for i in 0..100 {
                                let cell = Arc::new(std::sync::Mutex::new(0i64));
                                {
                                    let mut guard = cell.lock().unwrap();
                                    tracked!(*guard = i);
                                }
                                let (reply, replied) = tokio::sync::oneshot::channel();
                                tx.send((cell, reply)).unwrap();
                                replied.await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                for writer in writers {
                    writer.await.unwrap();
                }
                assert_eq!(reader.await.unwrap(), 200);
            })
        });
        assert!(report.is_clean(), "{flavour}: {report}");
        assert_eq!(
            report.events_analyzed(),
            402,
            "{flavour}: 200 writes, 200 reads, the reader's spawn and join: {report}"
        );
        assert_eq!(report.events_unattributed(), 0, "{flavour}: {report}");

        // More tasks than raceway keeps executions for at once: the least
        // recently run are retired as new ones come, and every event is
        // still analyzed, each task its own execution (a task writing its
        // own variable races no one).
        let report = raceway::check(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..5_000)
                    .map(|i| {
                        tokio::spawn(async move {
                            let mut mine = 0i64;
                            tracked!(mine = i);
                            tokio::task::yield_now().await;
                            tracked!(mine += 1);
                            mine
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        });
        assert!(report.is_clean(), "{flavour}: {report}");
        assert_eq!(report.events_analyzed(), 15_000, "{flavour}: a write, a read and a write per task: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour}: {report}");
    }
}

/// The ordinary way to test a service: `axum::serve` in a plain
/// `tokio::spawn`, the router (with our layer) built inside that task, and
/// requests from the test. Each request is an execution of the session;
/// two requests that overlap on a counter read and written in separate
/// critical sections lose an update.
fn an_axum_server_inside_a_plain_task_is_analyzed() {
    use axum::routing::post;
    let report = raceway::check(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let both_read = Arc::new(tokio::sync::Barrier::new(2));
            tokio::spawn(async move {
                let counter = Arc::new(Mutex::new(0i64));
                let app = axum::Router::new()
                    .route(
                        "/hit",
                        post(move || {
                            let (counter, both_read) = (counter.clone(), both_read.clone());
                            async move {
                                let seen = {
                                    let guard = counter.lock().unwrap();
                                    tracked!(*guard)
                                };
                                both_read.wait().await; // untracked: timing only
                                let mut guard = counter.lock().unwrap();
                                tracked!(*guard = seen + 1);
                            }
                        }),
                    )
                    .layer(raceway::layer::RacewayLayer::new());
                axum::serve(listener, app).await.unwrap();
            });
            let client = reqwest::Client::new();
            let url = format!("http://{addr}/hit");
            let (a, b) = tokio::join!(client.post(&url).send(), client.post(&url).send());
            assert!(a.unwrap().status().is_success() && b.unwrap().status().is_success());
        });
    });
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
    assert_eq!(report.events_unattributed(), 0, "{report}");
}

fn a_check_that_recorded_nothing_says_so() {
    let report = raceway::check(|| {});
    assert!(report.to_string().contains("analyzed no events"), "{report}");
}
