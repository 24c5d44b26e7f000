//! Restores timestamp order to a stream that interleaves several sources
//! (the threads of a process, the files of several services).

use crate::wire::Event;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::UNIX_EPOCH;

/// A window that holds events and releases them in timestamp order; ties
/// keep arrival order, so an execution's program order survives.
pub struct Reorder {
    heap: BinaryHeap<Reverse<Pending>>,
    arrivals: u64,
    capacity: usize,
    window_ns: u128,
    newest: u128,
}

struct Pending {
    at: u128,
    arrival: u64,
    event: Event,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.arrival) == (other.at, other.arrival)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.arrival).cmp(&(other.at, other.arrival))
    }
}

/// Nanoseconds since the epoch of an RFC 3339 timestamp; 0 if unreadable.
pub(crate) fn timestamp_ns(text: &str) -> u128 {
    humantime::parse_rfc3339_weak(text.trim_end_matches("+00:00"))
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

impl Reorder {
    /// Holds at most `capacity` events, and releases an event once one at
    /// least `window` newer has arrived.
    pub fn new(capacity: usize, window: std::time::Duration) -> Self {
        Reorder { heap: BinaryHeap::new(), arrivals: 0, capacity, window_ns: window.as_nanos(), newest: 0 }
    }

    /// Holds everything until [`drain`](Reorder::drain), for finite inputs.
    pub fn unbounded() -> Self {
        Reorder::new(usize::MAX, std::time::Duration::MAX)
    }

    /// Takes an event; returns the events now safe to release, in order.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        let at = timestamp_ns(&event.timestamp);
        self.newest = self.newest.max(at);
        self.arrivals += 1;
        self.heap.push(Reverse(Pending { at, arrival: self.arrivals, event }));
        let mut out = Vec::new();
        while let Some(Reverse(oldest)) = self.heap.peek() {
            let overfull = self.heap.len() > self.capacity;
            let old_enough = self.newest.saturating_sub(oldest.at) > self.window_ns;
            if !(overfull || old_enough) {
                break;
            }
            out.push(self.heap.pop().expect("peeked").0.event);
        }
        out
    }

    /// The timestamp of the oldest event held, if any.
    pub(crate) fn oldest(&self) -> Option<u128> {
        self.heap.peek().map(|Reverse(p)| p.at)
    }

    /// Everything held, in order.
    pub fn drain(&mut self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(Reverse(p)) = self.heap.pop() {
            out.push(p.event);
        }
        out
    }
}
