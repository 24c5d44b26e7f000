//! Looking an execution's component up in an event's vector clock: the one
//! question the data-race check asks ("did this event see that access?"),
//! answered in O(1) for most accesses (FastTrack's epochs), with a position
//! hint where clocks list components in much the same order.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// An event's vector clock, indexed when it is consulted often.
pub(crate) struct Clock<'a> {
    pub(crate) entries: &'a [(Arc<str>, u64)],
    pub(crate) index: Option<HashMap<&'a str, u64>>,
}

impl<'a> Clock<'a> {
    pub(crate) fn new(entries: &'a [(Arc<str>, u64)], lookups: usize) -> Self {
        // A scan per lookup (pointer comparisons first) is cheaper than
        // building an index unless there are many lookups in a long clock.
        let index = (lookups > 32 && entries.len() > 32).then(|| {
            let mut index = HashMap::with_capacity_and_hasher(entries.len(), Default::default());
            index.extend(entries.iter().map(|(c, n)| (&**c, *n)));
            index
        });
        Clock { entries, index }
    }

    /// The entry of `component`, looked for first at or next to `near`
    /// (a clock lists its own execution's entry last, which moves the
    /// others by one between executions); and where it was found, when
    /// not there.
    pub(crate) fn get(&self, component: &Arc<str>, near: usize) -> (u64, Option<usize>) {
        for at in [near, near + 1, near.wrapping_sub(1)] {
            if let Some((c, n)) = self.entries.get(at) {
                if Arc::ptr_eq(c, component) {
                    return (*n, (at != near).then_some(at));
                }
            }
        }
        if let Some(index) = &self.index {
            return (index.get(&**component).copied().unwrap_or(0), None);
        }
        // Components are usually shared: compare pointers first.
        let at = (self.entries.iter().position(|(c, _)| Arc::ptr_eq(c, component)))
            .or_else(|| self.entries.iter().position(|(c, _)| c == component));
        (at.map_or(0, |at| self.entries[at].1), at)
    }

    /// Whether the access of execution component `epoch` (its name and
    /// its value then) happens before the event with this clock. `hints`
    /// are where that component was last found: they are updated where it
    /// is found elsewhere.
    pub(crate) fn after(&self, epoch: &Option<(Arc<str>, u64)>, hints: [&Hint; 2]) -> bool {
        let Some((component, n)) = epoch else {
            return false;
        };
        let (seen, found_at) = self.get(component, hints[0].get());
        if let Some(at) = found_at {
            // Where the next clock probably lists the component too.
            for hint in hints {
                hint.set(at);
            }
        }
        seen >= *n
    }
}

/// A position in a clock where a component probably is, updated as checks
/// find it elsewhere. Atomic (relaxed) so that the analysis stays `Sync`;
/// a stale hint costs a look elsewhere, never a wrong answer.
#[derive(Default)]
pub(crate) struct Hint(AtomicU32);

impl Hint {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed) as usize
    }

    pub(crate) fn set(&self, at: usize) {
        self.0.store(at as u32, Ordering::Relaxed);
    }
}

impl Clone for Hint {
    fn clone(&self) -> Self {
        Hint(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}
