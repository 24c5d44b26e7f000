//! The prediction's vector clocks: a count per component id, indexed
//! directly. The order gives components small ids and reuses those of
//! retired components (see `predict::Components`), so a clock is as long
//! as the highest id it has seen, and its joins and comparisons are loops
//! over plain arrays that the compiler vectorizes, with no search and no
//! merge. The runtime's clocks, whose components are sparse, stay
//! [`VectorClock`](crate::clock::VectorClock)s.

/// A vector clock over small component ids: `counts[c]` is the number of
/// component `c`'s events ordered before the clock's owner (0: none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DenseClock {
    counts: Vec<u64>,
}

impl DenseClock {
    /// The count of component `c`.
    #[inline]
    pub(crate) fn get(&self, c: u64) -> u64 {
        self.counts.get(c as usize).copied().unwrap_or(0)
    }

    /// Raises the count of component `c` to at least `n`.
    #[inline]
    pub(crate) fn observe(&mut self, c: u64, n: u64) {
        let c = c as usize;
        if c >= self.counts.len() {
            if n == 0 {
                return;
            }
            self.counts.resize(c + 1, 0);
        }
        self.counts[c] = self.counts[c].max(n);
    }

    /// Lowers the count of component `c` to at most `n`.
    pub(crate) fn lower(&mut self, c: u64, n: u64) {
        if let Some(count) = self.counts.get_mut(c as usize) {
            *count = (*count).min(n);
        }
    }

    /// Forgets every count, keeping the allocation and the length (so
    /// that counts set again in any order do not grow it a step at a
    /// time).
    pub(crate) fn clear(&mut self) {
        self.counts.fill(0);
    }

    /// Forgets the counts of components `ids`.
    pub(crate) fn forget(&mut self, ids: &[u64]) {
        for &c in ids {
            if let Some(count) = self.counts.get_mut(c as usize) {
                *count = 0;
            }
        }
    }

    /// Pointwise maximum with `other`.
    pub(crate) fn join(&mut self, other: &DenseClock) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// Whether every count is at most the other's: `self` happens before
    /// or equals `other`.
    pub(crate) fn le(&self, other: &DenseClock) -> bool {
        let shared = self.counts.len().min(other.counts.len());
        let (head, tail) = self.counts.split_at(shared);
        // No early exit: a loop the compiler vectorizes is cheaper than a
        // branch per count.
        let above = head.iter().zip(&other.counts).fold(false, |above, (a, b)| above | (a > b));
        !above && tail.iter().all(|&n| n == 0)
    }

    /// Whether nothing is ordered before the clock.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts.iter().all(|&n| n == 0)
    }

    /// The components with a count, and their counts.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> Vec<(u64, u64)> {
        (self.counts.iter().enumerate()).filter(|(_, &n)| n > 0).map(|(c, &n)| (c as u64, n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(entries: &[(u64, u64)]) -> DenseClock {
        let mut clock = DenseClock::default();
        entries.iter().for_each(|&(c, n)| clock.observe(c, n));
        clock
    }

    #[test]
    fn join_is_a_pointwise_max_over_clocks_of_any_length() {
        let mut a = clock(&[(1, 3), (4, 1)]);
        let b = clock(&[(1, 2), (2, 5), (6, 1)]);
        a.join(&b);
        assert_eq!(a.entries(), [(1, 3), (2, 5), (4, 1), (6, 1)]);
        assert!(b.le(&a) && !a.le(&b));
        // A longer clock whose extra counts are 0 is still before a shorter.
        let mut longer = clock(&[(1, 1), (9, 1)]);
        longer.forget(&[9]);
        assert!(longer.le(&clock(&[(1, 1)])));
        assert!(!clock(&[(3, 1)]).le(&clock(&[(1, 1)])));
    }

    #[test]
    fn counts_are_raised_lowered_forgotten_and_cleared() {
        let mut a = clock(&[(2, 4)]);
        a.observe(2, 3);
        a.observe(7, 0);
        assert_eq!(a.entries(), [(2, 4)]);
        assert_eq!((a.get(2), a.get(3), a.get(100)), (4, 0, 0));
        a.lower(2, 1);
        a.lower(50, 1);
        assert_eq!(a.entries(), [(2, 1)]);
        a.forget(&[2, 70]);
        assert!(a.is_empty() && a.entries().is_empty());
        a.observe(5, 2);
        a.clear();
        assert!(a.is_empty());
    }
}
