//! The propagation headers shared by every Raceway SDK: W3C `traceparent`
//! and `tracestate`, and Raceway's `raceway-clock`. No HTTP-framework types:
//! headers go in as `(name, value)` pairs and come out as such.
//!
//! Decoding follows the other SDKs (header names are case-insensitive; a
//! valid `raceway-clock` wins over `traceparent`; clock entries that are not
//! `[string, number]` pairs are skipped; the receiving service adds its own
//! component with 0) and the W3C Trace Context specification where it is
//! stricter, at Level 2 and as strictly as the official W3C test suite
//! checks it (`tests/w3c/`, run by CI):
//!
//! - all-zero ids and version `ff` are invalid, a higher version is read by
//!   its first four fields;
//! - two `traceparent` fields are invalid (combined into one value they do
//!   not parse): a fresh trace starts;
//! - every `tracestate` field is combined into one list, in order (empty
//!   fields and empty list members are fine); a list with any invalid member
//!   or with more than 32 members is discarded whole; a duplicated key keeps
//!   its first member;
//! - trace flags this SDK does not know are zeroed: only `sampled` (`01`) and
//!   Level 2's `random-trace-id` (`02`) are passed on; a fresh trace sets
//!   both (its id comes from a v4 UUID, whose right-most 7 bytes are random).
//!
//! A bad header never fails anything: it is ignored, and
//! [`Incoming::problems`] says why. Input is capped: header length (each
//! field, and the combined `tracestate`) and clock entries, so a hostile
//! header cannot make a service allocate without bound.
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
/// Most `tracestate` list members (W3C): a longer list is discarded.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// The W3C `sampled` trace flag.
pub const FLAG_SAMPLED: u8 = 0x01;
/// The W3C Level 2 `random-trace-id` trace flag: the right-most 7 bytes of
/// the trace id are random.
pub const FLAG_RANDOM: u8 = 0x02;
/// The trace flags this SDK knows and passes on; the others are zeroed.
pub const KNOWN_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;
/// The trace flags of a trace this SDK starts: sampled, with a random id.
pub const FRESH_TRACE_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;

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
    /// W3C trace flags of a valid `traceparent`, unknown ones zeroed
    /// ([`KNOWN_FLAGS`]); `None` when the request starts a fresh trace (use
    /// [`FRESH_TRACE_FLAGS`]).
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
    /// W3C trace flags to send (`01`: sampled, `02`: random trace id);
    /// unknown flags are zeroed.
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
        (
            TRACEPARENT,
            format!("00-{}-{}-{:02x}", out.trace_id.simple(), hex16(out.child_span_id), out.trace_flags & KNOWN_FLAGS),
        ),
        (RACEWAY_CLOCK, clock),
    ];
    if let Some(state) = out.tracestate.filter(|s| !s.is_empty()) {
        headers.push((TRACESTATE, state.to_string()));
    }
    headers
}

/// The bytes of JSON that the entries of a `raceway-clock` sent by
/// `service`/`instance` may take, so that the whole value stays within
/// [`MAX_HEADER_LEN`] (with room for the own entry that [`encode`] may add).
pub(crate) fn clock_budget(service: &str, instance: &str) -> usize {
    let empty = ClockPayload {
        trace_id: Uuid::nil().hyphenated().to_string(),
        span_id: hex16(0),
        parent_span_id: hex16(0),
        service,
        instance,
        clock: &[],
    };
    let fixed = serde_json::to_vec(&empty).map_or(usize::MAX, |json| json.len());
    let own = serde_json::to_string(&component(service, instance)).map_or(usize::MAX, |s| s.len()) + 24;
    // base64 without padding: 4 characters per 3 bytes, after `v1;`.
    let json_max = (MAX_HEADER_LEN - 3) / 4 * 3;
    json_max.saturating_sub(fixed).saturating_sub(own)
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

/// Reads an incoming request's headers (any order, any case; a header that
/// came in several fields is passed as several pairs). `service` and
/// `instance` name the receiving service.
pub fn decode<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>, service: &str, instance: &str) -> Incoming {
    let mut problems = Vec::new();
    let (mut traceparents, mut clock_header) = (Vec::new(), None);
    let mut tracestate = TracestateFields::default();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(TRACEPARENT) {
            // Kept only up to two: one more is all it takes to be invalid.
            if traceparents.len() < 2 {
                traceparents.push(value);
            }
        } else if name.eq_ignore_ascii_case(TRACESTATE) {
            tracestate.add(value);
        } else if name.eq_ignore_ascii_case(RACEWAY_CLOCK) {
            clock_header = Some(value);
        }
    }
    let parent = match traceparents[..] {
        [] => None,
        [one] => parse_traceparent(one).map_err(|e| problems.push(format!("traceparent: {e}"))).ok(),
        _ => {
            problems.push("traceparent: more than one field (combined, they do not parse)".into());
            None
        }
    };
    let clock =
        clock_header.and_then(|v| parse_clock(v).map_err(|e| problems.push(format!("raceway-clock: {e}"))).ok());
    let tracestate = tracestate.finish().map_err(|e| problems.push(format!("tracestate: {e}"))).ok().flatten();

    let mut incoming = Incoming {
        trace_id: None,
        span_id: None,
        parent_span_id: None,
        trace_flags: parent.as_ref().map(|p| p.flags & KNOWN_FLAGS),
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
        // A valid raceway-clock wins for the trace and span ids. The
        // traceparent's random-trace-id flag says nothing about another id.
        if incoming.trace_id.is_some_and(|t| t != c.trace_id) {
            incoming.trace_flags = incoming.trace_flags.map(|f| f & !FLAG_RANDOM);
        }
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
    let value = trim_ows(value);
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
    let value = trim_ows(value);
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

/// Every `tracestate` field of a request, combined in order into one list
/// (W3C: "multiple tracestate header fields MUST be handled as specified by
/// RFC 7230 section 3.2.2"), within [`MAX_HEADER_LEN`] in all.
#[derive(Default)]
struct TracestateFields {
    combined: String,
    fields: usize,
    too_long: bool,
}

impl TracestateFields {
    fn add(&mut self, value: &str) {
        self.fields += 1;
        if self.too_long {
            return;
        }
        if self.combined.len() + value.len() + 1 > MAX_HEADER_LEN {
            self.too_long = true;
            self.combined = String::new();
            return;
        }
        if !self.combined.is_empty() {
            self.combined.push(',');
        }
        self.combined.push_str(value);
    }

    /// The list to pass on: `None` when there is none (no field, or only
    /// empty ones); an error when it must be discarded.
    fn finish(self) -> Result<Option<String>, String> {
        if self.too_long {
            return Err(format!("longer than {MAX_HEADER_LEN} bytes"));
        }
        if self.fields == 0 {
            return Ok(None);
        }
        clean_tracestate(&self.combined)
    }
}

/// Optional white space around list members (W3C: `OWS = *( SP / HTAB )`).
fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// A W3C Level 2 `tracestate` key: `( lcalpha / DIGIT ) 0*255 ( lcalpha /
/// DIGIT / "_" / "-" / "*" / "/" / "@" )`.
fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    (1..=256).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b))
}

/// A W3C `tracestate` value: `0*255( chr ) nblk-chr`, where `nblk-chr` is
/// printable ASCII but `,` and `=`, and `chr` adds the space.
fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let nblk = |b: u8| (0x21..=0x7e).contains(&b) && b != b',' && b != b'=';
    (1..=256).contains(&bytes.len())
        && bytes[..bytes.len() - 1].iter().all(|&b| b == b' ' || nblk(b))
        && nblk(bytes[bytes.len() - 1])
}

/// W3C `tracestate`: list members `key=value` separated by commas, empty
/// members and the white space around members dropped. A list with an
/// invalid member or more than [`MAX_TRACESTATE_MEMBERS`] members is
/// discarded whole; of members with the same key, the first is kept.
/// `Ok(None)`: an empty list.
fn clean_tracestate(value: &str) -> Result<Option<String>, String> {
    if value.len() > MAX_HEADER_LEN {
        return Err(format!("longer than {MAX_HEADER_LEN} bytes"));
    }
    let mut members: Vec<(&str, &str)> = Vec::new();
    for member in value.split(',').map(trim_ows).filter(|m| !m.is_empty()) {
        let Some((key, value)) = member.split_once('=').filter(|(k, v)| valid_key(k) && valid_value(v)) else {
            return Err("a list member is not a valid key=value: the list is discarded".into());
        };
        if members.iter().any(|(k, _)| *k == key) {
            continue;
        }
        if members.len() == MAX_TRACESTATE_MEMBERS {
            return Err(format!("more than {MAX_TRACESTATE_MEMBERS} list members: the list is discarded"));
        }
        members.push((key, value));
    }
    if members.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(value.len());
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    Ok(Some(out))
}
