//! tokio's `Mutex` and `RwLock`, recording their acquisitions and releases
//! like [`crate::sync::Mutex`]; guards may be held across `.await`.

use crate::event::{LockType, Name, Site};
use crate::sync::lock_state::{deref_guard, Held, LockState};
use std::fmt;
use std::future::Future;
use std::panic::Location;

/// An async mutex; see [`tokio::sync::Mutex`].
pub struct Mutex<T: ?Sized> {
    state: LockState,
    inner: tokio::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after the place it is constructed.
    #[track_caller]
    pub fn new(value: T) -> Self {
        Mutex { state: LockState::named_at("tokio::Mutex", Location::caller()), inner: tokio::sync::Mutex::new(value) }
    }

    /// A new unlocked mutex with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        Mutex { state: LockState::new(name.into()), inner: tokio::sync::Mutex::new(value) }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    fn addr(&self) -> usize {
        std::ptr::from_ref(self).cast::<()>() as usize
    }

    fn guard<'a>(&'a self, inner: tokio::sync::MutexGuard<'a, T>, site: Site) -> MutexGuard<'a, T> {
        let held = Held::acquire(&self.state.clocks, self.state.lock_ref(self.addr()), LockType::Mutex, site);
        MutexGuard { held, inner }
    }

    /// Locks the mutex, waiting asynchronously; see
    /// [`tokio::sync::Mutex::lock`].
    #[track_caller]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> + '_ {
        let site = Location::caller();
        async move {
            let inner = self.inner.lock().await;
            self.guard(inner, site)
        }
    }

    /// Locks the mutex if it is free; see [`tokio::sync::Mutex::try_lock`].
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        self.inner.try_lock().map(|inner| self.guard(inner, site))
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").field("name", &self.state.name()).finish_non_exhaustive()
    }
}

/// The guard of a tokio [`Mutex`]; may be held across `.await`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Declared first: the release is recorded before `inner` unlocks.
    #[allow(dead_code)]
    held: Held<'a>,
    inner: tokio::sync::MutexGuard<'a, T>,
}

deref_guard!(MutexGuard, mut);

/// An async reader-writer lock; see [`tokio::sync::RwLock`].
pub struct RwLock<T: ?Sized> {
    state: LockState,
    inner: tokio::sync::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock, named after the place it is constructed.
    #[track_caller]
    pub fn new(value: T) -> Self {
        RwLock {
            state: LockState::named_at("tokio::RwLock", Location::caller()),
            inner: tokio::sync::RwLock::new(value),
        }
    }

    /// A new unlocked lock with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        RwLock { state: LockState::new(name.into()), inner: tokio::sync::RwLock::new(value) }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn addr(&self) -> usize {
        std::ptr::from_ref(self).cast::<()>() as usize
    }

    /// Shared read access; see [`tokio::sync::RwLock::read`].
    #[track_caller]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> + '_ {
        let site = Location::caller();
        async move {
            let inner = self.inner.read().await;
            let held = Held::acquire(&self.state.clocks, self.state.lock_ref(self.addr()), LockType::RwLockRead, site);
            RwLockReadGuard { held, inner }
        }
    }

    /// Exclusive write access; see [`tokio::sync::RwLock::write`].
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        let site = Location::caller();
        async move {
            let inner = self.inner.write().await;
            let held = Held::acquire(&self.state.clocks, self.state.lock_ref(self.addr()), LockType::RwLockWrite, site);
            RwLockWriteGuard { held, inner }
        }
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").field("name", &self.state.name()).finish_non_exhaustive()
    }
}

/// Shared access to a tokio [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    #[allow(dead_code)]
    held: Held<'a>,
    inner: tokio::sync::RwLockReadGuard<'a, T>,
}

/// Exclusive access to a tokio [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    #[allow(dead_code)]
    held: Held<'a>,
    inner: tokio::sync::RwLockWriteGuard<'a, T>,
}

deref_guard!(RwLockReadGuard);
deref_guard!(RwLockWriteGuard, mut);
