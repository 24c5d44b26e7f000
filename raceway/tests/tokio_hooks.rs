//! Plain `tokio::spawn` tasks on a runtime built with `raceway::task::hooks`
//! (needs `RUSTFLAGS="--cfg tokio_unstable"`; without it this file is
//! empty): the spawn is a happens-before edge, so a race between a task and
//! what its spawner did after the spawn is reported, and what the spawner
//! did before it is ordered.
//!
//! `.ci/run` runs it: `RUSTFLAGS="--cfg tokio_unstable" cargo test -p
//! raceway --features tokio --test tokio_hooks`.
#![cfg(tokio_unstable)]

use raceway::sync::Mutex;
use raceway::{track, tracked, RaceKind};
use std::sync::Arc;

fn runtimes() -> [tokio::runtime::Runtime; 2] {
    [
        raceway::task::hooks(&mut tokio::runtime::Builder::new_current_thread()).enable_all().build().unwrap(),
        raceway::task::hooks(&mut tokio::runtime::Builder::new_multi_thread())
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ]
}

fn kinds(report: &raceway::Report) -> Vec<RaceKind> {
    report.races().iter().map(|r| r.kind()).collect()
}

#[track]
async fn withdraw(account: Arc<Mutex<i64>>, amount: i64, both_read: Arc<tokio::sync::Barrier>) {
    let seen = {
        let guard = account.lock().unwrap();
        tracked!(*guard)
    };
    both_read.wait().await; // untracked: timing only
    let mut guard = account.lock().unwrap();
    tracked!(*guard = seen - amount);
}

/// One function: the scenarios run one after another, one session at a
/// time.
#[test]
fn plain_tasks_with_the_hooks_have_their_spawn_edge() {
    for rt in runtimes() {
        let flavour = format!("{:?}", rt.handle().runtime_flavor());
        let shared = Arc::new(std::sync::Mutex::new(0i64)); // untracked lock

        // Written before the spawn, read by the task: ordered by the spawn.
        let report = raceway::check(|| {
            rt.block_on(async {
                {
                    let mut guard = shared.lock().unwrap();
                    tracked!(*guard = 1);
                }
                let child = shared.clone();
                tokio::spawn(async move {
                    let guard = child.lock().unwrap();
                    let _ = tracked!(*guard);
                })
                .await
                .unwrap();
            })
        });
        assert!(report.is_clean(), "{flavour}: {report}");
        assert_eq!(report.unordered_unknown_edges(), 0, "{flavour}: nothing left out: {report}");
        assert!(report.events_analyzed() >= 3, "{flavour}: the write, the spawn, the read: {report}");

        // Written after the spawn while the task reads: a data race, which
        // stable tokio (unknown spawn) leaves out.
        let report = raceway::check(|| {
            rt.block_on(async {
                let wrote = Arc::new(tokio::sync::Barrier::new(2));
                let (child, child_wrote) = (shared.clone(), wrote.clone());
                let task = tokio::spawn(async move {
                    child_wrote.wait().await; // untracked: timing only
                    let guard = child.lock().unwrap();
                    let _ = tracked!(*guard);
                });
                {
                    let mut guard = shared.lock().unwrap();
                    tracked!(*guard = 2);
                }
                wrote.wait().await;
                task.await.unwrap();
            })
        });
        assert_eq!(kinds(&report), [RaceKind::DataRace], "{flavour}: {report}");

        // Two tasks that lose an update.
        let account = Arc::new(Mutex::new(100i64));
        let report = raceway::check(|| {
            rt.block_on(async {
                let both_read = Arc::new(tokio::sync::Barrier::new(2));
                let a = tokio::spawn(withdraw(account.clone(), 30, both_read.clone()));
                let b = tokio::spawn(withdraw(account.clone(), 50, both_read));
                a.await.unwrap();
                b.await.unwrap();
            })
        });
        assert_eq!(kinds(&report), [RaceKind::LostUpdate], "{flavour}: {report}");
        assert_eq!(report.events_unattributed(), 0, "{flavour}: {report}");

        // raceway's own spawn on a hooked runtime is not taken for a plain
        // one: its join orders the read after it.
        let report = raceway::check(|| {
            rt.block_on(async {
                let child = shared.clone();
                raceway::task::spawn(async move {
                    let mut guard = child.lock().unwrap();
                    tracked!(*guard = 3);
                })
                .await
                .unwrap();
                let guard = shared.lock().unwrap();
                let _ = tracked!(*guard);
            })
        });
        assert!(report.is_clean(), "{flavour}: {report}");
        assert_eq!(report.unordered_unknown_edges(), 0, "{flavour}: {report}");
        // Its spawn, its write, its join, the read: no second spawn event
        // of a plain task for the same tokio task.
        assert_eq!(report.events_analyzed(), 4, "{flavour}: {report}");
    }
}
