//! `tokio::sync::Barrier`: everything before any `wait` of a round happens
//! before everything after every `wait` of that round.

use crate::rt::{self, Synchronize};
use std::fmt;
use std::sync::{Mutex, PoisonError};

pub use tokio::sync::BarrierWaitResult;

/// A barrier for tasks; see [`tokio::sync::Barrier`].
pub struct Barrier {
    inner: tokio::sync::Barrier,
    n: usize,
    /// Waits so far, all rounds (see `raceway::sync::Barrier`).
    arrived: Mutex<u64>,
    rounds: [Synchronize; 2],
}

impl Barrier {
    /// A barrier for `n` tasks.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            inner: tokio::sync::Barrier::new(n),
            n,
            arrived: Mutex::new(0),
            rounds: [Synchronize::new(), Synchronize::new()],
        }
    }

    /// Waits until `n` tasks have called `wait`; see
    /// [`tokio::sync::Barrier::wait`].
    pub async fn wait(&self) -> BarrierWaitResult {
        let round = {
            let mut arrived = self.arrived.lock().unwrap_or_else(PoisonError::into_inner);
            let round = *arrived / self.n.max(1) as u64;
            *arrived += 1;
            round
        };
        let cell = &self.rounds[(round % 2) as usize];
        let active = rt::is_active();
        if active {
            cell.release();
        }
        let result = self.inner.wait().await;
        if active {
            cell.acquire();
        }
        result
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
