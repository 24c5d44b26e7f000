//! The Raceway server's ingest format (`POST {endpoint}/events`), shared by
//! the HTTP sink, the JSON-lines file sink and the embedded collector.
//!
//! These types are exactly what an unmodified Raceway server accepts: ids are
//! typed as UUIDs, `lock_set` and `metadata.tags` are always present, optional
//! metadata is omitted rather than `null`, and the one kind the server does
//! not know, `FunctionReturn`, travels as
//! `Custom { name: "FunctionReturn", data: {…} }` with `metadata.duration_ns`.
//! Reading them back (from a file or a server export) accepts every variant
//! the server accepts.

mod json;

pub(crate) use json::write_event;

use crate::event::AccessType;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// The `Custom` name under which function returns travel.
pub const FUNCTION_RETURN: &str = "FunctionReturn";

/// The tag a `FunctionCall` carries, set to `"false"`, when the call is not
/// an atomic region (`#[track(atomic = false)]`).
pub const TAG_ATOMIC_REGION: &str = "raceway.atomic_region";

/// The tag that marks the events of an execution whose start raceway did
/// not see (a plain `std::thread::spawn` thread, a plain `tokio::spawn`
/// task): its spawn and join edges are unknown. Value: [`ORIGIN_UNKNOWN`].
pub const TAG_ORIGIN: &str = "raceway.origin";

/// The value of [`TAG_ORIGIN`].
pub const ORIGIN_UNKNOWN: &str = "unknown";

/// The value of [`TAG_ORIGIN`] for an execution whose spawn raceway saw (a
/// `tokio::spawn` task seen through tokio's task hooks, built with
/// `--cfg tokio_unstable`) but whose join it cannot see.
pub const ORIGIN_JOIN_UNKNOWN: &str = "join_unknown";

/// One event as the server ingests it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event.
    pub id: Uuid,
    /// The trace this event belongs to.
    pub trace_id: Uuid,
    /// The previous event of the same execution.
    pub parent_id: Option<Uuid>,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// What happened.
    pub kind: EventKind,
    /// Who recorded it.
    pub metadata: Metadata,
    /// The event's vector clock: `[component, count]` pairs. Component
    /// names are shared, not copied, between the events that carry them.
    pub causality_vector: Vec<(Arc<str>, u64)>,
    /// The components of `causality_vector` that the event learnt (in
    /// part) only through lock hand-offs, with the count it learnt through
    /// hard edges (spawn, join, messages, atomics, barriers, calls); empty
    /// when every component was learnt through hard edges. The analysis
    /// predicts reorderings that keep hard edges and move critical sections
    /// of a lock past each other. Omitted when empty: a Raceway server
    /// ignores it, and events without it predict nothing from lock edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard_causality: Vec<(Arc<str>, u64)>,
    /// Ids of the locks held by the execution at the event.
    pub lock_set: Vec<String>,
}

/// Who recorded an event. The strings are shared (`Arc`) between the
/// events of one execution rather than copied into each; they serialize
/// as plain strings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The execution (thread, task or request) that recorded the event.
    pub thread_id: Arc<str>,
    /// The operating-system process id.
    pub process_id: u32,
    /// The recording service.
    pub service_name: Arc<str>,
    /// Deployment environment.
    pub environment: Arc<str>,
    /// Free-form tags; the SDKs set `sdk_language`.
    pub tags: Arc<BTreeMap<String, String>>,
    /// Duration of the operation the event closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ns: Option<u64>,
    /// Identifies the process among the instances of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<Arc<str>>,
    /// The span of the request this event belongs to, across services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_span_id: Option<Arc<str>>,
    /// The caller's span, when the request came from another service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_span_id: Option<Arc<str>>,
}

/// What happened: externally tagged, one key per event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum EventKind {
    FunctionCall {
        function_name: String,
        module: String,
        args: Value,
        file: String,
        line: u32,
    },
    AsyncSpawn {
        task_id: Uuid,
        spawned_by: String,
    },
    AsyncAwait {
        future_id: Uuid,
        awaited_at: String,
    },
    StateChange {
        variable: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old_value: Option<Value>,
        new_value: Value,
        location: Arc<str>,
        access_type: AccessType,
    },
    LockAcquire {
        lock_id: String,
        lock_type: String,
        location: Arc<str>,
    },
    LockRelease {
        lock_id: String,
        lock_type: String,
        location: Arc<str>,
    },
    MemoryFence {
        ordering: MemoryOrdering,
        location: Arc<str>,
    },
    HttpRequest {
        method: String,
        url: String,
        headers: BTreeMap<String, String>,
        body: Value,
    },
    HttpResponse {
        status: u16,
        headers: BTreeMap<String, String>,
        body: Value,
        duration_ms: u64,
    },
    DatabaseQuery {
        query: String,
        database: String,
        duration_ms: u64,
    },
    DatabaseResult {
        rows_affected: usize,
    },
    Error {
        error_type: String,
        message: String,
        stack_trace: Vec<String>,
    },
    Custom {
        name: String,
        data: Value,
    },
}

/// The orderings of a `MemoryFence` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum MemoryOrdering {
    Relaxed,
    Acquire,
    Release,
    AcqRel,
    SeqCst,
}

impl From<std::sync::atomic::Ordering> for MemoryOrdering {
    fn from(ordering: std::sync::atomic::Ordering) -> Self {
        use std::sync::atomic::Ordering;
        match ordering {
            Ordering::Relaxed => MemoryOrdering::Relaxed,
            Ordering::Acquire => MemoryOrdering::Acquire,
            Ordering::Release => MemoryOrdering::Release,
            Ordering::AcqRel => MemoryOrdering::AcqRel,
            // SeqCst, and any ordering added later, as the strongest.
            _ => MemoryOrdering::SeqCst,
        }
    }
}

/// The body of a batch: `{"events": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The events of the batch.
    pub events: Vec<Event>,
}

#[cfg(test)]
impl Event {
    /// A `Custom` event at `timestamp` whose clock lists `entries`
    /// components, for the tests of what keeps events.
    pub(crate) fn for_tests(timestamp: &str, entries: usize) -> Event {
        Event {
            id: Uuid::new_v4(),
            trace_id: Uuid::from_u128(1),
            parent_id: None,
            timestamp: timestamp.to_owned(),
            kind: EventKind::Custom { name: "e".into(), data: Value::I64(0) },
            metadata: Metadata {
                thread_id: "t".into(),
                process_id: 1,
                service_name: "svc".into(),
                environment: "test".into(),
                tags: Arc::default(),
                duration_ns: None,
                instance_id: None,
                distributed_span_id: None,
                upstream_span_id: None,
            },
            causality_vector: (0..entries).map(|i| (Arc::from(format!("c{i}")), 1)).collect(),
            hard_causality: Vec::new(),
            lock_set: Vec::new(),
        }
    }
}

/// Clock entries that weigh as much as one event's own fields (an entry
/// is 24 bytes).
const ENTRIES_PER_EVENT: usize = 16;

impl Event {
    /// What the event holds in memory, in events: one, and its clocks.
    /// Clocks that grew with every execution a shared lock met make an
    /// event weigh megabytes, so what keeps events (the reorder window,
    /// the embedded collector's retained events) bounds this, not only
    /// their number.
    pub(crate) fn weight(&self) -> usize {
        1 + (self.causality_vector.len() + self.hard_causality.len()) / ENTRIES_PER_EVENT
    }

    /// The weight that a holder of at most `capacity` events may hold:
    /// clocks may take as much memory again as the events themselves.
    pub(crate) fn weight_bound(capacity: usize) -> usize {
        capacity.saturating_mul(2)
    }

    /// For a function return carried as `Custom`, its payload.
    pub fn function_return(&self) -> Option<&Value> {
        match &self.kind {
            EventKind::Custom { name, data } if name == FUNCTION_RETURN => Some(data),
            _ => None,
        }
    }

    /// The name of the kind, with `FunctionReturn` recognised.
    pub fn kind_name(&self) -> &str {
        match &self.kind {
            EventKind::FunctionCall { .. } => "FunctionCall",
            EventKind::AsyncSpawn { .. } => "AsyncSpawn",
            EventKind::AsyncAwait { .. } => "AsyncAwait",
            EventKind::StateChange { .. } => "StateChange",
            EventKind::LockAcquire { .. } => "LockAcquire",
            EventKind::LockRelease { .. } => "LockRelease",
            EventKind::MemoryFence { .. } => "MemoryFence",
            EventKind::HttpRequest { .. } => "HttpRequest",
            EventKind::HttpResponse { .. } => "HttpResponse",
            EventKind::DatabaseQuery { .. } => "DatabaseQuery",
            EventKind::DatabaseResult { .. } => "DatabaseResult",
            EventKind::Error { .. } => "Error",
            EventKind::Custom { name, .. } if name == FUNCTION_RETURN => FUNCTION_RETURN,
            EventKind::Custom { .. } => "Custom",
        }
    }
}
