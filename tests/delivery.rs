//! The pipeline against a real HTTP receiver on 127.0.0.1 that checks every
//! batch against the Raceway server's schema, and against a `file://`
//! endpoint.

use raceway::{AccessType, Config, Endpoint, RacewayClient};
use raceway_tests::receiver::{Mode, Receiver};
use raceway_tests::schema::{parse_event, ServerEvent, ServerKind};
use std::collections::HashSet;
use std::time::Duration;

fn client_for(receiver: &Receiver, tweak: impl FnOnce(&mut Config)) -> RacewayClient {
    let mut config = Config {
        endpoint: Some(Endpoint::Http(receiver.url())),
        service_name: "delivery-test".into(),
        request_timeout: Duration::from_secs(5),
        // A flush waits for delivery: on a loaded 2-core CI machine 100,000
        // events can take longer than the 5 s default. Tests of the timeout
        // itself set their own.
        flush_timeout: Duration::from_secs(60),
        ..Config::default()
    };
    tweak(&mut config);
    RacewayClient::new(config).expect("valid configuration")
}

fn write(client: &RacewayClient, n: i64) {
    client.track_state_change("counter", n - 1, n, AccessType::Write);
}

#[test]
fn hundred_thousand_events_arrive_once_each() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| {
        c.batch_size = 500;
        c.channel_capacity = 1 << 18;
    });
    const N: i64 = 100_000;
    // Two threads, so that per-thread buffers and their hand-off are covered.
    let half = N / 2;
    std::thread::scope(|s| {
        for part in 0..2 {
            let client = &client;
            s.spawn(move || {
                for i in part * half..(part + 1) * half {
                    write(client, i + 1);
                }
            });
        }
    });
    client.flush().unwrap();
    assert!(receiver.wait_for_events(N as usize));
    assert_eq!(receiver.schema_errors(), Vec::<String>::new());
    let events = receiver.events();
    assert_eq!(events.len(), N as usize, "none lost, none duplicated");
    let ids: HashSet<_> = events.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), N as usize, "event ids are unique");
    let values: HashSet<i64> = events.iter().map(|e| e["kind"]["StateChange"]["new_value"].as_i64().unwrap()).collect();
    assert_eq!(values, (1..=N).collect::<HashSet<_>>(), "every value exactly once");
    let stats = client.stats();
    assert_eq!((stats.accepted, stats.sent, stats.dropped, stats.failed), (N as u64, N as u64, 0, 0));
    assert!(receiver.batch_sizes().iter().all(|&n| n <= 500));
}

#[test]
fn batches_never_exceed_batch_size() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| c.batch_size = 7);
    for i in 0..100 {
        write(&client, i);
    }
    client.flush().unwrap();
    assert!(receiver.wait_for_events(100));
    let sizes = receiver.batch_sizes();
    assert!(sizes.iter().all(|&n| (1..=7).contains(&n)), "{sizes:?}");
    assert!(sizes.iter().filter(|&&n| n == 7).count() >= 14, "full batches are shipped full: {sizes:?}");
}

#[test]
fn flush_interval_ships_a_partial_batch_without_flush() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| {
        c.batch_size = 1000;
        c.flush_interval = Duration::from_millis(50);
    });
    for i in 0..3 {
        write(&client, i);
    }
    // No flush: the interval alone must deliver the partial batch, collected
    // from this (now idle) thread's buffer.
    assert!(receiver.wait_for_events(3));
    assert_eq!(receiver.batch_sizes().iter().sum::<usize>(), 3);
    client.shutdown().unwrap();
}

#[test]
fn delivery_resumes_when_the_receiver_comes_up() {
    let port = Receiver::free_port();
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::Http(format!("http://127.0.0.1:{port}"))),
        request_timeout: Duration::from_secs(2),
        ..Config::default()
    })
    .unwrap();
    for i in 0..10 {
        write(&client, i);
    }
    client.flush().unwrap(); // one attempt, connection refused: kept for retry
    let stats = client.stats();
    assert_eq!(stats.sent, 0);
    assert_eq!(stats.failed + stats.dropped, 0, "a refused connection is transient");

    let receiver = Receiver::start_on(port);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(10));
    assert_eq!(client.stats().sent, 10);
    assert!(client.stats().retried >= 1);
}

#[test]
fn server_errors_and_throttling_are_retried() {
    for status in [500, 503, 429] {
        let receiver = Receiver::start();
        receiver.set_mode(Mode::Fail { status, times: 2 });
        let client = client_for(&receiver, |_| {});
        for i in 0..5 {
            write(&client, i);
        }
        client.flush().unwrap(); // first attempt: fails
        client.flush().unwrap(); // second attempt: fails
        client.flush().unwrap(); // third: accepted
        assert!(receiver.wait_for_events(5), "status {status}");
        let stats = client.stats();
        assert_eq!(stats.sent, 5, "status {status}");
        assert_eq!(stats.retried, 2, "status {status}");
        assert_eq!(stats.failed, 0, "status {status}");
        assert_eq!(receiver.requests(), 3, "status {status}");
    }
}

#[test]
fn client_errors_are_not_retried() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Fail { status: 422, times: 1 });
    let client = client_for(&receiver, |_| {});
    for i in 0..5 {
        write(&client, i);
    }
    client.flush().unwrap();
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed, stats.retried), (0, 5, 0));
    assert_eq!(receiver.requests(), 1);
    // Later batches go through.
    write(&client, 99);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(1));
}

#[test]
fn a_stalled_receiver_times_out_and_is_retried() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Stall);
    let client = client_for(&receiver, |c| c.request_timeout = Duration::from_millis(200));
    for i in 0..5 {
        write(&client, i);
    }
    client.flush().unwrap(); // times out after 200 ms: kept for retry
    assert_eq!(client.stats().sent, 0);
    receiver.set_mode(Mode::Accept);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(5));
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed), (5, 0));
    // At least the retry after the timeout; the backoff may have added more
    // while the receiver still stalled.
    assert!(stats.retried >= 1, "{stats}");
}

#[test]
fn api_key_goes_out_in_both_headers() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| c.api_key = Some("k-123".into()));
    write(&client, 1);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(1));
    let headers = receiver.headers();
    assert_eq!(headers[0]["authorization"], "Bearer k-123");
    assert_eq!(headers[0]["x-raceway-key"], "k-123");
    assert_eq!(headers[0]["content-type"], "application/json");
    assert!(!format!("{client:?}").contains("k-123"), "the key never shows in Debug");
}

#[test]
fn a_full_channel_drops_and_counts_without_blocking() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Stall);
    let client = client_for(&receiver, |c| {
        c.channel_capacity = 64;
        c.batch_size = 10;
        c.request_timeout = Duration::from_secs(30);
        c.retry_buffer = 10;
    });
    // The exporter is stuck in a request: the channel fills, and the caller
    // goes on regardless.
    for i in 0..50_000 {
        write(&client, i);
    }
    let stats = client.stats();
    assert_eq!(stats.accepted, 50_000);
    assert!(stats.dropped > 40_000, "{stats}");
    receiver.set_mode(Mode::Accept);
    client.shutdown().unwrap();
    let stats = client.stats();
    assert_eq!(stats.accepted, stats.sent + stats.dropped + stats.failed, "{stats}");
}

#[test]
fn an_execution_sends_its_context_again_after_a_chunk_carrying_it_is_dropped() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Stall);
    // Chunks of 64 records, and room for one in the channel.
    let client = client_for(&receiver, |c| {
        c.channel_capacity = 64;
        c.batch_size = 1;
        c.request_timeout = Duration::from_secs(30);
    });
    let held = |n: i64| {
        client.track_lock_acquire("L", "Mutex");
        client.track_state_change("x", n - 1, n, AccessType::Write);
        client.track_lock_release("L", "Mutex");
    };
    // The first chunk reaches the exporter, which then hangs in its first
    // request.
    for i in 0..64 {
        write(&client, i);
    }
    assert!(receiver.wait_until(|_, requests| requests >= 1));
    // Four chunks: lock hand-offs, then a write after the last release
    // (which carries the release's change of the lock set). The first chunk
    // waits in the channel and ends inside an acquisition (record 64 of
    // 3-record cycles); the other three, which carried every later change
    // of the lock set, are dropped.
    for i in 0..85 {
        held(i);
    }
    write(&client, 85);
    assert_eq!(client.stats().dropped, 192);
    receiver.set_mode(Mode::Accept);
    client.flush().unwrap();

    // No lock is held now, whatever the exporter saw last.
    client.track_state_change("y", 0, 1, AccessType::Write);
    held(1000);
    client.flush().unwrap();
    let lock_sets: Vec<(String, Vec<String>)> = receiver.with_typed(|events| {
        let after = |e: &ServerEvent| match &e.kind {
            ServerKind::StateChange { variable, new_value, .. } if variable == "y" || *new_value == 1000 => {
                Some((variable.clone(), e.lock_set.clone()))
            }
            _ => None,
        };
        events.iter().filter_map(after).collect()
    });
    assert_eq!(lock_sets, [("y".to_string(), vec![]), ("x".to_string(), vec!["L".to_string()])]);
}

#[test]
fn shutdown_from_a_current_thread_runtime() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |_| {});
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        write(&client, 1);
        tokio::task::yield_now().await;
        write(&client, 2);
        client.shutdown().unwrap();
    });
    assert_eq!(receiver.events().len(), 2);
    assert_eq!(client.stats().sent, 2);
}

#[test]
fn flush_from_a_multi_thread_runtime() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |_| {});
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let c = client.clone();
        tokio::spawn(async move { write(&c, 1) }).await.unwrap();
        write(&client, 2);
        client.flush().unwrap();
    });
    assert!(receiver.wait_for_events(2));
}

#[test]
fn file_endpoint_writes_one_event_per_line() {
    let dir = std::env::temp_dir().join(format!("raceway-file-test-{}", std::process::id()));
    let path = dir.join("events.jsonl");
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(&path);
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::parse(&format!("file://{}", path.display())).unwrap()),
        ..Config::default()
    })
    .unwrap();
    for i in 0..25 {
        write(&client, i);
    }
    client.shutdown().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 25);
    for line in lines {
        let event = parse_event(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(matches!(event.kind, ServerKind::StateChange { .. }));
    }
    assert_eq!(client.stats().sent, 25);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unopenable_file_endpoint_is_a_config_error() {
    let err = RacewayClient::new(Config {
        endpoint: Some(Endpoint::File("/proc/no/such/dir/events.jsonl".into())),
        ..Config::default()
    })
    .unwrap_err();
    assert_eq!(err.setting(), "RACEWAY_ENDPOINT");
    assert!(err.to_string().contains("the directory /proc/no/such/dir does not exist"), "{err}");
    // A directory that does not exist is not created.
    let missing = std::env::temp_dir().join(format!("raceway-missing-{}", std::process::id()));
    let err = RacewayClient::new(Config {
        endpoint: Some(Endpoint::File(missing.join("events.jsonl"))),
        ..Config::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("invalid RACEWAY_ENDPOINT (endpoint)"), "{err}");
    assert!(!missing.exists());
    // A directory given as the file.
    let err = RacewayClient::new(Config { endpoint: Some(Endpoint::File(std::env::temp_dir())), ..Config::default() })
        .unwrap_err();
    assert!(err.to_string().contains("RACEWAY_ENDPOINT") && err.to_string().contains("is a directory"), "{err}");
}

/// The tests that install the process-wide client take turns.
static PROCESS_WIDE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_event_kind_survives_the_server_schema() {
    let _turn = PROCESS_WIDE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let receiver = Receiver::start();
    let guard = raceway::init(Config {
        endpoint: Some(Endpoint::Http(receiver.url())),
        service_name: "kinds".into(),
        ..Config::default()
    })
    .unwrap();
    let line = line!() + 1;
    guard.track_function_call("transfer", serde_json::json!({"amount": 30}));
    guard.track_lock_acquire("accounts", "Mutex");
    guard.track_state_change("account.balance", None::<i64>, 100, AccessType::Read);
    guard.track_state_change("account.balance", 100, 70, AccessType::Write);
    guard.track_lock_release("accounts", raceway::LockType::Mutex);
    guard.track_http_request(
        "POST",
        "http://ledger/entries",
        [("authorization", "Bearer secret"), ("accept", "application/json")],
        serde_json::json!({"amount": 30}),
    );
    let response_headers: &[(&str, &str)] = &[("content-type", "application/json")];
    guard.track_http_response(201, response_headers, "created", Duration::from_millis(12));
    guard.track_error("InsufficientFunds", "balance 70 < 100");
    guard.track_function_return("transfer", Ok::<i64, String>(70), Duration::from_micros(250));
    let child = raceway::thread::spawn(|| {
        let client = raceway::client().expect("installed");
        client.track_state_change("account.balance", 70, 71, AccessType::Write);
        42
    });
    assert_eq!(child.join().unwrap(), 42);
    guard.flush().unwrap();
    assert!(receiver.wait_for_events(12));
    assert_eq!(receiver.schema_errors(), Vec::<String>::new());

    receiver.with_typed(|events| {
        let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                "AsyncAwait",
                "AsyncSpawn",
                "Error",
                "FunctionCall",
                "FunctionReturn",
                "HttpRequest",
                "HttpResponse",
                "LockAcquire",
                "LockRelease",
                "StateChange"
            ]
        );
        let main_id = &events.iter().find(|e| e.kind.name() == "FunctionCall").unwrap().metadata.thread_id;
        let main_thread: Vec<_> = events.iter().filter(|e| &e.metadata.thread_id == main_id).collect();
        // Parent links chain the execution's events in program order.
        assert_eq!(main_thread[0].parent_id, None);
        for pair in main_thread.windows(2) {
            assert_eq!(pair[1].parent_id, Some(pair[0].id));
        }
        for (i, e) in main_thread.iter().enumerate() {
            assert_eq!(e.metadata.tags["sdk_language"], "rust");
            assert_eq!(e.metadata.service_name, "kinds");
            assert_eq!(e.trace_id, main_thread[0].trace_id);
            let own = e.causality_vector.last().unwrap();
            assert_eq!(own.1, i as u64 + 1, "the execution's own clock counts its events");
        }
        match &main_thread[0].kind {
            ServerKind::FunctionCall { function_name, file, line: l, args, .. } => {
                assert_eq!(function_name, "transfer");
                assert!(file.ends_with("delivery.rs"), "the caller's location: {file}");
                assert_eq!(*l, line);
                assert_eq!(args["amount"], 30);
            }
            other => panic!("{other:?}"),
        }
        // Events between acquire and release carry the lock.
        assert_eq!(main_thread[1].lock_set, ["accounts"]);
        assert_eq!(main_thread[3].lock_set, ["accounts"]);
        assert_eq!(main_thread[5].lock_set, Vec::<String>::new());
        match &main_thread[3].kind {
            ServerKind::StateChange { variable, old_value, new_value, access_type, location } => {
                assert_eq!(variable, "account.balance");
                assert_eq!(old_value.as_ref().unwrap(), 100);
                assert_eq!(new_value, 70);
                assert_eq!(*access_type, raceway_tests::schema::ServerAccessType::Write);
                let prefix = format!("{}:{}:", file!(), line + 3);
                assert!(location.starts_with(&prefix), "file:line:column of the caller: {location}");
            }
            other => panic!("{other:?}"),
        }
        match &main_thread[5].kind {
            ServerKind::HttpRequest { headers, .. } => {
                assert_eq!(headers["authorization"], "<redacted>");
                assert_eq!(headers["accept"], "application/json");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(main_thread[6].metadata.duration_ns, Some(12_000_000));
        assert_eq!(main_thread[8].metadata.duration_ns, Some(250_000));
        match &main_thread[8].kind {
            ServerKind::Custom { data, .. } => assert_eq!(data["return_value"]["Ok"], 70),
            other => panic!("{other:?}"),
        }
        // The child thread is its own execution in the same trace, and starts
        // after the spawn.
        let spawn = main_thread.iter().find(|e| e.kind.name() == "AsyncSpawn").unwrap();
        let child: Vec<_> =
            events.iter().filter(|e| e.metadata.thread_id != main_thread[0].metadata.thread_id).collect();
        assert_eq!(child.len(), 1);
        assert_eq!(child[0].parent_id, Some(spawn.id), "a child's first event names its spawn");
        assert_eq!(child[0].trace_id, spawn.trace_id);
        let spawn_clock = spawn.causality_vector.last().unwrap();
        assert!(child[0].causality_vector.contains(spawn_clock), "spawn happens before the child's events");
        let child_clock = child[0].causality_vector.last().unwrap();
        let join = main_thread.iter().find(|e| e.kind.name() == "AsyncAwait").unwrap();
        assert!(join.causality_vector.contains(child_clock), "the child's events happen before the join");
    });
    drop(guard);
}

#[test]
fn atomic_accesses_and_fences_survive_the_server_schema() {
    use raceway::sync::atomic::{fence, AtomicUsize, Ordering};
    use raceway_tests::schema::ServerAccessType;
    let _turn = PROCESS_WIDE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let receiver = Receiver::start();
    let guard = raceway::init(Config {
        endpoint: Some(Endpoint::Http(receiver.url())),
        service_name: "atomics".into(),
        ..Config::default()
    })
    .unwrap();
    let counter = AtomicUsize::new(0);
    counter.store(1, Ordering::Release);
    let _ = counter.load(Ordering::Acquire);
    counter.fetch_add(2, Ordering::AcqRel);
    fence(Ordering::SeqCst);
    guard.flush().unwrap();
    assert!(receiver.wait_for_events(4));
    assert_eq!(receiver.schema_errors(), Vec::<String>::new());
    receiver.with_typed(|events| {
        let accesses: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                ServerKind::StateChange { variable, access_type, .. } => Some((variable.clone(), *access_type)),
                _ => None,
            })
            .collect();
        assert_eq!(
            accesses.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
            [ServerAccessType::AtomicWrite, ServerAccessType::AtomicRead, ServerAccessType::AtomicRMW]
        );
        assert!(accesses.iter().all(|(v, _)| v.starts_with("AtomicUsize@0x")), "{accesses:?}");
        let fences: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                ServerKind::MemoryFence { ordering, .. } => Some(ordering.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(fences, ["SeqCst"]);
    });
}

// ---- The Raceway server's limits, throttling, shutdown and credentials ----

use raceway::{FlushError, Stats};
use raceway_tests::child::run_ignored;
use raceway_tests::receiver::PATIENCE;
use std::time::{Instant, SystemTime};

fn balanced(stats: Stats) -> bool {
    stats.accepted == stats.sent + stats.dropped + stats.failed + stats.pending
}

#[test]
#[ignore = "run in a child process by a_206_with_errors_counts_them_failed_logs_once_and_backs_off"]
fn child_206_with_errors() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Partial { errors: 3, times: 2 });
    let client = client_for(&receiver, |c| c.batch_size = 10);
    for i in 0..10 {
        write(&client, i);
    }
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed, stats.pending), (7, 3, 0), "{stats}");
    assert_eq!(receiver.events().len(), 7);
    // The server's queue is full: the exporter backs off, a flush included.
    for i in 10..20 {
        write(&client, i);
    }
    client.flush().unwrap();
    assert!(receiver.wait_until(|_, requests| requests >= 2));
    let arrivals = receiver.arrivals();
    assert!(arrivals[1] - arrivals[0] >= Duration::from_secs(1), "backed off {:?}", arrivals[1] - arrivals[0]);
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed, stats.pending), (14, 6, 0), "the second 206 is counted too: {stats}");
    client.shutdown().unwrap();
    assert!(balanced(client.stats()));
}

#[test]
fn a_206_with_errors_counts_them_failed_logs_once_and_backs_off() {
    let (passed, output) = run_ignored("child_206_with_errors");
    assert!(passed, "{output}");
    let lines: Vec<&str> = output.lines().filter(|l| l.contains("[raceway]") && l.contains("errors")).collect();
    assert_eq!(lines.len(), 1, "logged once: {output}");
    assert!(lines[0].contains("Ingested 7 events, 3 errors"), "with the server's message: {}", lines[0]);
}

#[test]
fn batches_stay_under_max_batch_bytes_and_values_under_max_value_bytes() {
    // The case: 30 events with 100 KB strings, and a large batch_size.
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| c.batch_size = 10_000);
    let big = "v".repeat(100_000);
    for _ in 0..30 {
        client.track_state_change("blob", None::<()>, &big, AccessType::Write);
    }
    client.flush().unwrap();
    assert!(receiver.wait_for_events(30));
    assert_eq!(receiver.too_large(), 0, "never a 413");
    let sizes = receiver.body_sizes();
    assert!(sizes.len() >= 2 && sizes.iter().all(|&n| n <= 1 << 20), "split by bytes: {sizes:?}");
    for event in receiver.events() {
        let value = event["kind"]["StateChange"]["new_value"].as_str().unwrap().to_string();
        assert!(value.len() <= 64 << 10, "{}", value.len());
        assert!(value.starts_with("vvvv"));
        assert!(
            value.contains("truncated by raceway: 100000 bytes"),
            "the marker says so: {}",
            &value[value.len() - 120..]
        );
    }
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed, stats.dropped, stats.pending), (30, 0, 0, 0), "{stats}");
}

#[test]
fn an_event_alone_over_max_batch_bytes_is_dropped_and_counted_never_a_413() {
    let receiver = Receiver::start();
    let client = client_for(&receiver, |c| {
        c.max_batch_bytes = 100_000;
        c.max_value_bytes = 1 << 20;
    });
    write(&client, 1);
    client.track_state_change("blob", None::<()>, "x".repeat(200_000), AccessType::Write);
    write(&client, 2);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(2));
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.dropped, stats.failed, stats.pending), (2, 1, 0, 0), "{stats}");
    assert_eq!(receiver.too_large(), 0);
}

#[test]
fn a_server_limit_below_max_batch_bytes_splits_batches_answered_413() {
    let receiver = Receiver::start();
    receiver.set_body_limit(200_000);
    let client = client_for(&receiver, |c| c.batch_size = 1000);
    for _ in 0..10 {
        client.track_state_change("blob", None::<()>, "y".repeat(50_000), AccessType::Write);
    }
    client.flush().unwrap();
    assert!(receiver.wait_for_events(10));
    assert!(receiver.too_large() >= 1, "the first batch (about 500 KB) is over the limit");
    let stats = client.stats();
    assert_eq!((stats.sent, stats.failed, stats.dropped), (10, 0, 0), "split until it fits: {stats}");
    assert_eq!(receiver.events().len(), 10, "each event stored once");
}

#[test]
fn retry_after_seconds_is_honoured_even_by_a_flush() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Throttle { status: 429, retry_after: "2".into() });
    let client = client_for(&receiver, |_| {});
    for i in 0..5 {
        write(&client, i);
    }
    client.flush().unwrap(); // 429, Retry-After: 2
    client.flush().unwrap(); // waits for it: no attempt
    assert!(receiver.wait_for_events(5));
    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 2, "one retry");
    assert!(arrivals[1] - arrivals[0] >= Duration::from_secs(2), "waited {:?}", arrivals[1] - arrivals[0]);
}

#[test]
fn retry_after_as_an_http_date_is_capped_by_the_backoff_maximum() {
    let receiver = Receiver::start();
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    receiver.set_mode(Mode::Throttle { status: 503, retry_after: in_an_hour });
    let client = client_for(&receiver, |_| {});
    for i in 0..5 {
        write(&client, i);
    }
    client.flush().unwrap();
    // Retried on its own, within the backoff maximum (10 s), not in an hour.
    assert!(receiver.wait_for_events(5));
    let arrivals = receiver.arrivals();
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_secs(9) && waited < PATIENCE, "waited {waited:?}");
}

#[test]
fn a_stalled_shutdown_gives_up_within_flush_timeout_and_accounts_for_every_event() {
    let receiver = Receiver::start();
    receiver.set_mode(Mode::Stall);
    let client = client_for(&receiver, |c| {
        c.batch_size = 50;
        c.request_timeout = Duration::from_secs(120);
        c.flush_timeout = Duration::from_secs(1);
    });
    // The counters add up at every moment, while events are recorded and
    // the exporter works.
    let sampling = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut samples = 0u64;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let stats = client.stats();
                assert!(balanced(stats), "{stats}");
                samples += 1;
            }
            samples
        });
        for part in 0..2 {
            let client = &client;
            s.spawn(move || {
                for i in 0..5_000 {
                    write(client, part * 10_000 + i);
                }
            });
        }
        // The exporter is stuck in its first request.
        assert!(receiver.wait_until(|_, requests| requests >= 1));
        let started = Instant::now();
        let outcome = client.shutdown();
        let took = started.elapsed();
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(sampler.join().unwrap() > 0);
        let given_up = match outcome {
            Err(FlushError::GaveUp { events, timeout }) => {
                assert_eq!(timeout, Duration::from_secs(1));
                events
            }
            other => panic!("{other:?}"),
        };
        // The request in flight is cut short: not its 120 s request_timeout.
        assert!(took < Duration::from_secs(30), "shutdown took {took:?}");
        let stats = client.stats();
        assert_eq!(stats.pending, 0, "{stats}");
        assert!(balanced(stats), "{stats}");
        assert!(given_up > 0 && stats.failed >= given_up, "{given_up} given up: {stats}");
        assert_eq!(stats.sent, 0);
    });
    let text = FlushError::GaveUp { events: 7, timeout: Duration::from_secs(5) }.to_string();
    assert!(text.contains("7 events") && text.contains("RACEWAY_ENDPOINT") && text.contains("RACEWAY_FLUSH_TIMEOUT"));
}

#[test]
fn shutdown_with_the_collector_down_returns_within_the_default_flush_timeout() {
    let port = Receiver::free_port();
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::Http(format!("http://127.0.0.1:{port}"))),
        ..Config::default()
    })
    .unwrap();
    assert_eq!(client.config().flush_timeout, Duration::from_secs(5));
    for i in 0..100 {
        write(&client, i);
    }
    let started = Instant::now();
    let outcome = client.shutdown();
    let took = started.elapsed();
    assert!(matches!(outcome, Err(FlushError::GaveUp { events: 100, .. })), "{outcome:?}");
    assert!(took < Duration::from_secs(5) + Duration::from_secs(20), "shutdown took {took:?}");
    let stats = client.stats();
    assert_eq!((stats.failed, stats.pending, stats.sent), (100, 0, 0), "{stats}");
}

const PASSWORD: &str = "hunter2-url-secret";
const USER: &str = "raceway-url-user";
const KEY: &str = "key-3f9a-secret";

#[test]
#[ignore = "run in a child process by a_url_password_never_appears_in_any_output"]
fn child_credentials_in_every_output() {
    // Basic authentication from the URL reaches the server.
    let receiver = Receiver::start();
    let url = receiver.url().replace("http://", &format!("http://{USER}:{PASSWORD}@"));
    let client =
        RacewayClient::new(Config { endpoint: Some(Endpoint::parse(&url).unwrap()), debug: true, ..Config::default() })
            .unwrap();
    write(&client, 1);
    client.flush().unwrap();
    assert!(receiver.wait_for_events(1));
    let authorization = receiver.headers()[0]["authorization"].to_str().unwrap().to_string();
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(authorization, format!("Basic {expected}"));
    println!("config: {:?}", client.config());
    println!("client: {client:?}");
    println!("endpoint: {}", client.config().endpoint.as_ref().unwrap());
    // Rejected: 401 with a key, then a stalled shutdown, all in debug mode.
    receiver.set_mode(Mode::Fail { status: 401, times: 1000 });
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::parse(&url).unwrap()),
        api_key: Some(KEY.into()),
        debug: true,
        flush_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    write(&client, 2);
    client.flush().unwrap();
    assert_eq!(client.stats().failed, 1);
    println!("config: {:?}", client.config());
    receiver.set_mode(Mode::Stall);
    write(&client, 3);
    println!("shutdown: {:?}", client.shutdown().map_err(|e| e.to_string()));
    println!("stats: {}", client.stats());
    // And the collector down.
    let down = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}", Receiver::free_port());
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::parse(&down).unwrap()),
        debug: true,
        flush_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    write(&client, 4);
    let _ = client.flush();
    println!("shutdown: {:?}", client.shutdown());
    let bad = Config::from_lookup(|name| (name == "RACEWAY_ENDPOINT").then(|| format!("ftp://{USER}:{PASSWORD}@x")));
    println!("config error: {:?} / {}", bad.clone().unwrap_err(), bad.unwrap_err());
}

#[test]
fn a_url_password_never_appears_in_any_output() {
    let (passed, output) = run_ignored("child_credentials_in_every_output");
    assert!(passed, "{output}");
    for secret in [PASSWORD, USER, KEY] {
        assert!(!output.contains(secret), "{secret} printed:\n{output}");
    }
    assert!(output.contains("<redacted>"), "{output}");
    assert!(output.contains("401") && output.contains("RACEWAY_API_KEY"), "the 401 names RACEWAY_API_KEY:\n{output}");
    assert!(output.contains("RACEWAY_ENDPOINT") && output.contains("RACEWAY_FLUSH_TIMEOUT"), "{output}");
    assert!(output.contains("gave up"), "{output}");
}
