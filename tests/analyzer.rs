//! The correctness suite: small programs using the public API, each with
//! its exact verdict. A false positive on a clean scenario is a release
//! blocker.
//!
//! Interleavings that a scenario needs are forced with std channels and
//! barriers, which the instrumentation does not see: they order real time
//! without creating happens-before edges.

use raceway::sync::{Mutex, RwLock};
use raceway::{check, thread, track, tracked, RaceKind, Report};
use std::sync::{mpsc, Barrier};

fn kinds(report: &Report) -> Vec<RaceKind> {
    report.races().iter().map(|r| r.kind()).collect()
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected no race:\n{report}");
    assert!(report.events_analyzed() > 0, "the scenario recorded nothing");
}

/// The classic: threads increment a counter, each access under a
/// `std::sync::Mutex` that raceway does not see, so nothing orders them.
fn increment_behind_an_untracked_mutex(threads: usize, rounds: usize) {
    let counter = std::sync::Mutex::new(0i64);
    thread::scope(|s| {
        for _ in 0..threads {
            let counter = &counter;
            s.spawn(move || {
                for _ in 0..rounds {
                    let mut g = counter.lock().unwrap();
                    tracked!(*g += 1);
                }
            });
        }
    });
}

// ---------------------------------------------------------------- racy

#[test]
fn racy_unsynchronized_read_modify_write_behind_an_untracked_mutex() {
    let report = check(|| increment_behind_an_untracked_mutex(2, 1));
    assert_eq!(report.races().len(), 1, "{report}");
    let race = &report.races()[0];
    assert_eq!(race.kind(), RaceKind::DataRace);
    assert_eq!(race.variable(), "*g");
    let [a, b] = race.accesses() else { panic!() };
    assert_ne!(a.execution, b.execution);
    assert!(a.location.contains("analyzer.rs"), "{}", a.location);
}

#[test]
fn racy_write_against_read_in_two_threads() {
    let value = std::sync::atomic::AtomicI64::new(0);
    let report = check(|| {
        let writer = thread::spawn({
            let mut shared = 1i64;
            move || tracked!(shared = 2)
        });
        let _ = &value;
        writer.join().unwrap();
    });
    // The spawned thread wrote its own copy: nothing shared, nothing found.
    assert_clean(&report);

    let mut shared = 0i64;
    let report = check(|| {
        let p = &mut shared as *mut i64 as usize;
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: the reader below only runs after this write, per the
                // untracked channel.
                let r = unsafe { &mut *(p as *mut i64) };
                tracked!(*r = 5);
                tx.send(()).unwrap();
            });
            s.spawn(move || {
                rx.recv().unwrap();
                let r = unsafe { &*(p as *const i64) };
                let _ = tracked!(*r);
            });
        });
    });
    assert_eq!(kinds(&report), [RaceKind::DataRace], "{report}");
    let [w, r] = report.races()[0].accesses() else { panic!() };
    assert!(w.access_type.is_write() && !r.access_type.is_write());
}

#[test]
fn racy_one_variable_guarded_by_two_different_locks() {
    let (a, b) = (Mutex::with_name((), "lock A"), Mutex::with_name((), "lock B"));
    let mut balance = 0i64;
    let report = check(|| {
        let p = &mut balance as *mut i64 as usize;
        thread::scope(|s| {
            for lock in [&a, &b] {
                s.spawn(move || {
                    let _g = lock.lock().unwrap();
                    // SAFETY: the two writers race on purpose (a logical
                    // race the test must find); i64 writes of this test are
                    // not observed by Rust code concurrently.
                    let r = unsafe { &mut *(p as *mut i64) };
                    tracked!(*r = 1);
                });
            }
        });
    });
    assert_eq!(kinds(&report), [RaceKind::DataRace], "{report}");
    assert!(report.races()[0].explanation().contains("different locks"), "{}", report.races()[0].explanation());
}

#[track]
fn withdraw_in_two_steps(account: &Mutex<i64>, amount: i64, read_done: &Barrier, other_done: &Barrier) {
    let seen = {
        let g = account.lock().unwrap();
        tracked!(*g)
    };
    read_done.wait();
    other_done.wait();
    let mut g = account.lock().unwrap();
    tracked!(*g = seen - amount);
}

#[track]
fn withdraw_at_once(account: &Mutex<i64>, amount: i64) {
    let mut g = account.lock().unwrap();
    let seen = tracked!(*g);
    tracked!(*g = seen - amount);
}

/// Two withdrawals from one account: one in two critical sections of the
/// account's lock, the other falling between them. Returns the report and
/// the final balance.
fn lost_update_under_one_lock() -> (Report, i64) {
    let account = Mutex::with_name(100i64, "account lock");
    let (read_done, other_done) = (Barrier::new(2), Barrier::new(2));
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| withdraw_in_two_steps(&account, 30, &read_done, &other_done));
            s.spawn(|| {
                read_done.wait();
                withdraw_at_once(&account, 50);
                other_done.wait();
            });
        });
    });
    let balance = *account.lock().unwrap();
    (report, balance)
}

#[test]
fn racy_lost_update_across_two_critical_sections_of_one_lock() {
    let (report, balance) = lost_update_under_one_lock();
    assert_eq!(balance, 70, "the 50 was lost");
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
    let race = &report.races()[0];
    assert!(!race.also_unsynchronized(), "every access was under the lock");
    let start = race.region_start().expect("the region's read");
    assert_eq!(start.access_type, raceway::AccessType::Read);
    assert!(race.explanation().contains("lost"), "{}", race.explanation());
    assert!(race.accesses()[1].locks[0].starts_with("account lock@"));
    assert!(race.accesses()[1].function.as_deref().unwrap().ends_with("withdraw_in_two_steps"));
}

#[track]
async fn take_one(stock: &raceway::sync::tokio::Mutex<i64>) -> bool {
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

fn check_then_act(rt: tokio::runtime::Runtime) {
    let stock = std::sync::Arc::new(raceway::sync::tokio::Mutex::new(1i64));
    let report = check(|| {
        rt.block_on(async {
            let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let (stock, barrier) = (stock.clone(), barrier.clone());
                    raceway::task::spawn(async move {
                        barrier.wait().await;
                        take_one(&stock).await
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
    assert!(!report.is_clean(), "check-then-act across .await must be found");
    assert!(
        report.races().iter().any(|r| r.kind() != RaceKind::DataRace),
        "the locks order every access: only the atomicity check can see it:\n{report}"
    );
}

#[test]
fn racy_check_then_act_across_await_on_current_thread() {
    check_then_act(tokio::runtime::Builder::new_current_thread().build().unwrap());
}

#[test]
fn racy_check_then_act_across_await_on_multi_thread() {
    check_then_act(tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap());
}

#[track]
fn audit(ledger: &Mutex<i64>, first_done: &Barrier, write_done: &Barrier) -> i64 {
    let before = {
        let g = ledger.lock().unwrap();
        tracked!(*g)
    };
    first_done.wait();
    write_done.wait();
    let g = ledger.lock().unwrap();
    tracked!(*g) - before
}

#[test]
fn racy_inconsistent_read() {
    let ledger = Mutex::new(10i64);
    let (first_done, write_done) = (Barrier::new(2), Barrier::new(2));
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| audit(&ledger, &first_done, &write_done));
            s.spawn(|| {
                first_done.wait();
                let mut g = ledger.lock().unwrap();
                tracked!(*g = 99);
                drop(g);
                write_done.wait();
            });
        });
    });
    assert_eq!(kinds(&report), [RaceKind::InconsistentRead], "{report}");
}

/// Publishes in two critical sections, a placeholder then the value,
/// letting the other thread run after the first (W-R-W).
#[track]
fn publish_in_two_steps(slot: &Mutex<i64>, first_done: &Barrier, other_done: &Barrier) {
    {
        let mut g = slot.lock().unwrap();
        tracked!(*g = -1);
    }
    first_done.wait();
    other_done.wait();
    let mut g = slot.lock().unwrap();
    tracked!(*g = 10);
}

#[test]
fn racy_dirty_read() {
    let slot = Mutex::new(0i64);
    let (first_done, other_done) = (Barrier::new(2), Barrier::new(2));
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| publish_in_two_steps(&slot, &first_done, &other_done));
            s.spawn(|| {
                first_done.wait();
                let g = slot.lock().unwrap();
                assert_eq!(tracked!(*g), -1, "the placeholder");
                drop(g);
                other_done.wait();
            });
        });
    });
    assert_eq!(kinds(&report), [RaceKind::DirtyRead], "{report}");
    assert!(!report.races()[0].is_predicted(), "it happened in this run");
}

/// Writes a value, then reads it back in another critical section,
/// letting the other thread run in between (W-W-R).
#[track]
fn write_then_read_back(slot: &Mutex<i64>, first_done: &Barrier, other_done: &Barrier) -> i64 {
    {
        let mut g = slot.lock().unwrap();
        tracked!(*g = 1);
    }
    first_done.wait();
    other_done.wait();
    let g = slot.lock().unwrap();
    tracked!(*g)
}

#[test]
fn racy_overwritten_write() {
    let slot = Mutex::new(0i64);
    let (first_done, other_done) = (Barrier::new(2), Barrier::new(2));
    let report = check(|| {
        thread::scope(|s| {
            let reader = s.spawn(|| write_then_read_back(&slot, &first_done, &other_done));
            s.spawn(|| {
                first_done.wait();
                let mut g = slot.lock().unwrap();
                tracked!(*g = 2);
                drop(g);
                other_done.wait();
            });
            assert_eq!(reader.join().unwrap(), 2, "its own write was overwritten");
        });
    });
    assert_eq!(kinds(&report), [RaceKind::OverwrittenWrite], "{report}");
    assert!(!report.races()[0].is_predicted(), "it happened in this run");
}

// --------------------------------------------------------------- clean

#[test]
fn clean_one_lock_around_the_whole_read_modify_write() {
    let account = Mutex::new(100i64);
    let report = check(|| {
        thread::scope(|s| {
            for amount in [30, 50] {
                let account = &account;
                s.spawn(move || withdraw_at_once(account, amount));
            }
        });
    });
    assert_eq!(*account.lock().unwrap(), 20);
    assert_clean(&report);
}

#[test]
fn clean_lock_hand_off() {
    let lock = Mutex::new(0i64);
    let report = check(|| {
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            let lock = &lock;
            s.spawn(move || {
                let mut g = lock.lock().unwrap();
                tracked!(*g = 7);
                drop(g);
                tx.send(()).unwrap();
            });
            s.spawn(move || {
                rx.recv().unwrap();
                let g = lock.lock().unwrap();
                assert_eq!(tracked!(*g), 7);
            });
        });
    });
    assert_clean(&report);
}

#[track]
fn spawn_write_join_read() -> i64 {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(1i64));
    {
        let mut g = shared.lock().unwrap();
        tracked!(*g = 2);
    }
    let child = {
        let shared = shared.clone();
        thread::spawn(move || {
            let mut g = shared.lock().unwrap();
            tracked!(*g += 40);
        })
    };
    child.join().unwrap();
    let g = shared.lock().unwrap();
    tracked!(*g)
}

#[test]
fn clean_spawn_write_in_the_child_join_read_in_the_parent() {
    let mut result = 0;
    let report = check(|| result = spawn_write_join_read());
    assert_eq!(result, 42);
    assert_clean(&report);
}

#[test]
fn clean_scoped_threads_writing_disjoint_variables() {
    let mut parts = [0i64; 4];
    let report = check(|| {
        thread::scope(|s| {
            for (i, part) in parts.iter_mut().enumerate() {
                s.spawn(move || tracked!(*part = i as i64));
            }
        });
    });
    assert_clean(&report);
}

#[test]
fn clean_rwlock_readers_only() {
    let table = RwLock::new(5i64);
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..3 {
                let table = &table;
                s.spawn(move || {
                    let g = table.read().unwrap();
                    assert_eq!(tracked!(*g), 5);
                });
            }
        });
    });
    assert_clean(&report);
}

#[track]
fn busy(values: &mut [i64]) {
    for v in values.iter_mut() {
        let seen = tracked!(*v);
        tracked!(*v = seen + 1);
        tracked!(*v *= 2);
    }
}

#[test]
fn clean_all_accesses_from_one_execution() {
    let mut values = vec![1i64, 2, 3];
    let report = check(|| busy(&mut values));
    assert_eq!(values, [4, 6, 8]);
    assert_clean(&report);
}

#[track(atomic = false)]
fn worker_loop(counter: &Mutex<i64>, rounds: usize, turn: &Barrier) {
    for _ in 0..rounds {
        turn.wait();
        let mut g = counter.lock().unwrap();
        tracked!(*g += 1);
    }
}

#[track]
fn worker_loop_as_one_region(counter: &Mutex<i64>, rounds: usize, turn: &Barrier) {
    for _ in 0..rounds {
        turn.wait();
        let mut g = counter.lock().unwrap();
        tracked!(*g += 1);
    }
}

#[test]
fn clean_a_worker_loop_marked_atomic_false() {
    let counter = Mutex::new(0i64);
    let turn = Barrier::new(2);
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..2 {
                let (counter, turn) = (&counter, &turn);
                s.spawn(move || worker_loop(counter, 20, turn));
            }
        });
    });
    assert_eq!(*counter.lock().unwrap(), 40);
    assert_clean(&report);

    // The same loop as one atomic region: its iterations interleave with the
    // other worker's, which is what `atomic = false` tells the analyzer to
    // accept.
    let report = check(|| {
        thread::scope(|s| {
            for _ in 0..2 {
                let (counter, turn) = (&counter, &turn);
                s.spawn(move || worker_loop_as_one_region(counter, 20, turn));
            }
        });
    });
    assert!(!report.is_clean());
}

/// One call: reads the balance, or sets it, under the lock.
#[track]
fn balance_call(account: &Mutex<i64>, set: Option<i64>) -> i64 {
    let mut g = account.lock().unwrap();
    match set {
        Some(value) => {
            tracked!(*g = value);
            value
        }
        None => tracked!(*g),
    }
}

#[test]
fn clean_accesses_in_two_calls_of_one_function_do_not_pair() {
    // A reads in one call, B writes, A writes in a second call of the same
    // function (with an access outside any call in between): each call is
    // its own region, so the read and the write do not form a pair.
    let account = Mutex::new(100i64);
    let (read_done, written) = (Barrier::new(2), Barrier::new(2));
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| {
                let seen = balance_call(&account, None);
                let g = account.lock().unwrap();
                assert_eq!(tracked!(*g), seen);
                drop(g);
                read_done.wait();
                written.wait();
                balance_call(&account, Some(seen - 30));
            });
            s.spawn(|| {
                read_done.wait();
                balance_call(&account, Some(500));
                written.wait();
            });
        });
    });
    assert_eq!(*account.lock().unwrap(), 70);
    assert_clean(&report);

    // The same two calls inside one call of a region are a lost update: the
    // innermost region around both is the outer call.
    #[track]
    fn read_then_write(account: &Mutex<i64>, read_done: &Barrier, written: &Barrier) {
        let seen = balance_call(account, None);
        read_done.wait();
        written.wait();
        balance_call(account, Some(seen - 30));
    }
    let report = check(|| {
        thread::scope(|s| {
            s.spawn(|| read_then_write(&account, &read_done, &written));
            s.spawn(|| {
                read_done.wait();
                balance_call(&account, Some(500));
                written.wait();
            });
        });
    });
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
}

// ------------------------------------------------------- the report

#[test]
fn reports_are_deduplicated_with_a_count() {
    let report = check(|| increment_behind_an_untracked_mutex(4, 5));
    assert!(report.races().len() <= 3, "one report per pair of locations:\n{report}");
    assert!(report.races().iter().map(|r| r.count()).sum::<u64>() > report.races().len() as u64);
}

#[test]
fn the_report_renders_and_serializes() {
    let (report, _) = lost_update_under_one_lock();
    let text = report.to_string();
    assert!(text.contains("WARNING: raceway: lost update on *g"), "{text}");
    assert!(text.contains("Why:"), "{text}");
    assert!(text.contains("SUMMARY: raceway found 1 race (1 lost update)"), "{text}");
    assert!(!text.contains('\x1b'), "no colour in Display");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let race = &json["races"][0];
    assert_eq!(race["kind"], "lost_update");
    assert_eq!(race["variable"], "*g");
    assert_eq!(race["count"], 1);
    assert_eq!(race["accesses"][1]["access_type"], "Write");
    assert!(race["accesses"][1]["location"].as_str().unwrap().contains("analyzer.rs:"));
    assert_eq!(race["region_start"]["access_type"], "Read");
    assert!(json["events_analyzed"].as_u64().unwrap() > 0);
}

#[test]
fn sessions_are_isolated_between_parallel_tests() {
    // Two sessions at once on two threads: each sees only its own events.
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let racy = s.spawn(|| {
            check(|| {
                barrier.wait();
                increment_behind_an_untracked_mutex(2, 1);
            })
        });
        let clean = s.spawn(|| {
            check(|| {
                barrier.wait();
                let mut x = 0i64;
                tracked!(x += 1);
            })
        });
        assert!(!racy.join().unwrap().is_clean());
        let clean = clean.join().unwrap();
        assert_clean(&clean);
        assert_eq!(clean.events_analyzed(), 2);
    });
}

#[test]
#[should_panic(expected = "raceway found races")]
fn assert_race_free_panics_with_the_report() {
    raceway::assert_race_free(|| {
        increment_behind_an_untracked_mutex(2, 1);
    });
}

#[test]
fn the_analysis_state_follows_live_state_not_run_length() {
    use raceway::analyzer::Analyzer;
    // Record a workload once, then feed the same executions and variables
    // ten times over: what the analysis retains must not grow.
    let counter = std::sync::Mutex::new(0i64);
    let client = raceway::RacewayClient::new(raceway::Config::default()).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (counter, client) = (&counter, &client);
            s.spawn(move || {
                for i in 0..50 {
                    let _g = counter.lock().unwrap();
                    client.track_state_change(format!("slot[{}]", i % 10), i, i + 1, raceway::AccessType::Write);
                }
            });
        }
    });
    client.flush().unwrap();
    let events = client.collected_events();
    assert_eq!(events.len(), 200);
    let mut analyzer = Analyzer::new();
    let mut sizes = Vec::new();
    for _ in 0..10 {
        for e in &events {
            analyzer.observe(e);
        }
        sizes.push(analyzer.retained());
    }
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "retained state grew: {sizes:?}");
    let (execs, vars, accesses) = sizes[0];
    assert_eq!((execs, vars), (4, 10));
    assert!(accesses <= vars * (1 + 2 * execs), "{accesses}");
}

async fn withdraw_handler(balance: &raceway::sync::tokio::Mutex<i64>, amount: i64) {
    let seen = {
        let g = balance.lock().await;
        tracked!(*g)
    };
    // A call to another service, say: the task yields.
    tokio::task::yield_now().await;
    let mut g = balance.lock().await;
    tracked!(*g = seen - amount);
}

#[test]
fn racy_two_concurrent_requests_updating_one_key() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let balance = raceway::sync::tokio::Mutex::new(100i64);
    let report = check(|| {
        rt.block_on(async {
            tokio::join!(
                raceway::task::request("POST", "/accounts/alice/withdraw", withdraw_handler(&balance, 30)),
                raceway::task::request("POST", "/accounts/alice/withdraw", withdraw_handler(&balance, 50)),
            );
        });
    });
    assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{report}");
    let race = &report.races()[0];
    assert!(
        race.accesses()[1].execution.starts_with("POST /accounts/alice/withdraw#"),
        "{}",
        race.accesses()[1].execution
    );
    assert!(race.explanation().contains("within one call of POST /accounts/alice/withdraw"), "{}", race.explanation());
}

#[test]
fn clean_sequential_requests() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let balance = raceway::sync::tokio::Mutex::new(100i64);
    let report = check(|| {
        rt.block_on(async {
            raceway::task::request("POST", "/accounts/alice/withdraw", withdraw_handler(&balance, 30)).await;
            raceway::task::request("POST", "/accounts/alice/withdraw", withdraw_handler(&balance, 50)).await;
        });
    });
    assert_eq!(balance.into_inner(), 20);
    assert_clean(&report);
}
