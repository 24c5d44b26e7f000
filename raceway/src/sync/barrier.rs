//! `Barrier`: `std::sync::Barrier`; everything before any `wait` of a
//! round happens before everything after every `wait` of that round.

use crate::rt::BarrierClocks;
use std::fmt;

pub use std::sync::BarrierWaitResult;

/// A barrier; see [`std::sync::Barrier`].
pub struct Barrier {
    inner: std::sync::Barrier,
    clocks: BarrierClocks,
}

impl Barrier {
    /// A barrier for `n` threads; see [`std::sync::Barrier::new`].
    pub const fn new(n: usize) -> Barrier {
        Barrier { inner: std::sync::Barrier::new(n), clocks: BarrierClocks::new(n) }
    }

    /// Blocks until `n` threads have called `wait`; see
    /// [`std::sync::Barrier::wait`].
    pub fn wait(&self) -> BarrierWaitResult {
        let wait = self.clocks.arrive();
        let result = self.inner.wait();
        wait.passed();
        result
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
