//! Captures the events a piece of code records, through the embedded
//! collector of a freshly installed client.

use raceway::wire::{Event, EventKind};
use raceway::{Config, Value};
use std::sync::Mutex;

/// One installed client at a time: tests that use the process-wide client
/// take turns.
static TURN: Mutex<()> = Mutex::new(());

/// Runs `f` with a fresh process-wide client and returns what it recorded.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Event>) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let guard = raceway::init(Config { service_name: "capture".into(), ..Config::default() }).expect("init");
    let result = f();
    guard.flush().expect("flush");
    let events = guard.collected_events();
    drop(guard);
    (result, events)
}

/// Runs `f` while no test of this binary captures: for code that records
/// with no client installed, whose events would otherwise land in another
/// test's capture.
pub fn uncaptured<R>(f: impl FnOnce() -> R) -> R {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    f()
}

/// A compact, comparable summary of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Call(String),
    Return(String, serde_json::Value),
    Error(String, String),
    Read(String, serde_json::Value),
    Write(String, serde_json::Value, serde_json::Value),
    Other(String),
}

pub fn summarize(events: &[Event]) -> Vec<Seen> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::FunctionCall { function_name, .. } => Seen::Call(function_name.clone()),
            EventKind::Custom { name, data } if name == "FunctionReturn" => {
                let data = data.to_json();
                Seen::Return(data["function_name"].as_str().unwrap().to_string(), data["return_value"].clone())
            }
            EventKind::Error { error_type, message, .. } => Seen::Error(error_type.clone(), message.clone()),
            EventKind::StateChange { variable, old_value, new_value, access_type, .. } => match access_type {
                raceway::AccessType::Read => Seen::Read(strip_address(variable), new_value.to_json()),
                _ => Seen::Write(
                    strip_address(variable),
                    old_value.as_ref().map_or(serde_json::Value::Null, Value::to_json),
                    new_value.to_json(),
                ),
            },
            _ => Seen::Other(e.kind_name().to_string()),
        })
        .collect()
}

/// `account.balance@0x7ff…` → `account.balance`.
pub fn strip_address(variable: &str) -> String {
    variable.split('@').next().unwrap().to_string()
}
