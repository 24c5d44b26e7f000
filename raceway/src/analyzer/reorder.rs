//! Restores timestamp order to a stream that interleaves several sources
//! (the threads of a process, the files of several services).

use crate::wire::Event;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::UNIX_EPOCH;

/// A window that holds events and releases them in timestamp order; ties
/// keep arrival order, so an execution's program order survives.
pub struct Reorder {
    /// The held events themselves, boxed: a sift moves a pointer, and no
    /// map from arrival to event is kept beside the heap (its hashing was a
    /// fifth of what the embedded analysis spent per event).
    heap: BinaryHeap<Reverse<Held>>,
    arrivals: u64,
    capacity: usize,
    /// The [weight](Event::weight) of the events held, and its bound:
    /// above it the window releases its oldest, as when it holds
    /// `capacity` events.
    weight: usize,
    max_weight: usize,
    window_ns: u128,
    newest: u128,
}

/// An event held, ordered by its timestamp, then its arrival.
struct Held {
    at: u128,
    arrival: u64,
    weight: usize,
    event: Box<Event>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.arrival) == (other.at, other.arrival)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.arrival).cmp(&(other.at, other.arrival))
    }
}

/// Nanoseconds since the epoch of an RFC 3339 timestamp (an event's
/// `timestamp`); 0 if unreadable. The order the analysis takes events in.
pub fn timestamp_ns(text: &str) -> u128 {
    fast_utc(text.as_bytes()).unwrap_or_else(|| {
        humantime::parse_rfc3339_weak(text.trim_end_matches("+00:00"))
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`, the form every Raceway SDK
/// writes, without allocating; `None` for anything else.
fn fast_utc(b: &[u8]) -> Option<u128> {
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u64, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > 31 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000_000u64;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            nanos += u64::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    match &b[i..] {
        b"Z" | b"+00:00" => {}
        _ => return None,
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 { (year as i64 - 1, month + 9) } else { (year as i64, month - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m as i64 + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    u128::try_from(secs).ok().map(|s| s * 1_000_000_000 + u128::from(nanos))
}

impl Reorder {
    /// Holds at most `capacity` events (and clock entries weighing as much
    /// again: events whose clocks are large are released sooner), and
    /// releases an event once one at least `window` newer has arrived.
    pub fn new(capacity: usize, window: std::time::Duration) -> Self {
        Reorder {
            heap: BinaryHeap::new(),
            arrivals: 0,
            capacity,
            weight: 0,
            max_weight: Event::weight_bound(capacity),
            window_ns: window.as_nanos(),
            newest: 0,
        }
    }

    /// Holds everything until [`drain`](Reorder::drain), for finite inputs.
    pub fn unbounded() -> Self {
        Reorder::new(usize::MAX, std::time::Duration::MAX)
    }

    /// Takes an event; returns the events now safe to release, in order.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        let mut out = Vec::new();
        self.push_into(event, &mut out);
        out
    }

    /// [`push`](Reorder::push), appending what it releases to `out` (which
    /// a caller reuses: no allocation per event).
    pub fn push_into(&mut self, event: Event, out: &mut Vec<Event>) {
        let at = timestamp_ns(&event.timestamp);
        self.newest = self.newest.max(at);
        self.arrivals += 1;
        let weight = event.weight();
        self.weight += weight;
        self.heap.push(Reverse(Held { at, arrival: self.arrivals, weight, event: Box::new(event) }));
        while let Some(Reverse(oldest)) = self.heap.peek() {
            let overfull = self.heap.len() > self.capacity || self.weight > self.max_weight;
            let old_enough = self.newest.saturating_sub(oldest.at) > self.window_ns;
            if !(overfull || old_enough) {
                break;
            }
            if let Some(Reverse(held)) = self.heap.pop() {
                self.weight -= held.weight;
                out.push(*held.event);
            }
        }
    }

    /// The timestamp of the oldest event held, if any.
    pub(crate) fn oldest(&self) -> Option<u128> {
        self.heap.peek().map(|Reverse(held)| held.at)
    }

    /// Everything held, in order.
    pub fn drain(&mut self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(Reverse(held)) = self.heap.pop() {
            out.push(*held.event);
        }
        self.weight = 0;
        out
    }
}

/// Sorts a finite set of events by timestamp, keeping arrival order for
/// ties (and so each execution's program order).
pub(crate) fn sort_by_time(events: impl IntoIterator<Item = Event>) -> impl Iterator<Item = Event> {
    let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
    let mut order: Vec<(u128, usize)> =
        slots.iter().enumerate().map(|(i, e)| (e.as_ref().map_or(0, |e| timestamp_ns(&e.timestamp)), i)).collect();
    order.sort_unstable();
    order.into_iter().filter_map(move |(_, i)| slots[i].take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_that_carry_large_clocks_are_released_by_their_weight() {
        let event = |second: u32, entries: usize| Event::for_tests(&format!("2026-11-25T17:45:{second:02}Z"), entries);
        // A window of 4 events may hold a weight of 8: light events stay
        // until the fifth arrives, heavy ones (a weight of 3 each) leave
        // once the third is in.
        let mut window = Reorder::new(4, std::time::Duration::from_secs(3600));
        let mut out = Vec::new();
        for second in 0..4 {
            window.push_into(event(second, 0), &mut out);
        }
        assert!(out.is_empty());
        window.push_into(event(4, 0), &mut out);
        assert_eq!(out.len(), 1);
        let mut window = Reorder::new(4, std::time::Duration::from_secs(3600));
        let mut out = Vec::new();
        window.push_into(event(0, 32), &mut out);
        window.push_into(event(1, 32), &mut out);
        assert!(out.is_empty(), "a weight of 6");
        window.push_into(event(2, 32), &mut out);
        assert_eq!(out.iter().map(|e| e.timestamp.clone()).collect::<Vec<_>>(), ["2026-11-25T17:45:00Z"]);
        assert_eq!(window.drain().len(), 2);
    }

    #[test]
    fn fast_path_agrees_with_humantime() {
        for text in [
            "2026-11-25T17:45:04.353171Z",
            "2026-11-25T17:45:04Z",
            "2000-02-29T00:00:00.5+00:00",
            "1970-01-01T00:00:00Z",
        ] {
            let slow = humantime::parse_rfc3339_weak(text.trim_end_matches("+00:00"))
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            assert_eq!(fast_utc(text.as_bytes()), Some(slow), "{text}");
        }
        assert_eq!(fast_utc(b"2026-11-25 17:45:04Z"), None);
        assert_eq!(timestamp_ns("not a time"), 0);
    }
}
