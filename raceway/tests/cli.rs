//! `raceway analyze`: merges JSON-lines files written by several processes
//! into one report.

use raceway::{AccessType, Config, Endpoint, RacewayClient};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raceway-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One service's events: a read-modify-write of `Account[alice].balance`,
/// through `track_state_change` (the name is the identity across
/// processes). Recorded on a thread of its own (a plain std thread, which
/// adds no happens-before edge), as another process's would be.
fn service(path: &Path, name: &str, old: i64, new: i64) {
    let (path, name) = (path.to_path_buf(), name.to_string());
    std::thread::spawn(move || record(&path, &name, old, new)).join().unwrap();
}

fn record(path: &Path, name: &str, old: i64, new: i64) {
    let _ = std::fs::remove_file(path);
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::File(path.to_path_buf())),
        service_name: name.into(),
        instance_id: format!("{name}-1"),
        ..Config::default()
    })
    .unwrap();
    client.track_state_change("Account[alice].balance", None::<i64>, old, AccessType::Read);
    client.track_state_change("Account[alice].balance", old, new, AccessType::Write);
    client.shutdown().unwrap();
}

fn analyze(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_raceway")).arg("analyze").args(args).output().unwrap()
}

#[test]
fn merges_files_from_two_services_and_finds_the_race() {
    let dir = dir();
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    service(&a, "payments", 100, 70);
    service(&b, "refunds", 100, 150);
    let out = analyze(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "races found: exit 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("on Account[alice].balance"), "{text}");

    let out = analyze(&["--json", a.to_str().unwrap(), b.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["races"][0]["variable"], "Account[alice].balance");
    assert!(json["events_analyzed"].as_u64().unwrap() >= 4);
}

#[test]
fn one_service_alone_is_clean_and_bad_input_is_an_error() {
    let dir = dir();
    let a = dir.join("alone.jsonl");
    service(&a, "payments", 100, 70);
    let out = analyze(&[a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no races"));
    assert_eq!(analyze(&[]).status.code(), Some(2));
    assert_eq!(analyze(&["/no/such/file.jsonl"]).status.code(), Some(2));
}

fn raceway(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_raceway")).args(args).output().unwrap()
}

#[test]
fn help_and_version_say_what_the_command_does() {
    let out = raceway(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("analyze") && text.contains("--version"), "{text}");
    let out = raceway(&["help"]);
    assert_eq!(out.status.code(), Some(0), "`help` works");
    assert!(String::from_utf8_lossy(&out.stdout).contains("analyze"));
    let out = raceway(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("raceway {}", env!("CARGO_PKG_VERSION")));
    for args in [&["analyze", "--help"][..], &["help", "analyze"]] {
        let out = raceway(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        for option in [
            "--json",
            "--html <PATH>",
            "--window <SECONDS>",
            "--window-events <N>",
            "--no-progress",
            "<FILE>...",
            "Exit status",
        ] {
            assert!(text.contains(option), "{args:?} lists {option}: {text}");
        }
    }
    // A mistyped option is a usage error, not a file name.
    let out = raceway(&["analyze", "--jsn", "x.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jsn"));
}

#[test]
fn an_input_without_events_is_an_error() {
    let dir = dir();
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = analyze(&[empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no events in") && err.contains("empty.jsonl"), "{err}");
    assert!(out.stdout.is_empty(), "no report for no events");

    let junk = dir.join("junk.jsonl");
    std::fs::write(&junk, "not json\n{\"id\": 1}\n\n").unwrap();
    let out = analyze(&[junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.jsonl:1: skipping a line that is not an event"), "{err}");
    assert!(err.contains("junk.jsonl:2:"), "{err}");
    assert!(err.contains("(2 lines that are not events)"), "{err}");
}

#[test]
fn an_event_read_twice_counts_once() {
    let dir = dir();
    let a = dir.join("twice.jsonl");
    service(&a, "payments", 100, 70);
    let once: serde_json::Value = serde_json::from_slice(&analyze(&["--json", a.to_str().unwrap()]).stdout).unwrap();
    let out = analyze(&["--json", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "the same service twice is not two services racing");
    let twice: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(twice["events_analyzed"], once["events_analyzed"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("read more than once (the same id) counted once"));
}

#[test]
fn html_writes_the_page() {
    let dir = dir();
    let (a, b) = (dir.join("ha.jsonl"), dir.join("hb.jsonl"));
    service(&a, "payments", 100, 70);
    service(&b, "refunds", 100, 150);
    let page = dir.join("report.html");
    let _ = std::fs::remove_file(&page);
    let out = analyze(&["--html", page.to_str().unwrap(), a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("on Account[alice].balance"), "text on stdout too");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-variable=\"Account[alice].balance\""), "{html}");
    assert!(html.contains("class=\"lane\" data-execution="));
    let out = analyze(&["--html", "/no/such/dir/report.html", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "an unwritable page is an error");
}
