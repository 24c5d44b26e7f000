//! Delivery counters, readable from the client and logged in debug mode.
//!
//! Every accepted event is, at every moment, in exactly one of `sent`,
//! `dropped`, `failed` or `pending`: the exporter settles events (moves them
//! out of `pending`) under one lock, and a snapshot reads what was settled
//! before it reads what was accepted, so that it never sees an event settled
//! that it does not see accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Events settled, by outcome.
#[derive(Default)]
struct Settled {
    sent: u64,
    dropped: u64,
    failed: u64,
    /// Set when the client shut down: what was still pending then was given
    /// up (counted failed, or dropped when it had not reached the
    /// exporter), and what the exporter settles afterwards was counted
    /// already. Anything accepted later is dropped.
    closed: bool,
}

/// The counters that only the slow paths touch (the exporter, and the hot
/// path when it drops an event it cannot record). Accepted events, and
/// events dropped with a chunk the full channel refused, are counted per
/// thread.
#[derive(Default)]
pub(crate) struct Counters {
    settled: Mutex<Settled>,
    retried: AtomicU64,
    /// Events refused before any buffer took them (a re-entrant tracking
    /// call, a thread being torn down): accepted and dropped at once.
    refused: AtomicU64,
}

impl Counters {
    fn settled(&self) -> MutexGuard<'_, Settled> {
        self.settled.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settle(&self, n: usize, field: fn(&mut Settled) -> &mut u64) {
        let mut settled = self.settled();
        if !settled.closed {
            *field(&mut settled) += n as u64;
        }
    }

    /// `n` events reached the sink.
    pub(crate) fn sent(&self, n: usize) {
        self.settle(n, |s| &mut s.sent);
    }

    /// `n` events were lost without a delivery attempt.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn dropped(&self, n: usize) {
        self.settle(n, |s| &mut s.dropped);
    }

    /// `n` events were given up on: rejected, unserializable, undeliverable.
    pub(crate) fn failed(&self, n: usize) {
        self.settle(n, |s| &mut s.failed);
    }

    /// One delivery attempt was repeated.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// An event was refused before any buffer took it.
    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Release);
    }

    /// The snapshot, with `accepted` reading the per-thread counts: called
    /// after the settled counts are read, it returns (accepted, dropped by
    /// the threads), reading the dropped count first.
    pub(crate) fn snapshot(&self, accepted: impl FnOnce() -> (u64, u64)) -> Stats {
        let settled = self.settled();
        let refused = self.refused.load(Ordering::Acquire);
        let (accepted, dropped_by_threads) = accepted();
        let accepted = accepted + refused;
        let mut dropped = settled.dropped + dropped_by_threads + refused;
        let done = settled.sent + dropped + settled.failed;
        let mut pending = accepted.saturating_sub(done);
        if settled.closed {
            // Accepted as the client closed, after the last collection.
            dropped += pending;
            pending = 0;
        }
        Stats {
            accepted,
            sent: settled.sent,
            dropped,
            failed: settled.failed,
            pending,
            retried: self.retried.load(Ordering::Relaxed),
            clock_components_refused: crate::component::refused(),
        }
    }

    /// The client shut down: whatever is still pending is given up, as
    /// failed (`failed_rest`: the exporter had it and could not deliver it
    /// in time) or as dropped. Returns how many; later settlements are
    /// ignored, they were counted here.
    pub(crate) fn close(&self, accepted: impl FnOnce() -> (u64, u64), failed_rest: bool) -> u64 {
        let mut settled = self.settled();
        if settled.closed {
            return 0;
        }
        // (Refused events are accepted and dropped at once: never pending.)
        let (accepted, dropped_by_threads) = accepted();
        let done = settled.sent + settled.dropped + settled.failed + dropped_by_threads;
        let rest = accepted.saturating_sub(done);
        if failed_rest {
            settled.failed += rest;
        } else {
            settled.dropped += rest;
        }
        settled.closed = true;
        rest
    }
}

/// A snapshot of a client's delivery counters.
///
/// At every moment, `accepted = sent + dropped + failed + pending`: every
/// accepted event is in exactly one of the four, and `pending` is 0 once
/// [`shutdown`](crate::RacewayClient::shutdown) has returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events recorded by tracking calls and taken by the pipeline.
    pub accepted: u64,
    /// Events delivered to the sink (server, file or embedded collector).
    /// A server's answer that reports per-event errors (`206`, "Ingested 0
    /// events, 50 errors") counts only the events it stored.
    pub sent: u64,
    /// Events lost without a delivery attempt: the hand-off channel or the
    /// retry buffer was full, an event alone was larger than
    /// `max_batch_bytes`, or the client was shutting down.
    pub dropped: u64,
    /// Events given up on: rejected by the server, not serializable, or
    /// still undeliverable when the client shut down.
    pub failed: u64,
    /// Events accepted and not settled yet: in a thread's buffer, in the
    /// hand-off channel, or waiting for delivery (retries included).
    pub pending: u64,
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
            "accepted={} sent={} dropped={} failed={} pending={} retried={} clock_components_refused={}",
            self.accepted,
            self.sent,
            self.dropped,
            self.failed,
            self.pending,
            self.retried,
            self.clock_components_refused
        )
    }
}
