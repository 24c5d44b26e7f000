//! `Mutex`: `std::sync::Mutex` that records its acquisitions and releases.

use super::lock_state::{deref_guard, Held, LockState, Relock};
use crate::event::{LockType, Name, Site};
use std::fmt;
use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A mutual-exclusion lock with std's semantics, poisoning included; see
/// [`std::sync::Mutex`] and the [module docs](super).
pub struct Mutex<T: ?Sized> {
    state: LockState,
    inner: std::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after the place it is constructed.
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Mutex { state: LockState::named_at("Mutex", Location::caller()), inner: std::sync::Mutex::new(value) }
    }

    /// A new unlocked mutex with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        Mutex { state: LockState::new(name.into()), inner: std::sync::Mutex::new(value) }
    }

    /// Consumes the mutex, returning the data; see
    /// [`std::sync::Mutex::into_inner`].
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    fn guard<'a>(&'a self, inner: std::sync::MutexGuard<'a, T>, site: Site) -> MutexGuard<'a, T> {
        let addr = std::ptr::from_ref(self).cast::<()>() as usize;
        let held = Held::acquire(&self.state.clocks, self.state.lock_ref(addr), LockType::Mutex, site);
        MutexGuard { held, inner }
    }

    /// Acquires the mutex, blocking; see [`std::sync::Mutex::lock`]. A
    /// poisoned mutex still hands out its guard inside the error.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let site = Location::caller();
        match self.inner.lock() {
            Ok(inner) => Ok(self.guard(inner, site)),
            Err(poisoned) => Err(PoisonError::new(self.guard(poisoned.into_inner(), site))),
        }
    }

    /// Acquires the mutex if it is free; see [`std::sync::Mutex::try_lock`].
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let site = Location::caller();
        match self.inner.try_lock() {
            Ok(inner) => Ok(self.guard(inner, site)),
            Err(TryLockError::Poisoned(p)) => {
                Err(TryLockError::Poisoned(PoisonError::new(self.guard(p.into_inner(), site))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a thread panicked while holding the lock.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
    }

    /// Mutable access without locking (the borrow proves exclusivity).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }

    /// The lock's display name.
    pub fn name(&self) -> &str {
        self.state.name()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").field("name", &self.name()).field("inner", &&self.inner).finish()
    }
}

/// The guard of a [`Mutex`]: records `LockRelease` when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    // Declared first: the release is recorded before `inner` unlocks.
    #[allow(dead_code)]
    held: Held<'a>,
    inner: std::sync::MutexGuard<'a, T>,
}

deref_guard!(MutexGuard, mut);

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Records the release, for a condition variable's wait, and gives the
    /// std guard to wait with.
    pub(crate) fn release_for_wait(self) -> (Relock<'a>, std::sync::MutexGuard<'a, T>) {
        let MutexGuard { held, inner } = self;
        (held.release_for_wait(), inner)
    }

    /// The guard again after a wait returned `inner`.
    pub(crate) fn reacquired(relock: Relock<'a>, inner: std::sync::MutexGuard<'a, T>, site: Site) -> Self {
        MutexGuard { held: relock.acquire(site), inner }
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
