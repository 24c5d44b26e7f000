//! Work a `raceway::check` session did not start: plain `std::thread::spawn`
//! threads are taken into the session as executions whose spawn and join
//! are unknown (their absence is never taken for a race), and what it
//! cannot attribute at all is counted and said, never silently missing.
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
    a_plain_tokio_task_polled_inside_a_check_is_counted_not_taken_for_its_root();
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

fn a_plain_tokio_task_polled_inside_a_check_is_counted_not_taken_for_its_root() {
    let report = raceway::check(|| {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
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
        });
    });
    assert_eq!(report.events_analyzed(), 1, "only the root's own write: {report}");
    assert_eq!(report.events_unattributed(), 1, "{report}");
    let text = report.to_string();
    assert!(text.contains("were not started through raceway were not analyzed"), "{text}");
    assert!(text.contains("raceway::task::spawn"), "{text}");
    assert!(report.to_json().contains("\"events_unattributed\": 1"), "{}", report.to_json());
    let outcome = std::panic::catch_unwind(|| {
        raceway::assert_race_free(|| {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                tokio::spawn(async {
                    let mut x = 0i64;
                    tracked!(x = 1);
                    x
                })
                .await
                .unwrap()
            });
        })
    });
    assert!(outcome.is_err(), "assert_race_free must not pass on work it could not see");
}

fn a_check_that_recorded_nothing_says_so() {
    let report = raceway::check(|| {});
    assert!(report.to_string().contains("analyzed no events"), "{report}");
}
