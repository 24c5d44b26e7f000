//! Where the background thread delivers events: a Raceway server over HTTP,
//! a JSON-lines file, or the embedded in-process collector.

mod embedded;
mod file;
#[cfg(feature = "http")]
mod http;

pub(crate) use embedded::EmbeddedStore;

use crate::config::{Config, ConfigError, Endpoint};
use crate::stats::Counters;
use crate::wire::Event;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A destination for batches of events. Only the exporter thread calls it.
pub(crate) trait Sink: Send {
    /// Takes one batch of at most `batch_size` events.
    fn submit(&mut self, events: Vec<Event>, counters: &Counters);

    /// An execution ended; its events were submitted, or are in the
    /// partial batch the next tick submits.
    fn ended(&mut self, _ending: crate::convert::Ending) {}

    /// Retries or writes out what is waiting. `force` ignores any backoff:
    /// a flush was requested.
    fn pump(&mut self, _counters: &Counters, _force: bool) {}

    /// Last delivery before the exporter stops, bounded by `deadline`; what
    /// is still undelivered then is counted as failed. Returns how many
    /// events were given up.
    fn close(&mut self, counters: &Counters, _deadline: Instant) -> u64 {
        self.pump(counters, true);
        0
    }

    /// When the sink wants [`pump`](Sink::pump) called although nothing new
    /// arrived (the end of a retry backoff).
    fn wake_at(&self) -> Option<Instant> {
        None
    }

    /// Whether the sink wants the next tick now (every thread's buffer
    /// collected, then [`pump`](Sink::pump)) rather than at its time,
    /// `lost_ends` being the ends of executions that were dropped with
    /// their chunks and that the next tick tells it: the embedded
    /// collector, when enough executions ended that retiring their
    /// components is due (see `crate::retirement`).
    fn tick_due(&self, _lost_ends: usize) -> bool {
        false
    }

    /// The store behind the embedded collector, if this is it.
    fn embedded_store(&self) -> Option<Arc<EmbeddedStore>> {
        None
    }
}

/// When delivery must be over: set once, when the client starts shutting
/// down, so that a request already in flight is cut short at the deadline
/// rather than run its whole `request_timeout`.
#[derive(Default)]
pub(crate) struct Deadline {
    state: Mutex<(Option<Instant>, Vec<Waker>)>,
}

impl Deadline {
    /// Sets the deadline (the first one set stays) and wakes the waiters.
    pub(crate) fn set(&self, at: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.get_or_insert(at);
        for waker in state.1.drain(..) {
            waker.wake();
        }
    }

    /// The deadline, once set.
    pub(crate) fn get(&self) -> Option<Instant> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    /// Resolves with the deadline once it is set.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn when_set(&self) -> impl Future<Output = Instant> + '_ {
        WhenSet(self)
    }
}

struct WhenSet<'a>(&'a Deadline);

impl Future for WhenSet<'_> {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = state.0 {
            return Poll::Ready(at);
        }
        if !state.1.iter().any(|w| w.will_wake(cx.waker())) {
            state.1.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Opens the sink that `config.endpoint` names; `deadline` is set when the
/// client shuts down.
#[cfg_attr(not(feature = "http"), allow(unused_variables))]
pub(crate) fn open(config: &Config, deadline: Arc<Deadline>) -> Result<Box<dyn Sink>, ConfigError> {
    match &config.endpoint {
        None => Ok(Box::new(embedded::EmbeddedSink::new(config))),
        Some(Endpoint::File(path)) => Ok(Box::new(file::FileSink::open(path)?)),
        #[cfg(feature = "http")]
        Some(Endpoint::Http(url)) => Ok(Box::new(http::HttpSink::new(url, config, deadline)?)),
        #[cfg(not(feature = "http"))]
        Some(Endpoint::Http(url)) => Err(ConfigError::field(
            "RACEWAY_ENDPOINT",
            "endpoint",
            url.clone(),
            "HTTP delivery needs the `http` cargo feature of `raceway`",
        )),
    }
}
