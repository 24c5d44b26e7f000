//! Writing wire events as JSON without serde's per-field machinery: the
//! same bytes as `serde_json::to_writer(event)` (a test holds it to that),
//! with the constant keys written as they are and strings that need no
//! escaping (nearly all) copied in one go. This is the exporter's inner loop.

use super::{Event, EventKind, Metadata};
use crate::value::Value;
use std::io::Write as _;
use uuid::Uuid;

/// Appends `event`'s JSON to `out`. On an error (a value serde cannot
/// write) `out` may hold a partial event: the caller truncates.
pub(crate) fn write_event(out: &mut Vec<u8>, event: &Event) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    uuid(out, &event.id);
    out.extend_from_slice(b",\"trace_id\":");
    uuid(out, &event.trace_id);
    out.extend_from_slice(b",\"parent_id\":");
    match &event.parent_id {
        Some(parent) => uuid(out, parent),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"timestamp\":");
    string(out, &event.timestamp);
    out.extend_from_slice(b",\"kind\":");
    kind(out, &event.kind)?;
    out.extend_from_slice(b",\"metadata\":");
    metadata(out, &event.metadata);
    out.extend_from_slice(b",\"causality_vector\":[");
    separated(out, &event.causality_vector, |out, (component, n)| {
        out.push(b'[');
        string(out, component);
        out.push(b',');
        number(out, *n);
        out.push(b']');
    });
    if !event.hard_causality.is_empty() {
        out.extend_from_slice(b"],\"hard_causality\":[");
        separated(out, &event.hard_causality, |out, (component, n)| {
            out.push(b'[');
            string(out, component);
            out.push(b',');
            number(out, *n);
            out.push(b']');
        });
    }
    out.extend_from_slice(b"],\"lock_set\":[");
    separated(out, &event.lock_set, |out, lock| string(out, lock));
    out.extend_from_slice(b"]}");
    Ok(())
}

fn metadata(out: &mut Vec<u8>, m: &Metadata) {
    out.extend_from_slice(b"{\"thread_id\":");
    string(out, &m.thread_id);
    out.extend_from_slice(b",\"process_id\":");
    number(out, u64::from(m.process_id));
    out.extend_from_slice(b",\"service_name\":");
    string(out, &m.service_name);
    out.extend_from_slice(b",\"environment\":");
    string(out, &m.environment);
    out.extend_from_slice(b",\"tags\":{");
    separated(out, m.tags.iter(), |out, (k, v)| {
        string(out, k);
        out.push(b':');
        string(out, v);
    });
    out.push(b'}');
    if let Some(d) = m.duration_ns {
        out.extend_from_slice(b",\"duration_ns\":");
        number(out, d);
    }
    for (key, value) in [
        (&b",\"instance_id\":"[..], &m.instance_id),
        (b",\"distributed_span_id\":", &m.distributed_span_id),
        (b",\"upstream_span_id\":", &m.upstream_span_id),
    ] {
        if let Some(value) = value {
            out.extend_from_slice(key);
            string(out, value);
        }
    }
    out.push(b'}');
}

/// The common kind by hand; the others through serde.
fn kind(out: &mut Vec<u8>, kind: &EventKind) -> serde_json::Result<()> {
    match kind {
        EventKind::StateChange { variable, old_value, new_value, location, access_type } => {
            out.extend_from_slice(b"{\"StateChange\":{\"variable\":");
            string(out, variable);
            if let Some(old) = old_value {
                out.extend_from_slice(b",\"old_value\":");
                value(out, old)?;
            }
            out.extend_from_slice(b",\"new_value\":");
            value(out, new_value)?;
            out.extend_from_slice(b",\"location\":");
            string(out, location);
            out.extend_from_slice(b",\"access_type\":");
            serde_json::to_writer(&mut *out, access_type)?;
            out.extend_from_slice(b"}}");
            Ok(())
        }
        other => serde_json::to_writer(&mut *out, other),
    }
}

fn value(out: &mut Vec<u8>, v: &Value) -> serde_json::Result<()> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::I64(n) => {
            let _ = write!(out, "{n}");
        }
        Value::U64(n) => number(out, *n),
        Value::Str(s) => string(out, s),
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
}

/// Writes each item with `write`, commas between.
fn separated<T>(out: &mut Vec<u8>, items: impl IntoIterator<Item = T>, mut write: impl FnMut(&mut Vec<u8>, T)) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
}

fn number(out: &mut Vec<u8>, n: u64) {
    let _ = write!(out, "{n}");
}

fn uuid(out: &mut Vec<u8>, id: &Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

/// A JSON string: copied as it is when nothing in it needs escaping (JSON
/// escapes only control characters, `"` and `\`), else through serde_json.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AccessType;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn event(kind: EventKind) -> Event {
        Event {
            id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            trace_id: Uuid::from_u128(7),
            parent_id: Some(Uuid::from_u128(9)),
            timestamp: "2026-11-25T10:00:00.123456789Z".into(),
            kind,
            metadata: Metadata {
                thread_id: "main#1@host-1".into(),
                process_id: 4242,
                service_name: "svc \"quoted\"".into(),
                environment: "dev\n".into(),
                tags: Arc::new(BTreeMap::from([("sdk_language".into(), "rust".into()), ("k\\".into(), "v".into())])),
                duration_ns: Some(1234),
                instance_id: Some("host-1".into()),
                distributed_span_id: Some("00f067aa0ba902b7".into()),
                upstream_span_id: None,
            },
            causality_vector: vec![("svc#host-1/1".into(), 3), ("other\u{1}".into(), u64::MAX)],
            hard_causality: vec![("other\u{1}".into(), 2)],
            lock_set: vec!["lock@0x1".into(), "é\t".into()],
        }
    }

    #[test]
    fn writes_the_same_bytes_as_serde() {
        let kinds = vec![
            EventKind::StateChange {
                variable: "Account[alice].balance".into(),
                old_value: Some(Value::I64(-5)),
                new_value: Value::Str("a \"b\"\u{7f}".into()),
                location: "src/lib.rs:1:2".into(),
                access_type: AccessType::AtomicRMW,
            },
            EventKind::StateChange {
                variable: "x".into(),
                old_value: None,
                new_value: Value::F64(1.5),
                location: "l".into(),
                access_type: AccessType::Read,
            },
            EventKind::StateChange {
                variable: "y".into(),
                old_value: Some(Value::Json(Box::new(serde_json::json!({"a": [1, null]})))),
                new_value: Value::Bool(true),
                location: "l".into(),
                access_type: AccessType::Write,
            },
            EventKind::StateChange {
                variable: "z".into(),
                old_value: Some(Value::U64(u64::MAX)),
                new_value: Value::Unrecorded("<no Serialize>".into()),
                location: "l".into(),
                access_type: AccessType::Write,
            },
            EventKind::Custom { name: "FunctionReturn".into(), data: Value::Null },
        ];
        for kind in kinds {
            let mut e = event(kind);
            for _ in 0..2 {
                let mut ours = Vec::new();
                write_event(&mut ours, &e).unwrap();
                let serde = serde_json::to_vec(&e).unwrap();
                assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
                // And with the optional fields absent.
                e.parent_id = None;
                e.metadata.duration_ns = None;
                e.metadata.instance_id = None;
                e.metadata.distributed_span_id = None;
                e.metadata.upstream_span_id = Some("up".into());
                e.causality_vector.clear();
                e.lock_set.clear();
            }
        }
    }
}
