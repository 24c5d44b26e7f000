#![cfg(unix)]
//! The report survives Ctrl-C: a program using `raceway::init`, stopped by
//! SIGINT or SIGTERM, prints its report (and writes `RACEWAY_REPORT`)
//! before ending by the signal; a program with its own handler keeps it.
//! Each case runs a real child process, signalled once it says it is ready.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

/// Set in the child process: which scenario to run.
const CHILD: &str = "RACEWAY_SIGNALS_TEST_CHILD";
/// The line the child prints once it is ready for the signal.
const READY: &str = "raceway-signals-child-ready";

/// The child: a racy program with a process-wide client that waits to be
/// stopped. Not a test of its own: the tests below run it.
#[test]
#[ignore = "run by the other tests of this file, in a child process"]
fn child_scenario() {
    let mode = std::env::var(CHILD).expect("run by the tests of this file, which set the mode");
    let guard = raceway::init(raceway::Config::from_env().expect("valid environment")).unwrap();
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
    let ready = || {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{READY}").unwrap();
        out.flush().unwrap();
    };
    if mode == "graceful" {
        // The program's own handling, installed after `init`: the signal
        // ends the wait, and the guard's drop gives the report.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut stop = std::pin::pin!(raceway::shutdown_signal());
            // Polled once, so that its handlers are installed before the
            // parent is told to signal.
            tokio::select! {
                biased;
                () = &mut stop => unreachable!("no signal yet"),
                () = std::future::ready(()) => {}
            }
            ready();
            stop.await;
        });
        println!("graceful shutdown");
        drop(guard);
        return;
    }
    ready();
    loop {
        std::thread::park();
    }
}

struct Stopped {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the child in `mode`, waits for its readiness line, sends `signal`.
fn stop_child(mode: &str, signal: libc::c_int, envs: &[(&str, &str)]) -> Stopped {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_scenario", "--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD, mode)
        .env_remove("RACEWAY_ENDPOINT")
        .env_remove("RACEWAY_REPORT")
        .env_remove("RACEWAY_SIGNALS")
        .env_remove("RACEWAY_FAIL_ON_RACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    // The child starts with the signals' default actions, whatever this
    // process inherited: a shell without job control starts background
    // jobs with SIGINT ignored, and an ignored signal would never stop
    // the child.
    // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires.
    unsafe {
        cmd.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGTERM] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("run the child");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "the child ended before it was ready; its output: {seen}");
        seen.push_str(&line);
        // libtest prints the test's name on the same line first.
        if line.trim_end().ends_with(READY) {
            break;
        }
    }
    // SAFETY: signalling our own child process, by its id.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    Stopped { status, stdout: seen + &rest, stderr }
}

#[test]
fn sigint_prints_the_report_and_ends_the_process_by_the_signal() {
    let path = std::env::temp_dir().join(format!("raceway-signal-report-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let out = stop_child("wait", libc::SIGINT, &[("RACEWAY_REPORT", path.to_str().unwrap())]);
    assert!(out.stderr.contains("WARNING: raceway: data race on *g"), "{}", out.stderr);
    assert_eq!(out.stderr.matches("SUMMARY: raceway").count(), 1, "{}", out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGINT), "ended as SIGINT would have: {:?}", out.status);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["races"][0]["kind"], "data_race");
    let _ = std::fs::remove_file(path);
}

#[test]
fn sigterm_prints_the_report_and_writes_the_html_page() {
    let path = std::env::temp_dir().join(format!("raceway-signal-report-{}.html", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let out = stop_child("wait", libc::SIGTERM, &[("RACEWAY_REPORT", path.to_str().unwrap())]);
    assert!(out.stderr.contains("SUMMARY: raceway found 1 race"), "{}", out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGTERM), "{:?}", out.status);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("data-kind=\"data_race\""), "{html}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn fail_on_race_still_exits_66_on_a_signal() {
    let out = stop_child("wait", libc::SIGTERM, &[("RACEWAY_FAIL_ON_RACE", "yes")]);
    assert!(out.stderr.contains("SUMMARY: raceway found 1 race"), "{}", out.stderr);
    assert_eq!(out.status.code(), Some(66), "{:?}", out.status);
}

#[test]
fn a_program_with_its_own_handler_keeps_it() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let out = stop_child("graceful", signal, &[]);
        assert!(out.status.success(), "the program shut down on its own: {:?}\n{}", out.status, out.stderr);
        assert!(out.stdout.contains("graceful shutdown"), "{}", out.stdout);
        assert_eq!(out.stderr.matches("SUMMARY: raceway found 1 race").count(), 1, "once, at the guard's drop");
    }
}

#[test]
fn raceway_signals_off_installs_nothing() {
    let out = stop_child("wait", libc::SIGINT, &[("RACEWAY_SIGNALS", "off")]);
    assert_eq!(out.status.signal(), Some(libc::SIGINT));
    assert!(!out.stderr.contains("SUMMARY"), "{}", out.stderr);
}
