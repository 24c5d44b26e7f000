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
