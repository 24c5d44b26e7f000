//! The propagation headers shared by every Raceway SDK: W3C `traceparent`
//! and `tracestate`, and Raceway's `raceway-clock`. No HTTP-framework types:
//! headers go in as `(name, value)` pairs and come out as such.
//!
//! Decoding follows the other SDKs (header names are case-insensitive; a
//! valid `raceway-clock` wins over `traceparent`; clock entries that are not
//! `[string, number]` pairs are skipped; the receiving service adds its own
//! component with 0) and the W3C Trace Context specification where it is
//! stricter (all-zero ids and version `ff` are invalid, a higher version is
//! read by its first four fields, trace flags are kept, `tracestate` keeps at
//! most 32 members). A bad header never fails anything: it is ignored, and
//! [`Incoming::problems`] says why. Input is capped: header length and clock
//! entries, so a hostile header cannot make a service allocate without bound.
//!
//! Encoding is byte-identical to the other SDKs for the same input.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::Serialize;
use uuid::Uuid;

/// `traceparent`.
pub const TRACEPARENT: &str = "traceparent";
/// `tracestate`.
pub const TRACESTATE: &str = "tracestate";
/// `raceway-clock`.
pub const RACEWAY_CLOCK: &str = "raceway-clock";

/// Longest header value read; longer ones are ignored.
pub const MAX_HEADER_LEN: usize = 8 * 1024;
/// Most clock entries read from a `raceway-clock`; the rest are dropped.
pub const MAX_CLOCK_ENTRIES: usize = 256;
/// Most `tracestate` list members kept (W3C).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// base64url without padding; decoding also accepts padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A vector clock across services: `(component, count)`, components named
/// `"<service>#<instance>"`.
pub type ClockVector = Vec<(String, u64)>;

/// What a service learns from an incoming request's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// The trace to continue; `None` when no valid header named one (start a
    /// fresh trace).
    pub trace_id: Option<Uuid>,
    /// The span this service works in, as the caller named it.
    pub span_id: Option<u64>,
    /// The caller's span.
    pub parent_span_id: Option<u64>,
    /// W3C trace flags of a valid `traceparent` (`sampled` is bit 0).
    pub trace_flags: Option<u8>,
    /// `tracestate`, cleaned up, to pass through unchanged.
    pub tracestate: Option<String>,
    /// The caller's clock plus this service's component (0 when absent).
    pub clock: ClockVector,
    /// Whether the request continues a trace from another service.
    pub distributed: bool,
    /// Why headers were ignored, for debug logging.
    pub problems: Vec<String>,
}

/// What an outgoing call carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing<'a> {
    /// The trace.
    pub trace_id: Uuid,
    /// The caller's current span.
    pub current_span_id: u64,
    /// The span the callee will work in.
    pub child_span_id: u64,
    /// `tracestate` to pass on.
    pub tracestate: Option<&'a str>,
    /// W3C trace flags to send (`01`: sampled).
    pub trace_flags: u8,
    /// The caller's clock before the call.
    pub clock: &'a [(String, u64)],
    /// The caller's service.
    pub service: &'a str,
    /// The caller's instance.
    pub instance: &'a str,
}

/// The headers of an outgoing call, and the caller's clock after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// `(name, value)` pairs: `traceparent`, `raceway-clock` and, when
    /// there is one, `tracestate`.
    pub headers: Vec<(&'static str, String)>,
    /// The clock with the caller's component incremented (added with 1).
    pub clock_after: ClockVector,
}

/// The JSON of `raceway-clock`, in the key order of the Python and
/// TypeScript SDKs.
#[derive(Serialize)]
struct ClockPayload<'a> {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    service: &'a str,
    instance: &'a str,
    clock: &'a [(String, u64)],
}

fn hex16(id: u64) -> String {
    format!("{id:016x}")
}

/// The component that names a service instance in clocks.
pub fn component(service: &str, instance: &str) -> String {
    format!("{service}#{instance}")
}

/// Builds the headers of an outgoing call, incrementing the caller's
/// component (`"<service>#<instance>"`) first, as the other SDKs do.
pub fn encode(out: &Outgoing<'_>) -> Encoded {
    let own = component(out.service, out.instance);
    let mut clock_after: ClockVector = out.clock.to_vec();
    match clock_after.iter_mut().find(|(c, _)| *c == own) {
        Some((_, n)) => *n += 1,
        None => clock_after.push((own, 1)),
    }
    let headers = encode_exact(&Outgoing { clock: &clock_after, ..out.clone() });
    Encoded { headers, clock_after }
}

/// Builds the headers of an outgoing call with `out.clock` as it is: for a
/// caller whose clock already counts the call (this SDK's executions count
/// their `HttpRequest` event).
pub fn encode_exact(out: &Outgoing<'_>) -> Vec<(&'static str, String)> {
    let clock =
        encode_clock(out.trace_id, out.child_span_id, out.current_span_id, out.service, out.instance, out.clock);
    let mut headers = vec![
        (TRACEPARENT, format!("00-{}-{}-{:02x}", out.trace_id.simple(), hex16(out.child_span_id), out.trace_flags)),
        (RACEWAY_CLOCK, clock),
    ];
    if let Some(state) = out.tracestate.filter(|s| !s.is_empty()) {
        headers.push((TRACESTATE, state.to_string()));
    }
    headers
}

/// A `raceway-clock` value: `v1;` and the base64url JSON payload. This
/// SDK's middleware also sends one back on responses, with the callee's
/// clock, so that the caller can join it.
pub fn encode_clock(
    trace_id: Uuid,
    span_id: u64,
    parent_span_id: u64,
    service: &str,
    instance: &str,
    clock: &[(String, u64)],
) -> String {
    let payload = ClockPayload {
        trace_id: trace_id.hyphenated().to_string(),
        span_id: hex16(span_id),
        parent_span_id: hex16(parent_span_id),
        service,
        instance,
        clock,
    };
    let json = serde_json::to_vec(&payload).expect("a struct of strings and numbers serializes");
    format!("v1;{}", BASE64.encode(json))
}

/// Reads one `raceway-clock` value (a request's or a response's), with the
/// same rules and caps as [`decode`].
pub fn decode_clock(value: &str) -> Result<RacewayClock, String> {
    parse_clock(value)
}

/// Reads an incoming request's headers (any order, any case). `service`
/// and `instance` name the receiving service.
pub fn decode<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>, service: &str, instance: &str) -> Incoming {
    let (mut traceparent, mut tracestate, mut clock_header) = (None, None, None);
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(TRACEPARENT) {
            traceparent = Some(value);
        } else if name.eq_ignore_ascii_case(TRACESTATE) {
            tracestate = Some(value);
        } else if name.eq_ignore_ascii_case(RACEWAY_CLOCK) {
            clock_header = Some(value);
        }
    }
    let mut problems = Vec::new();
    let parent =
        traceparent.and_then(|v| parse_traceparent(v).map_err(|e| problems.push(format!("traceparent: {e}"))).ok());
    let clock =
        clock_header.and_then(|v| parse_clock(v).map_err(|e| problems.push(format!("raceway-clock: {e}"))).ok());
    let tracestate =
        tracestate.and_then(|v| clean_tracestate(v).map_err(|e| problems.push(format!("tracestate: {e}"))).ok());

    let mut incoming = Incoming {
        trace_id: None,
        span_id: None,
        parent_span_id: None,
        trace_flags: parent.as_ref().map(|p| p.flags),
        // Without a valid traceparent, tracestate has nothing to belong to.
        tracestate: tracestate.filter(|_| parent.is_some()),
        clock: Vec::new(),
        distributed: false,
        problems,
    };
    if let Some(p) = &parent {
        incoming.trace_id = Some(p.trace_id);
        incoming.span_id = Some(p.span_id);
        incoming.distributed = true;
    }
    if let Some(c) = clock {
        // A valid raceway-clock wins for the trace and span ids.
        incoming.trace_id = Some(c.trace_id);
        incoming.span_id = c.span_id.or(incoming.span_id);
        incoming.parent_span_id = c.parent_span_id;
        incoming.clock = c.clock;
        incoming.distributed = true;
    }
    let own = component(service, instance);
    if !incoming.clock.iter().any(|(c, _)| *c == own) {
        incoming.clock.push((own, 0));
    }
    incoming
}

struct TraceParent {
    trace_id: Uuid,
    span_id: u64,
    flags: u8,
}

fn lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn parse_traceparent(value: &str) -> Result<TraceParent, String> {
    let value = value.trim();
    if value.len() > MAX_HEADER_LEN {
        return Err(format!("longer than {MAX_HEADER_LEN} bytes"));
    }
    let parts: Vec<&str> = value.split('-').collect();
    if parts.len() < 4 {
        return Err("expected version-traceid-spanid-flags".into());
    }
    let version = parts[0];
    if !lower_hex(version, 2) {
        return Err(format!("version {version:?} is not two lowercase hex digits"));
    }
    if version == "ff" {
        return Err("version ff is invalid".into());
    }
    // Version 00 has exactly four fields; a higher version is read by its
    // first four.
    if version == "00" && parts.len() != 4 {
        return Err("version 00 has exactly four fields".into());
    }
    let (trace, span, flags) = (parts[1], parts[2], parts[3]);
    if !lower_hex(trace, 32) {
        return Err("the trace id is not 32 lowercase hex digits".into());
    }
    if !lower_hex(span, 16) {
        return Err("the span id is not 16 lowercase hex digits".into());
    }
    if !lower_hex(flags, 2) {
        return Err("the trace flags are not two lowercase hex digits".into());
    }
    let trace_id = u128::from_str_radix(trace, 16).map_err(|e| e.to_string())?;
    let span_id = u64::from_str_radix(span, 16).map_err(|e| e.to_string())?;
    if trace_id == 0 || span_id == 0 {
        return Err("an all-zero trace or span id is invalid".into());
    }
    let flags = u8::from_str_radix(flags, 16).map_err(|e| e.to_string())?;
    Ok(TraceParent { trace_id: Uuid::from_u128(trace_id), span_id, flags })
}

/// A decoded `raceway-clock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RacewayClock {
    /// The trace.
    pub trace_id: Uuid,
    /// The span the receiver works in (on a response: the callee's span).
    pub span_id: Option<u64>,
    /// The sender's span (on a response: the caller's span).
    pub parent_span_id: Option<u64>,
    /// The clock, at most [`MAX_CLOCK_ENTRIES`] entries.
    pub clock: ClockVector,
}

fn parse_span(value: Option<&serde_json::Value>) -> Option<u64> {
    value.and_then(|v| v.as_str()).filter(|s| lower_hex(s, 16)).and_then(|s| u64::from_str_radix(s, 16).ok())
}

fn parse_clock(value: &str) -> Result<RacewayClock, String> {
    let value = value.trim();
    if value.len() > MAX_HEADER_LEN {
        return Err(format!("longer than {MAX_HEADER_LEN} bytes"));
    }
    let Some(encoded) = value.strip_prefix("v1;") else {
        return Err("unknown version (expected the prefix v1;)".into());
    };
    let json = BASE64.decode(encoded).map_err(|e| format!("not base64url: {e}"))?;
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).map_err(|_| "not a JSON object".to_string())?;
    let trace_id = object
        .get("trace_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
        .filter(|u| !u.is_nil())
        .ok_or("no valid trace_id")?;
    let mut clock = Vec::new();
    if let Some(entries) = object.get("clock").and_then(|c| c.as_array()) {
        for entry in entries.iter().take(MAX_CLOCK_ENTRIES) {
            let Some([name, n]) = entry.as_array().map(Vec::as_slice) else {
                continue;
            };
            let count = n.as_u64().or_else(|| {
                n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64).map(|f| f as u64)
            });
            if let (Some(name), Some(count)) = (name.as_str(), count) {
                clock.push((name.to_string(), count));
            }
        }
    }
    Ok(RacewayClock {
        trace_id,
        span_id: parse_span(object.get("span_id")),
        parent_span_id: parse_span(object.get("parent_span_id")),
        clock,
    })
}

/// W3C `tracestate`: list members `key=value` separated by commas, empty
/// members and surrounding spaces dropped, invalid members dropped, at most
/// 32 kept (the first ones).
fn clean_tracestate(value: &str) -> Result<String, String> {
    if value.len() > MAX_HEADER_LEN {
        return Err(format!("longer than {MAX_HEADER_LEN} bytes"));
    }
    let valid_key = |k: &str| {
        !k.is_empty()
            && k.len() <= 256
            && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b))
            && k.as_bytes()[0].is_ascii_alphanumeric()
    };
    let valid_value = |v: &str| {
        !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
    };
    let members: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .filter(|m| m.split_once('=').is_some_and(|(k, v)| valid_key(k) && valid_value(v.trim_end())))
        .take(MAX_TRACESTATE_MEMBERS)
        .collect();
    if members.is_empty() {
        return Err("no valid list member".into());
    }
    Ok(members.join(","))
}
