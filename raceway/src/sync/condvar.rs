//! `Condvar`: `std::sync::Condvar` over [`raceway::sync::MutexGuard`]
//! (super::MutexGuard): a notify happens before the wait it wakes, and
//! the wait releases and re-acquires the mutex like any unlock and lock.

use super::mutex::MutexGuard;
use crate::rt::{self, Synchronize};
use std::fmt;
use std::panic::Location;
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

pub use std::sync::WaitTimeoutResult;

/// A condition variable; see [`std::sync::Condvar`].
///
/// Every notify hands the notifier's clock to the waits it may wake; a
/// wait that returns (woken, timed out or spuriously) acquires what the
/// notifies so far handed over, then re-acquires the mutex.
#[derive(Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
    notified: Synchronize,
}

/// Maps a std lock result to ours, the guard re-acquired in both cases.
fn rewrap<U, R>(result: LockResult<U>, make: impl FnOnce(U) -> R) -> LockResult<R> {
    match result {
        Ok(inner) => Ok(make(inner)),
        Err(poisoned) => Err(PoisonError::new(make(poisoned.into_inner()))),
    }
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Condvar {
        Condvar { inner: std::sync::Condvar::new(), notified: Synchronize::new() }
    }

    fn woke(&self) {
        if rt::is_active() {
            self.notified.acquire();
        }
    }

    /// Blocks until notified; see [`std::sync::Condvar::wait`].
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let site = Location::caller();
        let (relock, inner) = guard.release_for_wait();
        let result = self.inner.wait(inner);
        self.woke();
        rewrap(result, |inner| MutexGuard::reacquired(relock, inner, site))
    }

    /// Blocks while `condition` holds; see
    /// [`std::sync::Condvar::wait_while`].
    #[track_caller]
    pub fn wait_while<'a, T, F>(&self, guard: MutexGuard<'a, T>, condition: F) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        let site = Location::caller();
        let (relock, inner) = guard.release_for_wait();
        let result = self.inner.wait_while(inner, condition);
        self.woke();
        rewrap(result, |inner| MutexGuard::reacquired(relock, inner, site))
    }

    /// Blocks until notified or `dur` elapsed; see
    /// [`std::sync::Condvar::wait_timeout`].
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let site = Location::caller();
        let (relock, inner) = guard.release_for_wait();
        let result = self.inner.wait_timeout(inner, dur);
        self.woke();
        rewrap(result, |(inner, timeout)| (MutexGuard::reacquired(relock, inner, site), timeout))
    }

    /// Blocks while `condition` holds, at most `dur`; see
    /// [`std::sync::Condvar::wait_timeout_while`].
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
        condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let site = Location::caller();
        let (relock, inner) = guard.release_for_wait();
        let result = self.inner.wait_timeout_while(inner, dur, condition);
        self.woke();
        rewrap(result, |(inner, timeout)| (MutexGuard::reacquired(relock, inner, site), timeout))
    }

    /// Wakes one waiter; see [`std::sync::Condvar::notify_one`].
    pub fn notify_one(&self) {
        if rt::is_active() {
            self.notified.release();
        }
        self.inner.notify_one();
    }

    /// Wakes every waiter; see [`std::sync::Condvar::notify_all`].
    pub fn notify_all(&self) {
        if rt::is_active() {
            self.notified.release();
        }
        self.inner.notify_all();
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
