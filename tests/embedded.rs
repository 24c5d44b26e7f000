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
    if mode == "racy" {
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
