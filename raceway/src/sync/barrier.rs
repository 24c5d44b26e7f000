//! `Barrier`: `std::sync::Barrier`; everything before any `wait` of a
//! round happens before everything after every `wait` of that round.

use crate::rt::{self, Synchronize};
use std::fmt;
use std::sync::{Mutex, PoisonError};

pub use std::sync::BarrierWaitResult;

/// A barrier; see [`std::sync::Barrier`].
pub struct Barrier {
    inner: std::sync::Barrier,
    n: usize,
    /// Waits so far, all rounds: `arrived / n` is the round of the next.
    arrived: Mutex<u64>,
    /// The clocks of the waiters of even and odd rounds. A thread can
    /// reach round r + 2 only after every thread left round r + 1, so after
    /// every waiter of round r acquired: two cells suffice. (What a cell
    /// keeps from round r is already ordered before round r + 2.)
    rounds: [Synchronize; 2],
}

impl Barrier {
    /// A barrier for `n` threads; see [`std::sync::Barrier::new`].
    pub const fn new(n: usize) -> Barrier {
        Barrier {
            inner: std::sync::Barrier::new(n),
            n,
            arrived: Mutex::new(0),
            rounds: [Synchronize::new(), Synchronize::new()],
        }
    }

    /// Blocks until `n` threads have called `wait`; see
    /// [`std::sync::Barrier::wait`].
    pub fn wait(&self) -> BarrierWaitResult {
        // Counted whether or not anything records, so that rounds stay
        // aligned when recording starts in the middle.
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
        let result = self.inner.wait();
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
