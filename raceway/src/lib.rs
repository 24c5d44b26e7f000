//! Raceway for Rust: find logical race conditions at run time, and trace
//! them across services.
//!
//! Rust rules out data races on memory; it does not rule out two requests
//! that each read a balance under a lock, and each write back
//! `balance - amount` under the lock again, losing one update. Raceway
//! records what a program does to its shared state, orders it by causality,
//! and reports the accesses that nothing ordered.
//!
//! # Data flow
//!
//! A tracking call builds a small record (one TSC read, no I/O, no lock
//! shared between threads) and appends it to its thread's buffer. Full
//! buffers travel over a bounded channel to one background thread, which
//! turns records into the Raceway wire format and delivers them in batches:
//! to a Raceway server over HTTP, to a JSON-lines file, or, by default, to
//! the embedded collector. When the channel is full, events are dropped and
//! counted; the host program never waits.
//!
//! ```
//! use raceway::{AccessType, Config};
//!
//! let guard = raceway::init(Config::default()).expect("valid configuration");
//! guard.track_state_change("account.balance", 100, 70, AccessType::Write);
//! guard.flush().unwrap();
//! assert_eq!(guard.collected_events().len(), 1);
//! ```
//!
//! # Delivery to a Raceway server
//!
//! Delivery is **at least once**: a batch that the server stored but whose
//! answer did not arrive in time (a timeout, a reset connection) is sent
//! again, and the Raceway server, which does not de-duplicate, stores it
//! twice. Batches stay under [`Config::max_batch_bytes`] and recorded
//! values under [`Config::max_value_bytes`] (truncated, with a marker);
//! `Retry-After` is honoured; an answer that reports per-event errors
//! (`206`) counts those events as failed. [`Stats`] accounts for every
//! event (`accepted = sent + dropped + failed + pending`), and
//! [`RacewayClient::shutdown`] returns within `flush_timeout`, saying what
//! it gave up. Credentials (the API key, a user and password in the
//! endpoint URL) never appear in any output.

//!
//! # Instrumenting code
//!
//! - [`#[track]`](macro@track) records each call of a function: entry,
//!   every exit with its value and duration, errors and panics.
//! - [`tracked!`] records reads and writes of shared state:
//!   `tracked!(account.balance)`, `tracked!(account.balance = v)`,
//!   `tracked!(account.balance -= v)`.
//! - [`#[derive(Traced)]`](derive@Traced) names struct instances by a key
//!   field, so `tracked!` reports `Account[alice].balance` and recognises
//!   the same account across services. Without a key, a place's address is
//!   its identity within the process.
//! - [`thread::spawn`] and [`thread::scope`] record the spawn and join edges
//!   between executions.
//!
//! With no client installed, instrumented code runs as written after one
//! relaxed atomic load.

#![warn(missing_docs)]

// The layers, bottom to top; each module uses only those above it in this
// list (tests/layering.rs checks it).
//
// Leaves: time and clocks, values, settings, counters, this process's
// identity, the header codec, diagnostics.
mod clock;
mod component;
mod config;
mod log;
mod stats;
pub mod trace_context;
mod value;
// The record built on the hot path, and the executions it names.
mod event;
// The wire format and the analysis of wire events.
pub mod analyzer;
pub mod wire;
// The hand-off to the background thread, and what runs there.
mod convert;
mod exporter;
mod pipeline;
mod sink;
// The runtime facade: execution contexts, sessions, synchronization.
mod rt;
// The client: the one place that assembles pipeline, sink and exporter.
mod client;
// The process-wide client, and `raceway::check`.
mod check;
mod global;
// Front-ends: everything users call, over the facade.
#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "reqwest")]
mod client_call;
#[cfg(feature = "reqwest")]
mod http_client;
#[cfg(feature = "tower")]
pub mod layer;
mod propagation;
#[cfg(feature = "rayon")]
pub mod rayon;
#[cfg(any(feature = "tower", feature = "actix"))]
mod server_request;
pub mod sync;
pub mod task;
pub mod thread;
mod traced;

pub use analyzer::{Race, RaceKind, Report};
pub use check::{assert_race_free, assert_race_free_async, check, check_async};
pub use client::{HeaderPair, RacewayClient};
pub use clock::VectorClock;
pub use config::{Config, ConfigError, Endpoint, Overflow};
pub use event::{AccessType, LockType};
pub use global::{client, init, InitError, RacewayGuard};
#[cfg(feature = "reqwest")]
pub use http_client::request;
pub use pipeline::FlushError;
pub use propagation::{propagation_headers, NoTraceContext};
pub use stats::Stats;
pub use sync::tracked_lock;
pub use task::FutureExt;
pub use traced::Traced;

pub use raceway_macros::{track, tracked, Traced};
pub use value::Value;
