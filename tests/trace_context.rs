//! The propagation-header codec against the cases another Raceway SDK
//! produced (`tests/data/trace-context-vectors.json`, a copy of
//! `shared/trace-context-vectors.json`), the W3C rules that are stricter
//! than those SDKs, and properties over arbitrary input.

use proptest::prelude::*;
use raceway::trace_context::{decode, encode, Outgoing, MAX_CLOCK_ENTRIES, MAX_TRACESTATE_MEMBERS};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/trace-context-vectors.json")).unwrap()
}

fn span(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap(), 16).unwrap()
}

fn clock(v: &Value) -> Vec<(String, u64)> {
    v.as_array().unwrap().iter().map(|e| (e[0].as_str().unwrap().to_string(), e[1].as_u64().unwrap())).collect()
}

#[test]
fn encoding_is_byte_identical_to_the_other_sdks() {
    for case in vectors()["encode"].as_array().unwrap() {
        let input = &case["input"];
        let before = clock(&input["clock_vector"]);
        let encoded = encode(&Outgoing {
            trace_id: input["trace_id"].as_str().unwrap().parse().unwrap(),
            current_span_id: span(&input["current_span_id"]),
            child_span_id: span(&input["child_span_id"]),
            tracestate: input["tracestate"].as_str(),
            trace_flags: 1,
            clock: &before,
            service: input["service_name"].as_str().unwrap(),
            instance: input["instance_id"].as_str().unwrap(),
        });
        let expected = case["headers"].as_object().unwrap();
        assert_eq!(encoded.headers.len(), expected.len(), "{case}");
        for (name, value) in &encoded.headers {
            assert_eq!(Some(value.as_str()), expected[*name].as_str(), "header {name} of {case}");
        }
        assert_eq!(encoded.clock_after, clock(&case["clock_vector_after"]));
    }
}

#[test]
fn decoding_matches_every_case() {
    for case in vectors()["decode"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let headers: Vec<(String, String)> = case["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let got = decode(
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            case["service_name"].as_str().unwrap(),
            case["instance_id"].as_str().unwrap(),
        );
        let want = &case["expect"];
        let opt_span = |v: &Value| v.as_str().map(|s| u64::from_str_radix(s, 16).unwrap());
        assert_eq!(got.span_id, opt_span(&want["span_id"]), "{name}");
        assert_eq!(got.parent_span_id, opt_span(&want["parent_span_id"]), "{name}");
        assert_eq!(got.tracestate.as_deref(), want["tracestate"].as_str(), "{name}");
        assert_eq!(got.clock, clock(&want["clock_vector"]), "{name}");
        assert_eq!(got.distributed, want["distributed"].as_bool().unwrap(), "{name}");
        assert_eq!(got.trace_id.map(|t| t.hyphenated().to_string()).as_deref(), want["trace_id"].as_str(), "{name}");
        assert_eq!(got.problems.is_empty(), !name.starts_with("malformed"), "{name}: {:?}", got.problems);
    }
}

fn parent_of(traceparent: &str) -> Option<u64> {
    decode([("traceparent", traceparent)], "svc", "1").span_id
}

#[test]
fn w3c_rules_stricter_than_the_sdks() {
    let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert!(parent_of(ok).is_some());
    assert_eq!(parent_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), None, "all-zero trace id");
    assert_eq!(parent_of("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), None, "all-zero span id");
    assert_eq!(parent_of("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), None, "version ff");
    assert_eq!(parent_of("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), None, "uppercase hex");
    assert_eq!(parent_of(&format!("{ok}-extra")), None, "version 00 has four fields");
    assert!(
        parent_of("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-brings").is_some(),
        "a higher version is read by its first four fields"
    );
    let flags = |f: &str| decode([("traceparent", format!("{}-{f}", &ok[..52]).as_str())], "s", "1").trace_flags;
    assert_eq!(flags("00"), Some(0), "trace flags are kept");
    assert_eq!(flags("02"), Some(2), "Level 2's random-trace-id flag is kept");
    assert_eq!(flags("ff"), Some(3), "unknown flags are zeroed");

    let many: Vec<String> = (0..40).map(|i| format!("k{i}=v{i}")).collect();
    let got = decode([("traceparent", ok), ("tracestate", &format!(" ,{}, ,", many.join(" , ")))], "s", "1");
    assert_eq!(got.tracestate, None, "more than 32 members: discarded whole");
    assert!(!got.problems.is_empty());
    let most = &many[..MAX_TRACESTATE_MEMBERS];
    let got = decode([("traceparent", ok), ("tracestate", &most.join(","))], "s", "1");
    assert_eq!(got.tracestate.as_deref(), Some(most.join(",").as_str()), "32 members are fine");
}

fn tracestate_of(fields: &[&str]) -> Option<String> {
    let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let headers = std::iter::once(("traceparent", ok)).chain(fields.iter().map(|f| ("TraceState", *f)));
    decode(headers, "s", "1").tracestate
}

#[test]
fn tracestate_fields_are_combined_and_validated_whole() {
    assert_eq!(tracestate_of(&["foo=1,bar=2", "rojo=1", "", "baz=3"]).as_deref(), Some("foo=1,bar=2,rojo=1,baz=3"));
    assert_eq!(tracestate_of(&["", "foo=1"]).as_deref(), Some("foo=1"), "an empty field is fine");
    assert_eq!(tracestate_of(&[""]), None);
    assert_eq!(tracestate_of(&["foo=1 \t , \t bar=2,\tbaz=3 "]).as_deref(), Some("foo=1,bar=2,baz=3"));
    assert_eq!(tracestate_of(&["foo=1,foo=2"]).as_deref(), Some("foo=1"), "a duplicated key keeps its first");
    // One invalid member discards the list, whichever field it came in.
    for bad in ["foo=bar=baz", "foo=,bar=3", "@foo=1", "FOO=1", "foo =1", "foo.bar=1", "foo=1\x7f"] {
        assert_eq!(tracestate_of(&["ok=1", bad]), None, "{bad:?}");
    }
    // Level 2 keys: '@' anywhere but first, 256 characters at most.
    for good in ["foo@=1", "foo@@bar=1", "foo@bar@baz=1", &format!("{}=1", "z".repeat(256))] {
        assert_eq!(tracestate_of(&["a=1", good]).as_deref(), Some(format!("a=1,{good}").as_str()));
    }
    assert_eq!(tracestate_of(&["a=1", &format!("{}=1", "z".repeat(257))]), None);
    // Value: up to 256 characters, spaces inside but not at the end.
    assert_eq!(tracestate_of(&["a= x y"]).as_deref(), Some("a= x y"));
    assert_eq!(tracestate_of(&[&format!("a={}", "v".repeat(257))]), None);
    // Over the length cap, all fields together: ignored, never a failure.
    let long = format!("a={}", "v".repeat(200));
    let fields: Vec<&str> = std::iter::repeat(long.as_str()).take(60).collect();
    assert_eq!(tracestate_of(&fields), None);
}

#[test]
fn two_traceparent_fields_start_a_fresh_trace() {
    let a = "00-12345678901234567890123456789011-1234567890123456-01";
    let b = "00-12345678901234567890123456789012-1234567890123456-01";
    for pair in [[a, b], [a, a]] {
        let got = decode([("traceparent", pair[0]), ("TRACEPARENT", pair[1]), ("tracestate", "foo=1")], "s", "1");
        assert_eq!((got.trace_id, got.trace_flags, got.tracestate), (None, None, None));
        assert!(!got.problems.is_empty());
    }
}

#[test]
fn oversized_headers_are_ignored_and_clock_entries_capped() {
    let long = format!("00-{}-00f067aa0ba902b7-01", "a".repeat(100_000));
    let got = decode([("traceparent", long.as_str())], "s", "1");
    assert!(got.span_id.is_none() && !got.problems.is_empty());

    use base64::Engine as _;
    let entries: Vec<String> = (0..1_000).map(|i| format!("[\"c#{i}\",{i}]")).collect();
    let json = format!(
        "{{\"trace_id\":\"4bf92f35-77b3-4da6-a3ce-929d0e0e4736\",\"span_id\":\"b7ad6b7169203331\",\"clock\":[{}]}}",
        entries.join(",")
    );
    let header = format!("v1;{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json));
    let got = decode([("raceway-clock", header.as_str())], "s", "1");
    assert!(got.clock.len() <= MAX_CLOCK_ENTRIES + 1, "{}", got.clock.len());
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic_and_stay_capped(
        traceparent in ".{0,300}",
        tracestate in ".{0,300}",
        clock in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        use base64::Engine as _;
        let clock = format!("v1;{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&clock));
        let got = decode([("traceparent", traceparent.as_str()), ("tracestate", tracestate.as_str()), ("raceway-clock", clock.as_str())], "s", "1");
        prop_assert!(got.clock.len() <= MAX_CLOCK_ENTRIES + 1);
        prop_assert!(got.tracestate.map_or(0, |s| s.split(',').count()) <= MAX_TRACESTATE_MEMBERS);
    }

    #[test]
    fn what_is_encoded_decodes_to_the_same_values(
        trace in 1u128..,
        current in 1u64..,
        child in 1u64..,
        counts in proptest::collection::vec(0u64..1_000_000, 0..8),
    ) {
        let clock: Vec<(String, u64)> = counts.iter().enumerate().map(|(i, n)| (format!("svc{i}#1"), *n)).collect();
        let encoded = encode(&Outgoing {
            trace_id: uuid::Uuid::from_u128(trace),
            current_span_id: current,
            child_span_id: child,
            tracestate: Some("congo=t61rcWkgMzE"),
            trace_flags: 1,
            clock: &clock,
            service: "caller",
            instance: "c-1",
        });
        let got = decode(encoded.headers.iter().map(|(k, v)| (*k, v.as_str())), "callee", "e-1");
        prop_assert_eq!(got.trace_id, Some(uuid::Uuid::from_u128(trace)));
        prop_assert_eq!(got.span_id, Some(child));
        prop_assert_eq!(got.parent_span_id, Some(current));
        prop_assert_eq!(got.tracestate.as_deref(), Some("congo=t61rcWkgMzE"));
        let mut expected = encoded.clock_after.clone();
        expected.push(("callee#e-1".to_string(), 0));
        prop_assert_eq!(got.clock, expected);
        prop_assert!(got.distributed);
    }
}
