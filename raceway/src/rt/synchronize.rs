//! Happens-before through synchronization objects: the one place where a
//! clock travels from an operation that releases (a lock's release, a
//! send, a store, a notify) to the operations that acquire from it (the
//! next acquisition, the matching receive, a load that reads the value, the
//! woken wait). Every synchronization type of `raceway::sync` keeps one or
//! more [`Synchronize`] cells and calls nothing else of the clocks.

use super::context;
use crate::clock::VectorClock;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The clock a synchronization object hands from its releases to its
/// acquisitions.
#[derive(Debug, Default)]
pub(crate) struct Synchronize {
    clock: Mutex<VectorClock>,
}

impl Synchronize {
    /// A cell that nothing was released into yet.
    pub(crate) const fn new() -> Self {
        Synchronize { clock: Mutex::new(VectorClock::new()) }
    }

    fn cell(&self) -> MutexGuard<'_, VectorClock> {
        self.clock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything the current execution did so far happens before every
    /// later [`acquire`](Synchronize::acquire) of this cell, as does what
    /// earlier releases left (a join).
    pub(crate) fn release(&self) {
        if let Some(now) = context::current_clock() {
            self.cell().join(&now);
        }
    }

    /// Like [`release`](Synchronize::release), but what earlier releases
    /// left is replaced: for an exclusive release, whose execution acquired
    /// everything before it (a mutex), or an operation that starts over
    /// (an atomic store that begins a new release sequence).
    pub(crate) fn release_exclusive(&self) {
        if let Some(now) = context::current_clock() {
            *self.cell() = now;
        }
    }

    /// Everything released into this cell happens before the current
    /// execution's next event.
    pub(crate) fn acquire(&self) {
        let clock = self.cell();
        context::absorb(&clock);
    }
}
