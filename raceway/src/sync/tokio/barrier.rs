//! `tokio::sync::Barrier`: everything before any `wait` of a round happens
//! before everything after every `wait` of that round.

use crate::rt::BarrierClocks;
use std::fmt;

pub use tokio::sync::BarrierWaitResult;

/// A barrier for tasks; see [`tokio::sync::Barrier`].
pub struct Barrier {
    inner: tokio::sync::Barrier,
    clocks: BarrierClocks,
}

impl Barrier {
    /// A barrier for `n` tasks.
    pub fn new(n: usize) -> Barrier {
        Barrier { inner: tokio::sync::Barrier::new(n), clocks: BarrierClocks::new(n) }
    }

    /// Waits until `n` tasks have called `wait`; see
    /// [`tokio::sync::Barrier::wait`].
    pub async fn wait(&self) -> BarrierWaitResult {
        let wait = self.clocks.arrive();
        let result = self.inner.wait().await;
        wait.passed();
        result
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
