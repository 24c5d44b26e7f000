#![doc = include_str!("../README.md")]
//!
//! # The crate
//!
//! Rust rules out data races on memory; it does not rule out two requests
//! that each read a balance under a lock, and each write back
//! `balance - amount` under the lock again, losing one update. Raceway
//! records what a program does to its shared state, orders it by causality,
//! and reports the accesses that nothing ordered.
//!
//! ## Finding a race
//!
//! Two threads update one balance under a `std::sync::Mutex`, which
//! raceway does not see: nothing it recorded orders the two updates, and
//! [`check`] reports the race.
//!
//! ```
//! use raceway::{tracked, RaceKind};
//!
//! let report = raceway::check(|| {
//!     let balance = std::sync::Mutex::new(100i64);
//!     raceway::thread::scope(|s| {
//!         for amount in [30, 50] {
//!             let balance = &balance;
//!             s.spawn(move || {
//!                 let mut b = balance.lock().unwrap();
//!                 tracked!(*b -= amount);
//!             });
//!         }
//!     });
//! });
//! assert!(!report.is_clean(), "{report}");
//! assert_eq!(report.races()[0].kind(), RaceKind::DataRace);
//! // The same report as text (`Display`), JSON and an HTML page.
//! assert!(report.to_string().contains("WARNING: raceway: data race on *b"));
//! assert!(report.to_html().contains("data-kind=\"data_race\""));
//! ```
//!
//! With [`raceway::sync::Mutex`](crate::sync::Mutex) instead, the lock's
//! hand-off orders the updates and the report is clean.
//!
//! ## Data flow
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
//! ## Instrumenting code
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
//!
//! ## Environment variables
//!
//! Every setting raceway reads from the environment. Booleans take `1`,
//! `0`, `true`, `false`, `yes`, `no`, `on` or `off` in any case; any other
//! value, and any value that cannot be used, is an error naming the
//! variable ([`ConfigError`]), from [`Config::from_env`] and from
//! [`init`]. An empty variable is unset.
//!
//! | variable | default | what it sets |
//! |---|---|---|
//! | `RACEWAY_ENDPOINT` | none: the embedded analyzer | where events go ([`Config::endpoint`]): `http://…` or `https://…` (a Raceway server; feature `http`), or `file:///path.jsonl` (JSON lines; the directory must exist) |
//! | `RACEWAY_SERVICE_NAME` | `unknown-service` | [`Config::service_name`] |
//! | `RACEWAY_INSTANCE_ID` | `<hostname>-<pid>` | [`Config::instance_id`] |
//! | `RACEWAY_ENV` | `$ENV`, else `development` | [`Config::environment`] |
//! | `RACEWAY_API_KEY` | none | [`Config::api_key`], sent as `Authorization: Bearer` and `X-Raceway-Key` |
//! | `RACEWAY_BATCH_SIZE` | 50 | [`Config::batch_size`]: events per delivered batch |
//! | `RACEWAY_FLUSH_INTERVAL` | 1 | [`Config::flush_interval`], in seconds (fractions allowed) |
//! | `RACEWAY_DEBUG` | off | [`Config::debug`]: delivery diagnostics on stderr (boolean) |
//! | `RACEWAY_CHANNEL_CAPACITY` | 65536 | [`Config::channel_capacity`]: events in the hand-off to the background thread |
//! | `RACEWAY_REQUEST_TIMEOUT` | 10 | [`Config::request_timeout`], in seconds |
//! | `RACEWAY_FLUSH_TIMEOUT` | 30 | [`Config::flush_timeout`], in seconds |
//! | `RACEWAY_RETRY_BUFFER` | 10000 | [`Config::retry_buffer`]: events kept while the server is unreachable |
//! | `RACEWAY_OVERFLOW` | `block` for `file://`, else `drop` | [`Config::overflow`]: `drop` or `block` when the hand-off is full |
//! | `RACEWAY_EMBEDDED_CAPACITY` | 100000 | [`Config::embedded_capacity`]: events kept for [`RacewayClient::collected_events`] |
//! | `RACEWAY_REPORT` | none | [`init`], embedded mode: also write the report to this path at the end (and on SIGINT/SIGTERM), as HTML when it ends in `.html` or `.htm` ([`Report::to_html`]), as JSON otherwise ([`Report::to_json`]) |
//! | `RACEWAY_FAIL_ON_RACE` | off | [`init`], embedded mode: exit with status 66 at the end when races were found (boolean) |
//! | `RACEWAY_SIGNALS` | on | [`init`]: on SIGINT and SIGTERM the program does not handle itself, print the report before the process ends (boolean; see [what raceway does on signals](init#what-raceway-does-on-sigint-and-sigterm)) |
//!
//! ## Cargo features
//!
//! `http` (default): delivery to a Raceway server. `cli` (default): the
//! `raceway` command's dependencies (clap, indicatif), unused by the
//! library. `tokio`: `raceway::task::spawn`, `raceway::sync::tokio`,
//! `raceway::shutdown_signal`. `crossbeam`: `raceway::sync::crossbeam`. `rayon`:
//! `raceway::rayon`. `tower` (or `axum`): `raceway::layer::RacewayLayer`.
//! `actix`: `raceway::actix::RacewayMiddleware`. `reqwest`:
//! `raceway::request`. Items that need one carry its badge here.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

// The layers, bottom to top; each module uses only those above it in this
// list (tests/layering.rs checks it).
//
// Leaves: time and clocks, the retired clock components, values, settings, counters, this process's
// identity, the header codec, diagnostics.
mod clock;
mod component;
mod config;
mod log;
mod retirement;
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
mod signal;
// Front-ends: everything users call, over the facade.
#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "reqwest")]
mod client_call;
#[cfg(feature = "reqwest")]
mod http_client;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod layer;
mod propagation;
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
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
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use http_client::request;
pub use pipeline::FlushError;
pub use propagation::{propagation_headers, NoTraceContext};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use signal::shutdown_signal;
pub use stats::Stats;
pub use sync::tracked_lock;
pub use task::FutureExt;
pub use traced::Traced;

pub use raceway_macros::{track, tracked, Traced};
pub use value::Value;
