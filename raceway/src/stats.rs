//! Delivery counters, readable from the client and logged in debug mode.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters that only the slow paths touch (the exporter, and the hot
/// path when it drops an event it cannot record). Accepted events, and
/// events dropped with a chunk the full channel refused, are counted per
/// thread.
#[derive(Default)]
pub(crate) struct Counters {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
}

impl Counters {
    /// The counters, with the per-thread counts summed by the caller.
    pub(crate) fn snapshot(&self, accepted: u64, dropped_by_threads: u64) -> Stats {
        Stats {
            accepted,
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed) + dropped_by_threads,
            failed: self.failed.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            clock_components_refused: crate::component::refused(),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A snapshot of a client's delivery counters.
///
/// Every accepted event ends up, eventually, in exactly one of `sent`,
/// `dropped` or `failed`; the difference is in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events recorded by tracking calls and taken by the pipeline.
    pub accepted: u64,
    /// Events delivered to the sink (server, file or embedded collector).
    pub sent: u64,
    /// Events lost without a delivery attempt: the hand-off channel or the
    /// retry buffer was full, or the client was shutting down.
    pub dropped: u64,
    /// Events given up on: rejected by the server, not serializable, or
    /// still undeliverable when the client shut down.
    pub failed: u64,
    /// Delivery attempts repeated after a transient failure.
    pub retried: u64,
    /// Clock components from other services not learnt, process-wide,
    /// because the table of remote components was full: the
    /// happens-before edges they carried are missing.
    pub clock_components_refused: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "accepted={} sent={} dropped={} failed={} retried={} clock_components_refused={}",
            self.accepted, self.sent, self.dropped, self.failed, self.retried, self.clock_components_refused
        )
    }
}
