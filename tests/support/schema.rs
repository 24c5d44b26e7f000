//! The Raceway server's ingest schema, as described in
//! `shared/wire-format.md`, modelled independently of `raceway::wire` so that
//! a mistake in the SDK's types cannot hide itself.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct ServerBatch {
    pub events: Vec<ServerEvent>,
}

#[derive(Debug, Deserialize)]
pub struct ServerEvent {
    pub id: Uuid,
    pub trace_id: Uuid,
    pub parent_id: Option<Uuid>,
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: String,
    pub kind: ServerKind,
    pub metadata: ServerMetadata,
    pub causality_vector: Vec<(String, u64)>,
    pub lock_set: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ServerMetadata {
    pub thread_id: String,
    pub process_id: u32,
    pub service_name: String,
    pub environment: String,
    pub tags: HashMap<String, String>,
    #[serde(default)]
    pub duration_ns: Option<u64>,
    #[serde(default)]
    pub instance_id: Option<String>,
    #[serde(default)]
    pub distributed_span_id: Option<String>,
    #[serde(default)]
    pub upstream_span_id: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
pub enum ServerAccessType {
    Read,
    Write,
    AtomicRead,
    AtomicWrite,
    AtomicRMW,
}

#[derive(Debug, Deserialize)]
pub enum ServerKind {
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
        #[serde(default)]
        old_value: Option<Value>,
        new_value: Value,
        location: String,
        access_type: ServerAccessType,
    },
    LockAcquire {
        lock_id: String,
        lock_type: String,
        location: String,
    },
    LockRelease {
        lock_id: String,
        lock_type: String,
        location: String,
    },
    MemoryFence {
        ordering: String,
        location: String,
    },
    HttpRequest {
        method: String,
        url: String,
        headers: HashMap<String, String>,
        body: Value,
    },
    HttpResponse {
        status: u16,
        headers: HashMap<String, String>,
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

impl ServerKind {
    /// The variant name, with function returns (carried as `Custom`) named
    /// as such.
    pub fn name(&self) -> &str {
        match self {
            ServerKind::FunctionCall { .. } => "FunctionCall",
            ServerKind::AsyncSpawn { .. } => "AsyncSpawn",
            ServerKind::AsyncAwait { .. } => "AsyncAwait",
            ServerKind::StateChange { .. } => "StateChange",
            ServerKind::LockAcquire { .. } => "LockAcquire",
            ServerKind::LockRelease { .. } => "LockRelease",
            ServerKind::MemoryFence { .. } => "MemoryFence",
            ServerKind::HttpRequest { .. } => "HttpRequest",
            ServerKind::HttpResponse { .. } => "HttpResponse",
            ServerKind::DatabaseQuery { .. } => "DatabaseQuery",
            ServerKind::DatabaseResult { .. } => "DatabaseResult",
            ServerKind::Error { .. } => "Error",
            ServerKind::Custom { name, .. } if name == "FunctionReturn" => "FunctionReturn",
            ServerKind::Custom { .. } => "Custom",
        }
    }
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_rfc3339(&text)
        .map_err(|e| serde::de::Error::custom(format!("timestamp {text:?} is not RFC 3339 UTC: {e}")))?;
    Ok(text)
}

/// Parses one batch body as the server would: `Err` where the server
/// answers 422.
pub fn parse_batch(body: &[u8]) -> Result<ServerBatch, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Parses one event (a JSON line of a `file://` endpoint).
pub fn parse_event(line: &str) -> Result<ServerEvent, String> {
    serde_json::from_str(line).map_err(|e| e.to_string())
}
