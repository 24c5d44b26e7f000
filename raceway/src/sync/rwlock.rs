//! `RwLock`: `std::sync::RwLock` that records its acquisitions and releases.

use super::lock_state::{deref_guard, Held, LockState};
use crate::event::{LockType, Name, Site};
use std::fmt;
use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A reader-writer lock with std's semantics, poisoning included; see
/// [`std::sync::RwLock`] and the [module docs](super).
pub struct RwLock<T: ?Sized> {
    state: LockState,
    inner: std::sync::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock, named after the place it is constructed.
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RwLock { state: LockState::named_at("RwLock", Location::caller()), inner: std::sync::RwLock::new(value) }
    }

    /// A new unlocked lock with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        RwLock { state: LockState::new(name.into()), inner: std::sync::RwLock::new(value) }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

/// Maps std's lock results onto ours, keeping poisoning.
fn map<G, W>(result: LockResult<G>, wrap: impl FnOnce(G) -> W) -> LockResult<W> {
    match result {
        Ok(g) => Ok(wrap(g)),
        Err(p) => Err(PoisonError::new(wrap(p.into_inner()))),
    }
}

fn map_try<G, W>(result: TryLockResult<G>, wrap: impl FnOnce(G) -> W) -> TryLockResult<W> {
    match result {
        Ok(g) => Ok(wrap(g)),
        Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(wrap(p.into_inner())))),
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    }
}

impl<T: ?Sized> RwLock<T> {
    fn hold(&self, lock_type: LockType, site: Site) -> Held<'_> {
        let addr = std::ptr::from_ref(self).cast::<()>() as usize;
        Held::acquire(&self.state.clocks, self.state.lock_ref(addr), lock_type, site)
    }

    /// Acquires shared read access; see [`std::sync::RwLock::read`].
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        map(self.inner.read(), |inner| RwLockReadGuard { held: self.hold(LockType::RwLockRead, site), inner })
    }

    /// Tries to acquire shared read access; see [`std::sync::RwLock::try_read`].
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        map_try(self.inner.try_read(), |inner| RwLockReadGuard { held: self.hold(LockType::RwLockRead, site), inner })
    }

    /// Acquires exclusive write access; see [`std::sync::RwLock::write`].
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        map(self.inner.write(), |inner| RwLockWriteGuard { held: self.hold(LockType::RwLockWrite, site), inner })
    }

    /// Tries to acquire exclusive write access; see [`std::sync::RwLock::try_write`].
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        map_try(self.inner.try_write(), |inner| RwLockWriteGuard {
            held: self.hold(LockType::RwLockWrite, site),
            inner,
        })
    }

    /// Whether a thread panicked while holding the lock for writing.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }

    /// The lock's display name.
    pub fn name(&self) -> &str {
        self.state.name()
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").field("name", &self.name()).field("inner", &&self.inner).finish()
    }
}

/// Shared access to an [`RwLock`]: records `LockRelease` when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    // Declared first: the release is recorded before `inner` unlocks.
    #[allow(dead_code)]
    held: Held<'a>,
    inner: std::sync::RwLockReadGuard<'a, T>,
}

/// Exclusive access to an [`RwLock`]: records `LockRelease` when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    #[allow(dead_code)]
    held: Held<'a>,
    inner: std::sync::RwLockWriteGuard<'a, T>,
}

deref_guard!(RwLockReadGuard);
deref_guard!(RwLockWriteGuard, mut);
