//! Runs one test of the current test binary in a child process, to see
//! everything the SDK prints (its warnings go to stderr from its own
//! threads, which the test harness does not capture per test).

use std::process::Command;

/// Runs the `#[ignore]`d test `name` of this test binary alone in a child
/// process; returns whether it passed, and its stdout and stderr.
pub fn run_ignored(name: &str) -> (bool, String) {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env_remove("RACEWAY_DEBUG")
        .output()
        .expect("run the test binary");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Exactly this test ran (a misspelt name would run none and pass).
    assert!(text.contains("running 1 test"), "{name} did not run:\n{text}");
    (out.status.success(), text)
}
