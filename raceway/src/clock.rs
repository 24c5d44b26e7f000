//! Time and causality: the monotonic per-process clock that stamps every
//! event, and the vector clocks that order events across executions.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The process's one monotonic clock. Reading it is a TSC read where the CPU
/// has an invariant TSC (about 10 ns, against 25 ns for `Instant::now`), and
/// falls back to the OS monotonic clock elsewhere. Raw readings are converted
/// to wall-clock time only on the background thread.
pub(crate) struct Timebase {
    clock: quanta::Clock,
    base_raw: u64,
    base_wall: SystemTime,
}

static TIMEBASE: OnceLock<Timebase> = OnceLock::new();

impl Timebase {
    pub(crate) fn get() -> &'static Timebase {
        TIMEBASE.get_or_init(|| {
            let clock = quanta::Clock::new();
            let base_raw = clock.raw();
            Timebase { clock, base_raw, base_wall: SystemTime::now() }
        })
    }

    /// A raw, monotonic reading: comparable with other readings of this
    /// process, meaningless elsewhere.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.raw()
    }

    /// Nanoseconds between two raw readings.
    pub(crate) fn nanos_between(&self, start: u64, end: u64) -> u64 {
        if end <= start {
            return 0;
        }
        self.clock.delta_as_nanos(start, end)
    }

    /// Nanoseconds since the process's time base was taken.
    pub(crate) fn nanos_since_base(&self, raw: u64) -> u64 {
        self.nanos_between(self.base_raw, raw)
    }

    /// The wall-clock time of a raw reading.
    pub(crate) fn wall(&self, raw: u64) -> SystemTime {
        self.base_wall + Duration::from_nanos(self.nanos_since_base(raw))
    }
}

/// A vector clock over the executions of this process: for each execution,
/// the number of its events that happen before the clock's owner.
///
/// Stored as a vector sorted by execution id: clocks are small (the executions
/// that ever synchronized with the owner), so joins are merges and lookups are
/// binary searches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VectorClock {
    entries: Vec<(u64, u64)>,
}

impl VectorClock {
    /// An empty clock: nothing happens before it.
    pub const fn new() -> Self {
        VectorClock { entries: Vec::new() }
    }

    /// A clock of `entries`, in any order (a component listed twice keeps
    /// its largest count).
    #[cfg(test)]
    pub(crate) fn from_entries(mut entries: Vec<(u64, u64)>) -> Self {
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return VectorClock { entries };
        }
        entries.sort_unstable();
        // Sorted by (component, count): the last of each run is its largest.
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(entries.len());
        for (e, n) in entries {
            match out.last_mut() {
                Some(last) if last.0 == e => last.1 = n,
                _ => out.push((e, n)),
            }
        }
        VectorClock { entries: out }
    }

    /// The component of execution `exec`.
    pub fn get(&self, exec: u64) -> u64 {
        match self.entries.binary_search_by_key(&exec, |&(e, _)| e) {
            Ok(i) => self.entries[i].1,
            Err(_) => 0,
        }
    }

    /// Raises the component of `exec` to at least `n`.
    pub fn observe(&mut self, exec: u64, n: u64) {
        match self.entries.binary_search_by_key(&exec, |&(e, _)| e) {
            Ok(i) => self.entries[i].1 = self.entries[i].1.max(n),
            Err(i) => self.entries.insert(i, (exec, n)),
        }
    }

    /// Removes the component of `exec`.
    pub(crate) fn forget(&mut self, exec: u64) {
        if let Ok(i) = self.entries.binary_search_by_key(&exec, |&(e, _)| e) {
            self.entries.remove(i);
        }
    }

    /// Keeps the components for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        self.entries.retain(|&(e, _)| keep(e));
    }

    /// Pointwise maximum with `other`.
    pub fn join(&mut self, other: &VectorClock) {
        if other.entries.is_empty() {
            return;
        }
        // In place when every component of `other` is already here (the
        // common case: clocks that met before): no allocation.
        let mut at = 0;
        let in_place = other.entries.iter().all(|&(e, n)| {
            while at < self.entries.len() && self.entries[at].0 < e {
                at += 1;
            }
            match self.entries.get_mut(at) {
                Some(entry) if entry.0 == e => {
                    entry.1 = entry.1.max(n);
                    true
                }
                _ => false,
            }
        });
        if in_place {
            return;
        }
        let mut merged = Vec::with_capacity(self.entries.len() + other.entries.len());
        let (mut a, mut b) = (self.entries.iter().peekable(), other.entries.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(ea, na)), Some(&&(eb, nb))) => {
                    if ea == eb {
                        merged.push((ea, na.max(nb)));
                        a.next();
                        b.next();
                    } else if ea < eb {
                        merged.push((ea, na));
                        a.next();
                    } else {
                        merged.push((eb, nb));
                        b.next();
                    }
                }
                (Some(&&x), None) => {
                    merged.push(x);
                    a.next();
                }
                (None, Some(&&y)) => {
                    merged.push(y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.entries = merged;
    }

    /// Whether every component is at most the other's: `self` happens before
    /// or equals `other`.
    pub fn le(&self, other: &VectorClock) -> bool {
        self.entries.iter().all(|&(e, n)| n <= other.get(e))
    }

    /// The `(execution, count)` entries, sorted by execution.
    pub fn entries(&self) -> &[(u64, u64)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_is_a_pointwise_max() {
        let mut a = VectorClock::new();
        a.observe(1, 3);
        a.observe(4, 1);
        let mut b = VectorClock::new();
        b.observe(1, 2);
        b.observe(2, 5);
        a.join(&b);
        assert_eq!(a.entries(), &[(1, 3), (2, 5), (4, 1)]);
        assert!(b.le(&a));
        assert!(!a.le(&b));
    }

    #[test]
    fn a_clock_from_entries_in_any_order_keeps_each_largest_count() {
        let clock = VectorClock::from_entries(vec![(4, 1), (1, 3), (4, 7), (2, 5)]);
        assert_eq!(clock.entries(), &[(1, 3), (2, 5), (4, 7)]);
        let sorted = VectorClock::from_entries(vec![(1, 1), (2, 2)]);
        assert_eq!(sorted.entries(), &[(1, 1), (2, 2)]);
    }

    #[test]
    fn a_clock_is_before_another_whatever_their_layouts() {
        let clock = VectorClock::from_entries(vec![(1, 3), (2, 5), (4, 7)]);
        assert!(VectorClock::from_entries(vec![(2, 5), (4, 1)]).le(&clock));
        assert!(VectorClock::from_entries(vec![(1, 3), (2, 5), (4, 7)]).le(&clock));
        assert!(!VectorClock::from_entries(vec![(1, 3), (2, 6)]).le(&clock));
        assert!(!VectorClock::from_entries(vec![(2, 5), (3, 1)]).le(&clock));
        assert!(!VectorClock::from_entries(vec![(1, 3), (2, 5), (4, 7), (9, 1)]).le(&clock));
        assert!(VectorClock::new().le(&clock));
    }

    #[test]
    fn an_in_place_join_is_the_same_pointwise_max() {
        let mut a = VectorClock::from_entries(vec![(1, 3), (2, 1), (3, 4)]);
        a.join(&VectorClock::from_entries(vec![(1, 1), (2, 6)]));
        assert_eq!(a.entries(), &[(1, 3), (2, 6), (3, 4)]);
        // A component that is new after some were raised in place.
        a.join(&VectorClock::from_entries(vec![(1, 9), (5, 2)]));
        assert_eq!(a.entries(), &[(1, 9), (2, 6), (3, 4), (5, 2)]);
    }

    #[test]
    fn timebase_is_monotonic_and_near_wall_time() {
        let tb = Timebase::get();
        let a = tb.now();
        let b = tb.now();
        assert!(b >= a);
        let wall = tb.wall(b);
        let skew = SystemTime::now().duration_since(wall).unwrap_or_default();
        assert!(skew < Duration::from_secs(60));
    }
}
