//! Traces across services: three real axum servers on 127.0.0.1 (a gateway
//! calling inventory and payments), the tower layer, `raceway::request`,
//! and the analysis of the merged events from the embedded collector,
//! JSON-lines files and a server's ingest.

use raceway::wire::{Event, EventKind};
use raceway::{Config, Endpoint, RaceKind, Report};
use raceway_tests::clocks::happens_before;
use raceway_tests::receiver::Receiver;
use raceway_tests::shop::Shop;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// `raceway::init` installs one client per process: the tests that use it
/// take turns.
static GLOBAL_CLIENT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SERVICES: [&str; 3] = ["gateway", "inventory", "payments"];

/// Runs one checkout through the three services with a client installed
/// with `config`.
async fn checkout_with(config: Config) -> raceway::RacewayGuard {
    let guard = raceway::init(Config { service_name: "shop".into(), ..config }).expect("raceway::init");
    let shop = Shop::start().await;
    let answer = shop.checkout().await;
    assert_eq!(answer, "reserved, charged, reserved=true");
    shop.stop().await;
    guard.flush().expect("flush");
    guard
}

fn of_services(events: Vec<Event>) -> Vec<Event> {
    events.into_iter().filter(|e| SERVICES.contains(&&*e.metadata.service_name)).collect()
}

fn state_change<'a>(events: &'a [Event], service: &str, variable: &str, write: bool) -> &'a Event {
    let found: Vec<&Event> = events
        .iter()
        .filter(|e| &*e.metadata.service_name == service)
        .filter(|e| {
            matches!(&e.kind, EventKind::StateChange { variable: v, access_type, .. }
                if v == variable && access_type.is_write() == write)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {} of {variable} in {service}", if write { "write" } else { "read" });
    found[0]
}

/// The verdict every route to the analysis must reach: the cross-service
/// lost update on the ledger, between inventory and payments, and nothing
/// on the order (ordered by the clocks the calls carried, both ways).
fn assert_cross_service_lost_update(report: &Report) {
    assert!(!report.is_clean(), "the cross-service lost update was missed");
    for race in report.races() {
        assert_eq!(race.variable(), "Ledger[acme].balance", "only the ledger races:\n{report}");
        assert_eq!(race.kind(), RaceKind::LostUpdate, "{report}");
        assert!(!race.also_unsynchronized(), "every ledger access is under the tracked lock:\n{report}");
        let services: BTreeSet<&str> = race.accesses().iter().map(|a| a.service.as_str()).collect();
        assert_eq!(services, BTreeSet::from(["inventory", "payments"]), "{report}");
        assert!(race.accesses().iter().all(|a| a.location.contains("shop.rs")), "{report}");
    }
}

/// One trace, the spans' parentage and the clocks joined both ways, read
/// off the events.
fn assert_trace_spans_and_clocks(events: &[Event]) {
    let traces: BTreeSet<_> = events.iter().map(|e| e.trace_id).collect();
    assert_eq!(traces.len(), 1, "one trace across the three services: {traces:?}");

    // Per service: its (distributed_span_id, upstream_span_id) pairs.
    type SpanPair<'a> = (Option<&'a str>, Option<&'a str>);
    let mut spans: BTreeMap<&str, BTreeSet<SpanPair>> = BTreeMap::new();
    for e in events {
        let m = &e.metadata;
        spans
            .entry(&*m.service_name)
            .or_default()
            .insert((m.distributed_span_id.as_deref(), m.upstream_span_id.as_deref()));
    }
    let only = |service: &str| {
        let set = &spans[service];
        assert_eq!(set.len(), 1, "{service} works in one span: {set:?}");
        *set.iter().next().unwrap()
    };
    let (gateway, gateway_upstream) = only("gateway");
    let gateway = gateway.expect("the gateway's span");
    assert_eq!(gateway_upstream, None, "the gateway's caller sent no trace headers");
    for downstream in ["inventory", "payments"] {
        let (span, upstream) = only(downstream);
        assert_eq!(upstream, Some(gateway), "{downstream} is called from the gateway's span");
        assert_ne!(span, Some(gateway), "{downstream} works in a span of its own");
        assert_eq!(span.unwrap().len(), 16);
    }

    // The gateway's two calls and its own response, each with a duration.
    let responses: Vec<_> = events
        .iter()
        .filter(|e| &*e.metadata.service_name == "gateway" && matches!(e.kind, EventKind::HttpResponse { .. }))
        .collect();
    assert_eq!(responses.len(), 3, "two calls and the gateway's own response");
    assert!(responses.iter().all(|e| e.metadata.duration_ns.is_some_and(|d| d > 0)));

    // Forward: the gateway's write happens before inventory's read.
    let placed = state_change(events, "gateway", "Order[o-1].status", true);
    let read = state_change(events, "inventory", "Order[o-1].status", false);
    assert!(happens_before(placed, read), "the call's raceway-clock orders the gateway's write first");
    // Back: inventory's write happens before the gateway's read after the
    // response.
    let reserved = state_change(events, "inventory", "Order[o-1].reserved", true);
    let seen = state_change(events, "gateway", "Order[o-1].reserved", false);
    assert!(happens_before(reserved, seen), "the response's raceway-clock orders inventory's write first");
    // The two downstream requests start concurrently with each other, each
    // after the gateway's write.
    let started = |service: &str| {
        events
            .iter()
            .find(|e| &*e.metadata.service_name == service && matches!(e.kind, EventKind::HttpRequest { .. }))
            .expect("the request's first event")
    };
    let (inventory, payments) = (started("inventory"), started("payments"));
    assert!(!happens_before(inventory, payments) && !happens_before(payments, inventory));
    assert!(happens_before(placed, payments));
}

async fn embedded() {
    let _turn = GLOBAL_CLIENT.lock().await;
    let guard = checkout_with(Config::default()).await;
    let events = of_services(guard.collected_events());
    assert_trace_spans_and_clocks(&events);
    assert_cross_service_lost_update(&guard.report());
}

#[tokio::test(flavor = "current_thread")]
async fn three_services_embedded_current_thread() {
    embedded().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_services_embedded_multi_thread() {
    embedded().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_services_through_json_lines_files() {
    let _turn = GLOBAL_CLIENT.lock().await;
    let dir = std::env::temp_dir().join(format!("raceway-distributed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let all = dir.join("all.jsonl");
    let guard = checkout_with(Config { endpoint: Some(Endpoint::File(all.clone())), ..Config::default() }).await;
    drop(guard);
    // One file per service, as three processes would write them.
    let lines = std::fs::read_to_string(&all).unwrap();
    let mut files: BTreeMap<String, std::fs::File> = BTreeMap::new();
    for line in lines.lines() {
        let event: Event = serde_json::from_str(line).expect("each line is an event");
        let service = event.metadata.service_name.to_string();
        if SERVICES.contains(&service.as_str()) {
            let file = files
                .entry(service.clone())
                .or_insert_with(|| std::fs::File::create(dir.join(service + ".jsonl")).unwrap());
            writeln!(file, "{line}").unwrap();
        }
    }
    drop(files);
    let mut events = Vec::new();
    for service in SERVICES {
        let text = std::fs::read_to_string(dir.join(format!("{service}.jsonl"))).unwrap();
        events.extend(text.lines().map(|l| serde_json::from_str::<Event>(l).unwrap()));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_trace_spans_and_clocks(&events);
    assert_cross_service_lost_update(&raceway::analyzer::analyze(events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_services_through_a_server() {
    let _turn = GLOBAL_CLIENT.lock().await;
    let receiver = Receiver::start();
    let endpoint = Endpoint::parse(&receiver.url()).unwrap();
    drop(checkout_with(Config { endpoint: Some(endpoint), ..Config::default() }).await);
    // What the server ingested (every batch passed its schema), read back
    // as events.
    let events: Vec<Event> =
        receiver.events().into_iter().map(|v| serde_json::from_value(v).expect("an ingested event")).collect();
    let events = of_services(events);
    assert_trace_spans_and_clocks(&events);
    assert_cross_service_lost_update(&raceway::analyzer::analyze(events));
}
