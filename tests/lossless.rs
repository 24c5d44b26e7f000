//! Nothing lost in silence: a `raceway::check` session never drops an
//! event (recording waits for the analysis), and a report that missed
//! events says so.

use raceway::{check, thread, tracked, Config, Overflow, RacewayClient};

/// Two threads each make `n` tracked writes as fast as they can: far
/// faster than the analysis, so the hand-off fills up many times over.
fn burst(n: u64) {
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || {
                let mut x = 0u64;
                for i in 0..n {
                    tracked!(x = i);
                }
                x
            });
        }
    });
}

#[test]
fn a_check_session_analyzes_every_event_of_a_burst() {
    const N: u64 = 1_000_000;
    let report = check(|| burst(N));
    assert_eq!(report.events_dropped(), 0);
    // Each write of the two threads, plus each thread's spawn and join.
    let accesses = report.events_analyzed() - 4;
    assert_eq!(accesses, 2 * N, "{report}");
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_client_that_blocks_delivers_everything_and_one_that_drops_says_so() {
    for overflow in [Overflow::Block, Overflow::Drop] {
        let client = RacewayClient::new(Config {
            channel_capacity: 64,
            overflow: Some(overflow),
            embedded_capacity: 0,
            ..Config::default()
        })
        .unwrap();
        thread::scope(|s| {
            for _ in 0..2 {
                let client = client.clone();
                s.spawn(move || {
                    for i in 0..100_000i64 {
                        client.track_state_change("x", i, i + 1, raceway::AccessType::Write);
                    }
                });
            }
        });
        let report = client.report();
        let stats = client.stats();
        assert_eq!(stats.accepted, 200_000, "{stats}");
        assert_eq!(report.events_dropped(), stats.dropped, "{stats}");
        assert_eq!(report.events_analyzed() + report.events_dropped(), 200_000, "{stats}");
        match overflow {
            Overflow::Block => assert_eq!(stats.dropped, 0, "{stats}"),
            _ => {
                if stats.dropped > 0 {
                    let text = report.to_string();
                    assert!(text.contains("events were dropped: these verdicts are incomplete"), "{text}");
                    assert!(report.to_json().contains(&format!("\"events_dropped\": {}", stats.dropped)));
                }
            }
        }
    }
}
