//! Clock size at scale: clocks are bounded by the executions alive at
//! once, not by those ever created, and the outgoing `raceway-clock`
//! header stays within its 8 KiB cap. Sizes, not timings.

use raceway::sync::Mutex;
use raceway::wire::{Event, EventKind};
use raceway::{tracked, RaceKind};
use std::cell::UnsafeCell;
use std::sync::Arc;

const REQUESTS: usize = 10_000;

/// One installed client or check at a time.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
const CONCURRENT: usize = 16;

/// The clock length of the write of request `i` (named `GET /work/{i}`).
fn write_clock_len(events: &[Event], i: usize) -> usize {
    let prefix = format!("GET /work/{i}#");
    let write = events
        .iter()
        .find(|e| {
            e.metadata.thread_id.starts_with(&prefix)
                && matches!(&e.kind, EventKind::StateChange { access_type, .. } if access_type.is_write())
        })
        .unwrap_or_else(|| panic!("request {i} wrote"));
    write.causality_vector.len()
}

async fn work(counter: Arc<Mutex<i64>>) {
    let mut guard = counter.lock().unwrap();
    let value: &mut i64 = &mut guard;
    let seen = tracked!(*value);
    tracked!(*value = seen + 1);
}

/// Runs `REQUESTS` requests through one lock, `concurrent` at a time, and
/// returns the events.
fn requests_through_one_lock(concurrent: usize) -> Vec<Event> {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Every event kept: none dropped, all retained for inspection.
    let config = raceway::Config {
        service_name: "clocks".into(),
        overflow: Some(raceway::Overflow::Block),
        embedded_capacity: 1 << 20,
        predict: false,
        flush_timeout: std::time::Duration::from_secs(300),
        ..raceway::Config::default()
    };
    let guard = raceway::init(config).expect("init");
    let () = {
        runtime.block_on(raceway::task::request("GET", "/main", async {
            let counter = Arc::new(Mutex::new(0i64));
            for wave in 0..REQUESTS / concurrent {
                // Requests run concurrently, as tasks that a server spawns
                // and joins.
                let handles: Vec<_> = (0..concurrent)
                    .map(|k| {
                        let i = wave * concurrent + k + 1;
                        let counter = counter.clone();
                        raceway::task::spawn(async move {
                            raceway::task::request("GET", &format!("/work/{i}"), work(counter)).await
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
            assert_eq!(*counter.lock().unwrap(), REQUESTS as i64);
        }))
    };
    guard.flush().expect("flush");
    assert_eq!(guard.stats().dropped, 0);
    let events = guard.collected_events();
    drop(guard);
    events
}

#[test]
fn the_10000th_request_through_a_shared_lock_has_a_clock_no_bigger_than_the_10th() {
    let events = requests_through_one_lock(1);
    let (tenth, last) = (write_clock_len(&events, 10), write_clock_len(&events, REQUESTS));
    assert!(last <= tenth, "the 10,000th request's clock has {last} entries, the 10th's {tenth}");
}

#[test]
fn concurrent_requests_through_a_shared_lock_keep_clocks_as_small_as_after_ten_waves() {
    let events = requests_through_one_lock(CONCURRENT);
    // The first wave makes the slots; from then on they are reused.
    let (tenth_wave, last) = (write_clock_len(&events, 10 * CONCURRENT), write_clock_len(&events, REQUESTS));
    assert!(last <= tenth_wave, "the 10,000th request's clock has {last} entries, the 160th's {tenth_wave}");
    // Live at once: the main request, 16 tasks, 16 requests, a few threads.
    assert!(last <= 2 * CONCURRENT + 8, "{last} entries");
    // Every clock of the run stays that small: no event lists every request.
    let longest = events.iter().map(|e| e.causality_vector.len()).max().unwrap();
    assert!(longest <= 2 * CONCURRENT + 8, "an event lists {longest} components");
}

/// A variable shared without synchronization of its own.
struct Shared(UnsafeCell<i64>);

// SAFETY: the accesses are plain writes of an aligned i64; the racy ones are
// the point of the test.
unsafe impl Sync for Shared {}

fn write(data: &Shared, value: i64) {
    // SAFETY: see the `Sync` impl.
    let v = unsafe { &mut *data.0.get() };
    tracked!(*v = value);
}

#[test]
fn reused_components_keep_every_verdict_of_joined_executions() {
    // Tasks joined one after the other reuse one slot: their writes are
    // ordered through the joins (no race); two concurrent ones race,
    // whatever slots they took.
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let data = Arc::new(Shared(UnsafeCell::new(0)));
    let report = raceway::check(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for value in 0..4 {
                let data = data.clone();
                raceway::task::spawn(async move { write(&data, value) }).await.unwrap();
            }
            let (d1, d2) = (data.clone(), data.clone());
            let a = raceway::task::spawn(async move { write(&d1, 10) });
            let b = raceway::task::spawn(async move { write(&d2, 11) });
            a.await.unwrap();
            b.await.unwrap();
        });
    });
    let kinds: Vec<RaceKind> = report.races().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, [RaceKind::DataRace], "{report}");
}

/// A service whose handler updates one shared counter under one
/// `raceway::sync::Mutex`, behind `RacewayLayer`, on 127.0.0.1: its
/// requests are roots that nothing joins. `/pair/{i}` writes the shared
/// variable without a lock, then waits at `pair` (a plain tokio barrier
/// of 2: nothing recorded orders the two requests that meet there).
fn served(counter: Arc<Mutex<i64>>, data: Arc<Shared>, pair: Arc<tokio::sync::Barrier>) -> axum::Router {
    use axum::extract::{Path, State};
    type All = State<(Arc<Mutex<i64>>, Arc<Shared>, Arc<tokio::sync::Barrier>)>;
    axum::Router::new()
        .route(
            "/work/{i}",
            axum::routing::get(|State((counter, _, _)): All, Path(_i): Path<u64>| async move {
                work(counter).await;
                "ok"
            }),
        )
        .route(
            "/unlocked/{i}",
            axum::routing::get(|State((_, data, _)): All, Path(i): Path<i64>| async move {
                write(&data, i);
                "ok"
            }),
        )
        .route(
            "/locked/{i}",
            axum::routing::get(|State((counter, data, _)): All, Path(i): Path<i64>| async move {
                let _guard = counter.lock().unwrap();
                write(&data, i);
                "ok"
            }),
        )
        .route(
            "/detached/{i}",
            axum::routing::get(|State((counter, _, _)): All, Path(_i): Path<u64>| async move {
                // A task nobody joins: its handle is dropped at once.
                drop(raceway::task::spawn(work(counter)));
                "ok"
            }),
        )
        .route(
            "/pair/{i}",
            axum::routing::get(|State((_, data, pair)): All, Path(i): Path<i64>| async move {
                write(&data, i);
                pair.wait().await;
                "ok"
            }),
        )
        .with_state((counter, data, pair))
        .layer(raceway::layer::RacewayLayer::new().service_name("clocks"))
}

/// Sends `REQUESTS` requests through the layer, `concurrent` at a time
/// (one keep-alive connection each), and flushes after every wave, so
/// that the analysis has seen the ended requests before the next ones;
/// returns the events.
fn layer_requests_through_one_lock(concurrent: usize) -> Vec<Event> {
    let paths = (1..=REQUESTS).map(|i| format!("/work/{i}"));
    let (events, report) = through_the_layer(paths, concurrent);
    assert!(report.is_clean(), "every update is under the lock: {report}");
    events
}

/// Serves the requests for `paths` through [`served`], `concurrent` at a
/// time (one keep-alive connection each), calling `flush` after every
/// wave. Every request succeeds, and the counter counts the locked ones.
fn serve(paths: impl Iterator<Item = String>, concurrent: usize, flush: impl Fn()) {
    let server_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let counter = Arc::new(Mutex::new(0i64));
    let data = Arc::new(Shared(UnsafeCell::new(0)));
    let pair = Arc::new(tokio::sync::Barrier::new(2));
    let server = server_runtime.block_on(raceway_tests::server::Server::start(served(counter.clone(), data, pair)));
    let client_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let clients: Vec<reqwest::Client> = (0..concurrent).map(|_| reqwest::Client::new()).collect();
    let paths: Vec<String> = paths.collect();
    for wave in paths.chunks(concurrent) {
        client_runtime.block_on(async {
            let sent = clients.iter().zip(wave).map(|(client, path)| {
                let url = format!("{}{path}", server.url);
                async move { client.get(url).send().await.expect("the request is served").status() }
            });
            for status in futures_util::future::join_all(sent).await {
                assert!(status.is_success(), "{status}");
            }
        });
        flush();
    }
    server_runtime.block_on(server.stop());
    // The detached tasks' updates, which their requests did not wait for.
    let detached = paths.iter().filter(|p| p.starts_with("/detached/")).count() as i64;
    while detached > 0 && *counter.lock().unwrap() < detached {
        std::thread::yield_now();
    }
    let locked = paths.iter().filter(|p| p.starts_with("/work/") || p.starts_with("/detached/")).count();
    assert_eq!(*counter.lock().unwrap(), locked as i64);
}

/// The embedded default installed, waiting for room rather than dropping
/// and keeping every event, so that the figures are those of a complete
/// run.
fn embedded_default() -> raceway::RacewayGuard {
    let config = raceway::Config {
        service_name: "clocks".into(),
        overflow: Some(raceway::Overflow::Block),
        embedded_capacity: 1 << 20,
        flush_timeout: std::time::Duration::from_secs(300),
        ..raceway::Config::default()
    };
    raceway::init(config).expect("init")
}

/// Sends the requests for `paths` through the layer, `concurrent` at a
/// time, flushing after every wave; the events and the report.
fn through_the_layer(paths: impl Iterator<Item = String>, concurrent: usize) -> (Vec<Event>, raceway::Report) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let guard = embedded_default();
    serve(paths, concurrent, || guard.flush().expect("flush"));
    guard.flush().expect("flush");
    let stats = guard.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    let report = guard.report();
    let events = guard.collected_events();
    drop(guard);
    (events, report)
}

#[test]
fn the_10000th_request_through_the_layer_and_a_shared_lock_has_a_clock_no_bigger_than_the_10th() {
    let events = layer_requests_through_one_lock(1);
    let (tenth, last) = (write_clock_len(&events, 10), write_clock_len(&events, REQUESTS));
    let longest = events.iter().map(|e| e.causality_vector.len()).max().unwrap();
    eprintln!("clock entries through the layer, one at a time: 10th {tenth}, 10,000th {last}, longest {longest}");
    assert!(last <= tenth, "the 10,000th request's clock has {last} entries, the 10th's {tenth}");
    assert!(longest <= 8, "an event lists {longest} components");
}

#[test]
fn concurrent_requests_through_the_layer_and_a_shared_lock_keep_clocks_bounded_by_those_alive() {
    let events = layer_requests_through_one_lock(CONCURRENT);
    let (tenth_wave, last) = (write_clock_len(&events, 10 * CONCURRENT), write_clock_len(&events, REQUESTS));
    // A wave's requests, those of the wave before that the analysis still
    // remembers, the server's own executions.
    let bound = 2 * CONCURRENT + 8;
    let longest = events.iter().map(|e| e.causality_vector.len()).max().unwrap();
    eprintln!("clock entries through the layer, 16 at a time: 160th {tenth_wave}, 10,000th {last}, longest {longest}");
    assert!(tenth_wave <= bound && last <= bound, "the 160th request's clock has {tenth_wave}, the 10,000th's {last}");
    assert!(longest <= bound, "an event lists {longest} components");
}

/// `{route}/1`, 500 requests through the shared lock, then `{route}/2`.
fn around_500_locked_requests(route: &str) -> impl Iterator<Item = String> {
    let first = std::iter::once(format!("{route}/1"));
    first.chain((1..=500).map(|i| format!("/work/{i}"))).chain(std::iter::once(format!("{route}/2")))
}

#[test]
fn a_write_the_analysis_still_remembers_races_with_a_request_served_long_after() {
    // The first request's unsynchronized write stays the variable's last
    // write while hundreds of requests go through the lock and retire:
    // its component stays, and the last request's write races with it.
    let (_, report) = through_the_layer(around_500_locked_requests("/unlocked"), 1);
    let races: Vec<(RaceKind, bool, String)> =
        report.races().iter().map(|r| (r.kind(), r.is_predicted(), r.accesses()[0].execution.clone())).collect();
    assert_eq!(races.len(), 1, "{report}");
    assert_eq!(races[0].0, RaceKind::DataRace, "{report}");
    assert!(!races[0].1, "the two writes are not ordered: an observed race, {report}");
    assert!(races[0].2.starts_with("GET /unlocked/1#"), "{report}");
}

#[test]
fn a_write_ordered_through_the_lock_long_before_stays_ordered_after_hundreds_of_requests_retire() {
    // The first request writes under the lock; hundreds of requests go
    // through the lock and retire; the last one writes under the lock
    // again. The first write is still remembered, so its component stays
    // in the clocks and the lock orders the two: no race.
    let (events, report) = through_the_layer(around_500_locked_requests("/locked"), 1);
    assert!(report.is_clean(), "{report}");
    let longest = events.iter().map(|e| e.causality_vector.len()).max().unwrap();
    assert!(longest <= 8, "an event lists {longest} components");
}

/// What these tests read of an event the Raceway server received.
struct Received {
    thread: String,
    /// The value written to the shared variable or the counter, for a
    /// write.
    wrote: Option<i64>,
    clock: Vec<(String, u64)>,
}

impl Received {
    /// Its own component: the last of its clock.
    fn own(&self) -> (&str, u64) {
        let (component, n) = self.clock.last().expect("every event carries its clock");
        (component, *n)
    }

    fn happens_before(&self, later: &Received) -> bool {
        let (component, n) = self.own();
        later.clock.iter().any(|(c, m)| c == component && *m >= n)
    }

    /// The write of request `GET {path}`.
    fn write_of<'a>(events: &'a [Received], path: &str) -> &'a Received {
        let prefix = format!("GET {path}#");
        events
            .iter()
            .find(|e| e.thread.starts_with(&prefix) && e.wrote.is_some())
            .unwrap_or_else(|| panic!("request {path} wrote"))
    }
}

/// Sends the requests for `paths` through the layer, `concurrent` at a
/// time, with the HTTP sink to a receiver standing in for the Raceway
/// server on 127.0.0.1: its analysis is elsewhere, so nothing retires
/// and ended requests' slots are reused. What the receiver got.
fn to_the_server(paths: impl Iterator<Item = String>, concurrent: usize) -> Vec<Received> {
    use raceway_tests::schema::{ServerAccessType, ServerKind};
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let receiver = raceway_tests::receiver::Receiver::start();
    let config = raceway::Config {
        service_name: "clocks".into(),
        endpoint: Some(raceway::Endpoint::Http(receiver.url())),
        overflow: Some(raceway::Overflow::Block),
        flush_timeout: std::time::Duration::from_secs(300),
        ..raceway::Config::default()
    };
    let guard = raceway::init(config).expect("init");
    serve(paths, concurrent, || {});
    guard.flush().expect("flush");
    let stats = guard.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    drop(guard);
    assert_eq!(receiver.schema_errors(), Vec::<String>::new());
    receiver.with_typed(|events| {
        events
            .iter()
            .map(|e| Received {
                thread: e.metadata.thread_id.clone(),
                wrote: match &e.kind {
                    ServerKind::StateChange { new_value, access_type: ServerAccessType::Write, .. } => {
                        new_value.as_i64()
                    }
                    _ => None,
                },
                clock: e.causality_vector.clone(),
            })
            .collect()
    })
}

/// The distinct own components of the events: the slots used.
fn slots_used(events: &[Received]) -> usize {
    events.iter().map(|e| e.own().0).collect::<std::collections::HashSet<_>>().len()
}

#[test]
fn the_10000th_request_to_the_server_through_a_shared_lock_has_a_clock_no_bigger_than_the_10th() {
    let events = to_the_server((1..=REQUESTS).map(|i| format!("/work/{i}")), 1);
    let (tenth, last) = (Received::write_of(&events, "/work/10"), Received::write_of(&events, "/work/10000"));
    let longest = events.iter().map(|e| e.clock.len()).max().unwrap();
    eprintln!(
        "clock entries to the server, one at a time: 10th {}, 10,000th {}, longest {longest}, slots {}",
        tenth.clock.len(),
        last.clock.len(),
        slots_used(&events)
    );
    assert!(last.clock.len() <= tenth.clock.len(), "10,000th: {}, 10th: {}", last.clock.len(), tenth.clock.len());
    assert!(longest <= 8, "an event lists {longest} components");
    // Every update is under the lock, which orders them all.
    assert!(tenth.happens_before(last));
}

#[test]
fn concurrent_requests_to_the_server_through_a_shared_lock_keep_clocks_bounded_by_those_alive() {
    let events = to_the_server((1..=REQUESTS).map(|i| format!("/work/{i}")), CONCURRENT);
    let last = Received::write_of(&events, &format!("/work/{REQUESTS}"));
    let longest = events.iter().map(|e| e.clock.len()).max().unwrap();
    let slots = slots_used(&events);
    eprintln!(
        "clock entries to the server, 16 at a time: 10,000th {}, longest {longest}, slots {slots}",
        last.clock.len()
    );
    // A wave's requests and the server's own executions (a request of the
    // next wave may start before the one whose slot it would take ends).
    let bound = 2 * CONCURRENT + 8;
    assert!(longest <= bound, "an event lists {longest} components");
    assert!(slots <= bound, "{slots} slots for {REQUESTS} requests");
}

#[test]
fn requests_to_the_server_that_overlap_stay_unordered_in_reused_slots() {
    // Hundreds of requests end and free their slots; then two requests
    // overlap (each writes without a lock, then waits for the other at a
    // barrier raceway does not see). Both take reused slots, yet neither
    // write is ordered before the other: the server sees the race.
    let paths = (1..=500).map(|i| format!("/work/{i}")).chain(["/pair/1".to_string(), "/pair/2".to_string()]);
    let events = to_the_server(paths, 2);
    let (one, two) = (Received::write_of(&events, "/pair/1"), Received::write_of(&events, "/pair/2"));
    assert!(slots_used(&events) <= 2 + 8, "the requests reused slots: {} used", slots_used(&events));
    assert_ne!(one.own().0, two.own().0, "two requests that overlap share no slot");
    assert!(!one.happens_before(two) && !two.happens_before(one), "{:?} / {:?}", one.clock, two.clock);
}

#[test]
fn a_write_ordered_through_the_lock_stays_ordered_for_the_server_after_hundreds_of_requests_reuse_slots() {
    let paths = std::iter::once("/locked/1".to_string())
        .chain((1..=500).map(|i| format!("/work/{i}")))
        .chain(std::iter::once("/locked/2".to_string()));
    let events = to_the_server(paths, 1);
    let (first, last) = (Received::write_of(&events, "/locked/1"), Received::write_of(&events, "/locked/2"));
    assert!(first.happens_before(last), "{:?} / {:?}", first.clock, last.clock);
    let longest = events.iter().map(|e| e.clock.len()).max().unwrap();
    assert!(longest <= 8, "an event lists {longest} components");
}

#[test]
fn requests_to_a_file_keep_their_own_slots_so_that_the_analysis_later_finds_their_race() {
    // Serial requests through the layer to a `file://` endpoint, the first
    // two writing the shared variable without a lock: nothing orders them,
    // and `raceway analyze` (here its analyzer) must find their race,
    // which the second continuing the first one's slot would have hidden.
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("raceway-clocks-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.jsonl");
    let _ = std::fs::remove_file(&path);
    let config = raceway::Config {
        service_name: "clocks".into(),
        endpoint: Some(raceway::Endpoint::File(path.clone())),
        flush_timeout: std::time::Duration::from_secs(300),
        ..raceway::Config::default()
    };
    let guard = raceway::init(config).expect("init");
    let paths = (1..=2).map(|i| format!("/unlocked/{i}")).chain((1..=50).map(|i| format!("/work/{i}")));
    serve(paths, 1, || {});
    guard.flush().expect("flush");
    assert_eq!(guard.stats().dropped, 0, "{}", guard.stats());
    drop(guard);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let events: Vec<Event> = text.lines().map(|line| serde_json::from_str(line).expect("an event")).collect();
    let own: std::collections::HashSet<&str> =
        events.iter().filter_map(|e| e.causality_vector.last()).map(|(c, _)| &**c).collect();
    assert!(own.len() >= 52, "every request has a slot of its own: {} slots", own.len());
    let report = raceway::analyzer::analyze(events);
    let races: Vec<(RaceKind, bool)> = report.races().iter().map(|r| (r.kind(), r.is_predicted())).collect();
    // Not ordered by any recorded edge: a race that happened, as through
    // the embedded analysis.
    assert_eq!(races, [(RaceKind::DataRace, false)], "{report}");
}

/// The clock length of the counter's write of `value` (the updates are
/// serialized by the lock: the `value`th update writes `value`).
fn counter_write_clock_len(events: &[Event], value: i64) -> usize {
    let write = events
        .iter()
        .find(|e| {
            matches!(&e.kind, EventKind::StateChange { access_type, new_value, variable, .. }
                if access_type.is_write() && new_value.to_json() == value && variable.starts_with("*value"))
        })
        .unwrap_or_else(|| panic!("an update wrote {value}"));
    write.causality_vector.len()
}

/// Detached tasks (handles dropped) spawned by requests, one request at a
/// time.
const DETACHED: i64 = 2_000;

#[test]
fn detached_tasks_of_requests_through_a_shared_lock_leave_the_clocks_once_they_end() {
    // Each request spawns a task that updates the counter under the shared
    // lock, and drops its handle: nobody joins those tasks, so their slots
    // are freed when they end and retire, instead of staying in every
    // clock that learns through the lock.
    let (events, report) = through_the_layer((1..=DETACHED).map(|i| format!("/detached/{i}")), 1);
    assert!(report.is_clean(), "every update is under the lock: {report}");
    let (tenth, last) = (counter_write_clock_len(&events, 10), counter_write_clock_len(&events, DETACHED));
    eprintln!("clock entries of detached tasks' updates: 10th {tenth}, {DETACHED}th {last}");
    assert!(last <= tenth + 2, "the {DETACHED}th detached task's update lists {last} components, the 10th's {tenth}");
}

#[test]
fn detached_tasks_of_requests_to_the_server_reuse_slots_once_they_end() {
    let events = to_the_server((1..=DETACHED).map(|i| format!("/detached/{i}")), 1);
    let longest = events.iter().map(|e| e.clock.len()).max().unwrap();
    let slots = slots_used(&events);
    eprintln!("detached tasks to the server: longest clock {longest}, slots {slots}");
    assert!(slots <= 16, "{slots} slots for {DETACHED} requests and their tasks");
    assert!(longest <= 16, "an event lists {longest} components");
}

#[test]
fn detached_threads_through_a_shared_lock_leave_the_clocks_once_they_end() {
    // Threads spawned one after the other, each updating the counter under
    // the shared lock, whose handles are dropped: nobody joins them.
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let guard = embedded_default();
    let counter = Arc::new(Mutex::new(0i64));
    let done = Arc::new(std::sync::atomic::AtomicI64::new(0));
    for i in 1..=500 {
        let (counter, finished) = (counter.clone(), done.clone());
        drop(raceway::thread::spawn(move || {
            let mut guard = counter.lock().unwrap();
            let value: &mut i64 = &mut guard;
            let seen = tracked!(*value);
            tracked!(*value = seen + 1);
            drop(guard);
            finished.store(i, std::sync::atomic::Ordering::Release);
        }));
        // Not a recorded edge: the threads stay unordered but for the lock.
        while done.load(std::sync::atomic::Ordering::Acquire) < i {
            std::thread::yield_now();
        }
        guard.flush().expect("flush");
    }
    let report = guard.report();
    let events = guard.collected_events();
    drop(guard);
    assert!(report.is_clean(), "{report}");
    let (tenth, last) = (counter_write_clock_len(&events, 10), counter_write_clock_len(&events, 500));
    eprintln!("clock entries of detached threads' updates: 10th {tenth}, 500th {last}");
    assert!(last <= tenth + 2, "the 500th detached thread's update lists {last} components, the 10th's {tenth}");
}
