//! Memory under a collector that is down: the growth of the process's
//! resident set while 2M events are recorded with the endpoint unreachable
//! (nothing listens on its port), so every batch fails and waits in the
//! bounded retry buffer, and the bounded channel drops what does not fit.
//!
//! Not a timing: it prints the RSS growth after each 500k events, and the
//! peak, and exits with an error when the growth passes the 64 MiB budget.
//! Run it with `cargo bench -p raceway --bench memory`.

use raceway::{AccessType, Config, Endpoint, RacewayClient};
use std::time::Duration;

const EVENTS: u64 = 2_000_000;
const BUDGET_MIB: f64 = 64.0;

/// A `/proc/self/status` field, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = RacewayClient::new(Config {
        endpoint: Some(Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap()),
        flush_interval: Duration::from_millis(50),
        request_timeout: Duration::from_millis(200),
        flush_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    // Warm up: the pipeline's buffers and the sender's runtime exist.
    for i in 0..10_000 {
        client.track_state_change("warm.up", i, i + 1, AccessType::Write);
    }
    std::thread::sleep(Duration::from_millis(200));
    let base = status_kib("VmRSS:");
    let mut worst = 0.0f64;
    for chunk in 0..4 {
        for i in 0..EVENTS as i64 / 4 {
            client.track_state_change("account.balance", i, i + 1, AccessType::Write);
        }
        let growth = mib(status_kib("VmRSS:").saturating_sub(base));
        worst = worst.max(growth);
        println!("after {:>9} events: RSS growth {growth:6.1} MiB", (chunk + 1) * EVENTS / 4);
    }
    let stats = client.stats();
    println!("counters: {stats}");
    println!(
        "RSS growth: at most {worst:.1} MiB over {EVENTS} events (budget {BUDGET_MIB} MiB); peak RSS {:.1} MiB",
        mib(status_kib("VmHWM:"))
    );
    drop(client);
    if worst > BUDGET_MIB {
        eprintln!("over budget");
        std::process::exit(1);
    }
}
