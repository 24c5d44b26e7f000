//! The embedded default, end to end, in a child process: with no endpoint,
//! dropping the guard prints the report to stderr, `RACEWAY_REPORT` writes
//! it as JSON, and `RACEWAY_FAIL_ON_RACE=1` turns races into exit status 66.

use std::process::Command;

/// Set in the child process: run the scenario instead of the assertions.
const CHILD: &str = "RACEWAY_EMBEDDED_TEST_CHILD";

/// The scenario the child runs: a racy program with a process-wide client.
/// Not a test of its own: the tests below run it in a child process.
#[test]
#[ignore = "run by the other tests of this file, in a child process"]
fn child_scenario() {
    let mode = std::env::var(CHILD).expect("run by the tests of this file, which set the mode");
    let guard = raceway::init(raceway::Config::from_env().expect("valid environment")).unwrap();
    if let Some(flavour) = mode.strip_prefix("plain-tasks-") {
        plain_tasks(flavour);
    } else if mode == "racy" {
        let counter = std::sync::Mutex::new(0i64);
        raceway::thread::scope(|s| {
            for _ in 0..2 {
                let counter = &counter;
                s.spawn(move || {
                    let mut g = counter.lock().unwrap();
                    raceway::tracked!(*g += 1);
                });
            }
        });
    } else {
        let mut x = 0i64;
        raceway::tracked!(x += 1);
    }
    drop(guard);
}

/// Under `raceway::init`, plain `tokio::spawn` tasks on a `flavour`
/// runtime: a child that reads what its parent wrote before the spawn (no
/// race may come of the unknown spawn edge), then two tasks that lose an
/// update (each its own execution, not the worker thread's).
fn plain_tasks(flavour: &str) {
    let rt = match flavour {
        "current" => tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        _ => tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    };
    rt.block_on(async {
        let shared = std::sync::Arc::new(std::sync::Mutex::new(0i64)); // untracked lock
        let parent = shared.clone();
        tokio::spawn(async move {
            {
                let mut g = parent.lock().unwrap();
                raceway::tracked!(*g = 1);
            }
            let child = parent.clone();
            tokio::spawn(async move {
                let g = child.lock().unwrap();
                let _ = raceway::tracked!(*g);
            })
            .await
            .unwrap();
        })
        .await
        .unwrap();

        let account = std::sync::Arc::new(raceway::sync::Mutex::new(100i64));
        let both_read = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tellers: Vec<_> = [30, 50]
            .into_iter()
            .map(|amount| tokio::spawn(withdraw(account.clone(), amount, both_read.clone())))
            .collect();
        for teller in tellers {
            teller.await.unwrap();
        }
    });
}

#[raceway::track]
async fn withdraw(
    account: std::sync::Arc<raceway::sync::Mutex<i64>>,
    amount: i64,
    both_read: std::sync::Arc<tokio::sync::Barrier>,
) {
    let seen = {
        let g = account.lock().unwrap();
        raceway::tracked!(*g)
    };
    both_read.wait().await; // untracked: timing only
    let mut g = account.lock().unwrap();
    raceway::tracked!(*g = seen - amount);
}

fn run_child(mode: &str, envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_scenario", "--ignored", "--nocapture", "--test-threads", "1"]).env(CHILD, mode);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.env_remove("RACEWAY_ENDPOINT");
    cmd.output().expect("run the child")
}

#[test]
fn dropping_the_guard_prints_the_report() {
    let out = run_child("racy", &[]);
    assert!(out.status.success(), "without RACEWAY_FAIL_ON_RACE the process succeeds");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WARNING: raceway: data race on *g"), "{stderr}");
    assert!(stderr.contains("SUMMARY: raceway found 1 race"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no colour when stderr is not a terminal");
}

#[test]
fn fail_on_race_exits_66_and_report_writes_json() {
    let path = std::env::temp_dir().join(format!("raceway-report-{}.json", std::process::id()));
    let out = run_child("racy", &[("RACEWAY_FAIL_ON_RACE", "1"), ("RACEWAY_REPORT", path.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(66), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["races"][0]["kind"], "data_race");
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_clean_run_exits_zero_even_with_fail_on_race() {
    let out = run_child("clean", &[("RACEWAY_FAIL_ON_RACE", "1")]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SUMMARY: raceway found no races"));
}

#[test]
fn plain_tokio_tasks_under_init_are_their_own_executions() {
    for flavour in ["current", "multi"] {
        let path = std::env::temp_dir().join(format!("raceway-report-plain-{flavour}-{}.json", std::process::id()));
        let out = run_child(&format!("plain-tasks-{flavour}"), &[("RACEWAY_REPORT", path.to_str().unwrap())]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flavour}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kinds: Vec<_> =
            json["races"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect();
        // The lost update, and nothing of the parent-child hand-off.
        assert_eq!(kinds, ["lost_update"], "{flavour}: {stderr}");
        let _ = std::fs::remove_file(path);
    }
}
