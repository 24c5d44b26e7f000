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
use std::sync::Arc;
use std::time::Instant;

/// A destination for batches of events. Only the exporter thread calls it.
pub(crate) trait Sink: Send {
    /// Takes one batch of at most `batch_size` events.
    fn submit(&mut self, events: Vec<Event>, counters: &Counters);

    /// The execution with this `thread_id` ended; its events were
    /// submitted, or are in the partial batch the next tick submits.
    fn ended(&mut self, _thread_id: String) {}

    /// Retries or writes out what is waiting. `force` ignores any backoff:
    /// a flush was requested.
    fn pump(&mut self, _counters: &Counters, _force: bool) {}

    /// Last delivery before the exporter stops, bounded by `deadline`; what
    /// is still undelivered then is counted as failed.
    fn close(&mut self, counters: &Counters, _deadline: Instant) {
        self.pump(counters, true);
    }

    /// When the sink wants [`pump`](Sink::pump) called although nothing new
    /// arrived (the end of a retry backoff).
    fn wake_at(&self) -> Option<Instant> {
        None
    }

    /// The store behind the embedded collector, if this is it.
    fn embedded_store(&self) -> Option<Arc<EmbeddedStore>> {
        None
    }
}

/// Opens the sink that `config.endpoint` names.
pub(crate) fn open(config: &Config) -> Result<Box<dyn Sink>, ConfigError> {
    match &config.endpoint {
        None => Ok(Box::new(embedded::EmbeddedSink::new(config))),
        Some(Endpoint::File(path)) => Ok(Box::new(file::FileSink::open(path)?)),
        #[cfg(feature = "http")]
        Some(Endpoint::Http(url)) => Ok(Box::new(http::HttpSink::new(url, config)?)),
        #[cfg(not(feature = "http"))]
        Some(Endpoint::Http(url)) => Err(ConfigError::field(
            "RACEWAY_ENDPOINT",
            "endpoint",
            url.clone(),
            "HTTP delivery needs the `http` cargo feature of `raceway`",
        )),
    }
}
