//! The client: configuration plus a running pipeline, and the tracking
//! methods with the names the other Raceway SDKs use.

use crate::analyzer::Report;
use crate::config::{Config, ConfigError};
use crate::event::{nanos, AccessType, Kind, LockRef, LockType, Name, Place};
use crate::pipeline::{FlushError, Pipeline};
use crate::sink::{self, EmbeddedStore};
use crate::stats::Stats;
use crate::value::Value;
use crate::{exporter, rt};
use serde::Serialize;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running Raceway client: a background sender and the tracking methods
/// that feed it.
///
/// Cheap to clone; the pipeline shuts down (flushing what it holds) when
/// [`shutdown`](RacewayClient::shutdown) is called or the last clone is
/// dropped. Most programs call [`crate::init`] instead, which installs a
/// client for the macros and wrappers to use.
#[derive(Clone)]
pub struct RacewayClient {
    inner: Arc<ClientInner>,
}

/// The one place where a pipeline, a sink and an exporter are put
/// together.
struct ClientInner {
    pipeline: Arc<Pipeline>,
    /// The exporter thread, joined at shutdown.
    exporter: Mutex<Option<JoinHandle<()>>>,
    /// The embedded collector's store, when that is the sink.
    embedded: Option<Arc<EmbeddedStore>>,
}

impl ClientInner {
    fn shutdown(&self) -> Result<(), FlushError> {
        rt::hand_off_to(&self.pipeline);
        let (answered, outcome) = self.pipeline.shutdown();
        let handle = self.exporter.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let (true, Some(handle)) = (answered, handle) {
            // The exporter answered and is returning: joining is quick.
            let _ = handle.join();
        }
        outcome
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl fmt::Debug for RacewayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RacewayClient").field("config", self.config()).finish_non_exhaustive()
    }
}

/// One header, as the tracking methods accept it: `(name, value)` pairs of
/// anything string-like, by value or by reference (so a `HashMap`, a `Vec`
/// of pairs, `&[(&str, &str)]` and arrays all work).
pub trait HeaderPair {
    /// The pair as owned strings.
    fn into_pair(self) -> (String, String);
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderPair for (K, V) {
    fn into_pair(self) -> (String, String) {
        (self.0.as_ref().to_string(), self.1.as_ref().to_string())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderPair for &(K, V) {
    fn into_pair(self) -> (String, String) {
        (self.0.as_ref().to_string(), self.1.as_ref().to_string())
    }
}

impl RacewayClient {
    /// Validates `config` and starts the background sender.
    ///
    /// Fails with a [`ConfigError`] naming the setting when the
    /// configuration cannot work (for instance a `file://` endpoint that
    /// cannot be opened).
    pub fn new(config: Config) -> Result<RacewayClient, ConfigError> {
        config.validate()?;
        let (pipeline, outputs) = Pipeline::new(config);
        let sink = sink::open(&pipeline.config, pipeline.deadline.clone())?;
        let embedded = sink.embedded_store();
        let handle = exporter::spawn(pipeline.clone(), outputs, sink)
            .map_err(|e| ConfigError::new("exporter thread", "", e.to_string()))?;
        crate::component::set_process_identity(&pipeline.config.service_name, &pipeline.config.instance_id);
        let inner = ClientInner { pipeline, exporter: Mutex::new(Some(handle)), embedded };
        Ok(RacewayClient { inner: Arc::new(inner) })
    }

    pub(crate) fn pipeline(&self) -> &Arc<Pipeline> {
        &self.inner.pipeline
    }

    pub(crate) fn same_as(&self, other: &RacewayClient) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The configuration this client runs with.
    pub fn config(&self) -> &Config {
        &self.inner.pipeline.config
    }

    /// Delivery counters.
    pub fn stats(&self) -> Stats {
        self.inner.pipeline.stats()
    }

    /// Returns once every event accepted before the call was delivered or
    /// given up on, or after `flush_timeout`.
    ///
    /// Blocks the calling thread, not the host's runtime machinery: it works
    /// from plain threads and from inside any tokio runtime, the
    /// current-thread one included, because delivery runs on the client's
    /// own thread.
    pub fn flush(&self) -> Result<(), FlushError> {
        rt::hand_off_to(&self.inner.pipeline);
        self.inner.pipeline.flush()
    }

    /// Flushes, then stops and joins the background thread, within
    /// `flush_timeout` (5 s by default, `RACEWAY_FLUSH_TIMEOUT`): what could
    /// not be delivered by then is given up, counted in `stats().failed`,
    /// and reported by [`FlushError::GaveUp`] (and a line on stderr) with
    /// how many events. Once it returns, `stats().pending` is 0. Events
    /// recorded afterwards are ignored. Calling it again does nothing.
    pub fn shutdown(&self) -> Result<(), FlushError> {
        self.inner.shutdown()
    }

    /// The events held by the embedded collector (the default when no
    /// endpoint is configured), oldest first, at most `embedded_capacity`.
    /// Empty for other endpoints. Call [`flush`](RacewayClient::flush) first
    /// to include the most recent events.
    pub fn collected_events(&self) -> Vec<crate::wire::Event> {
        self.inner.embedded.as_ref().map(|store| store.snapshot()).unwrap_or_default()
    }

    /// The analysis of everything recorded so far, from the embedded
    /// collector (the default when no endpoint is configured): flushes
    /// first. Empty for other endpoints; analyze their events with
    /// [`crate::analyzer::analyze`] or `raceway analyze`.
    pub fn report(&self) -> Report {
        let _ = self.flush();
        let mut report = self.inner.embedded.as_ref().map(|store| store.report()).unwrap_or_default();
        report.events_dropped = self.stats().dropped;
        report
    }

    fn emit(&self, kind: Kind) {
        rt::emit_to(&self.inner.pipeline, kind);
    }

    /// Records a read or write of shared state: `variable` names it
    /// (the Raceway server compares accesses by this name), `old` and `new`
    /// are its values before and after (pass `None::<()>` for `old` on a
    /// read).
    #[track_caller]
    pub fn track_state_change<O: Serialize, N: Serialize>(
        &self,
        variable: impl Into<Name>,
        old: O,
        new: N,
        access_type: AccessType,
    ) {
        self.emit(Kind::StateChange {
            variable: variable.into(),
            place: Place::NAMED,
            old: Some(Value::capture(&old)),
            new: Value::capture(&new),
            access: access_type,
            site: Location::caller(),
        });
    }

    /// Records a call of `function` with `args` (any `Serialize` value, such
    /// as a tuple or a map of argument names to values).
    #[track_caller]
    pub fn track_function_call<A: Serialize>(&self, function: impl Into<Name>, args: A) {
        let site = Location::caller();
        self.emit(Kind::FunctionCall {
            function: function.into(),
            module: Name::Borrowed(site.file()),
            args: Value::capture(&args),
            atomic: true,
            site,
        });
    }

    /// Records the return of `function` with its value and how long the call
    /// took.
    #[track_caller]
    pub fn track_function_return<R: Serialize>(&self, function: impl Into<Name>, value: R, duration: Duration) {
        let site = Location::caller();
        self.emit(Kind::FunctionReturn {
            function: function.into(),
            module: Name::Borrowed(site.file()),
            value: Value::capture(&value),
            site,
            duration_ns: nanos(duration),
        });
    }

    /// Records an outgoing or incoming HTTP request. Values of credential
    /// headers (`Authorization`, `Cookie`, `X-Raceway-Key`, …) are redacted.
    #[track_caller]
    pub fn track_http_request<H, B>(&self, method: &str, url: &str, headers: H, body: B)
    where
        H: IntoIterator,
        H::Item: HeaderPair,
        B: Serialize,
    {
        self.emit(Kind::http_request(
            method,
            url,
            headers.into_iter().map(HeaderPair::into_pair),
            Value::capture(&body),
        ));
    }

    /// Records an HTTP response and how long the exchange took.
    #[track_caller]
    pub fn track_http_response<H, B>(&self, status: u16, headers: H, body: B, duration: Duration)
    where
        H: IntoIterator,
        H::Item: HeaderPair,
        B: Serialize,
    {
        let headers = headers.into_iter().map(HeaderPair::into_pair);
        self.emit(Kind::http_response(status, headers, Value::capture(&body), duration));
    }

    /// Records that the current execution acquired the lock `lock_id`. Every
    /// event recorded until the matching
    /// [`track_lock_release`](RacewayClient::track_lock_release) lists the
    /// lock in its lock set.
    #[track_caller]
    pub fn track_lock_acquire(&self, lock_id: impl Into<Name>, lock_type: impl Into<LockType>) {
        self.emit(Kind::LockAcquire {
            lock: LockRef::named(lock_id.into()),
            lock_type: lock_type.into(),
            site: Location::caller(),
        });
    }

    /// Records that the current execution released the lock `lock_id`.
    #[track_caller]
    pub fn track_lock_release(&self, lock_id: impl Into<Name>, lock_type: impl Into<LockType>) {
        self.emit(Kind::LockRelease {
            lock: LockRef::named(lock_id.into()),
            lock_type: lock_type.into(),
            site: Location::caller(),
        });
    }

    /// Records an error by type name and message. The stack trace is
    /// captured when `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` enables it.
    #[track_caller]
    pub fn track_error(&self, error_type: impl Into<Name>, message: impl fmt::Display) {
        self.emit(Kind::error(error_type.into(), message.to_string(), backtrace_lines()));
    }

    /// Records `error` with its type name, its message and its chain of
    /// sources.
    #[track_caller]
    pub fn track_error_value<E: std::error::Error + ?Sized>(&self, error: &E) {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        self.track_error(std::any::type_name::<E>(), message);
    }
}

pub(crate) fn backtrace_lines() -> Vec<String> {
    let trace = std::backtrace::Backtrace::capture();
    if trace.status() != std::backtrace::BacktraceStatus::Captured {
        return Vec::new();
    }
    trace.to_string().lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}
