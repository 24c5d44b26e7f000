//! tokio's `Mutex` and `RwLock`, recording their acquisitions and releases
//! like [`crate::sync::Mutex`]; guards may be held across `.await`.

use crate::event::{LockType, Name, Site};
use crate::sync::lock_state::{deref_guard, Held, LockState};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

/// An async mutex; see [`tokio::sync::Mutex`].
pub struct Mutex<T: ?Sized> {
    state: LockState,
    /// Shared, so that an owned guard ([`Mutex::lock_owned`]) can hold
    /// tokio's owned guard; no one else holds it.
    inner: Arc<tokio::sync::Mutex<T>>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after the place it is constructed.
    #[track_caller]
    pub fn new(value: T) -> Self {
        Mutex {
            state: LockState::named_at("tokio::Mutex", Location::caller()),
            inner: Arc::new(tokio::sync::Mutex::new(value)),
        }
    }

    /// A new unlocked mutex with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        Mutex { state: LockState::new(name.into()), inner: Arc::new(tokio::sync::Mutex::new(value)) }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.into_inner(),
            // An owned guard holds the mirror, not only its inner lock: with
            // the mirror by value, there is none.
            Err(_) => unreachable!("no guard outlives its mutex"),
        }
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

    /// Locks the mutex from blocking code; see
    /// [`tokio::sync::Mutex::blocking_lock`].
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let site = Location::caller();
        let inner = self.inner.blocking_lock();
        self.guard(inner, site)
    }

    /// Locks the mutex, waiting asynchronously, for a guard that holds the
    /// mutex (no borrow); see [`tokio::sync::Mutex::lock_owned`].
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>> {
        let site = Location::caller();
        async move {
            let inner = self.inner.clone().lock_owned().await;
            OwnedMutexGuard::acquired(self, inner, site)
        }
    }

    /// [`lock_owned`](Mutex::lock_owned) if the mutex is free; see
    /// [`tokio::sync::Mutex::try_lock_owned`].
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        let inner = self.inner.clone().try_lock_owned()?;
        Ok(OwnedMutexGuard::acquired(self, inner, site))
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.get_mut(),
            // A guard borrows the mirror or holds it in an `Arc`: with the
            // mirror borrowed mutably, there is none.
            None => unreachable!("no guard while the mutex is borrowed mutably"),
        }
    }
}

/// A guard that holds its lock in an `Arc` (no borrow), as tokio's owned
/// guards do, and records the release before it unlocks, as the borrowing
/// guards do.
macro_rules! owned_guard {
    ($(#[$doc:meta])* $guard:ident of $lock:ident: $inner:ident, $lock_type:expr, $must_use:literal $(, $mutable:ident)?) => {
        $(#[$doc])*
        #[must_use = $must_use]
        pub struct $guard<T: ?Sized> {
            /// Whether the acquisition was recorded (and the release must be).
            recorded: bool,
            site: Site,
            inner: tokio::sync::$inner<T>,
            // After `inner`: the lock outlives the unlock.
            lock: Arc<$lock<T>>,
        }

        impl<T: ?Sized> $guard<T> {
            fn acquired(lock: Arc<$lock<T>>, inner: tokio::sync::$inner<T>, site: Site) -> Self {
                let recorded =
                    Held::acquire_owned(&lock.state.clocks, lock.state.lock_ref(lock.addr()), $lock_type, site);
                $guard { recorded, site, inner, lock }
            }
        }

        impl<T: ?Sized> Drop for $guard<T> {
            fn drop(&mut self) {
                // Before `inner` unlocks (fields drop after this body).
                Held::released_later(
                    &self.lock.state.clocks,
                    self.lock.state.lock_ref(self.lock.addr()),
                    $lock_type,
                    self.site,
                    self.recorded,
                );
            }
        }

        deref_guard!(owned $guard $(, $mutable)?);
    };
}

owned_guard!(
    /// The guard of [`Mutex::lock_owned`]: holds the mutex; see
    /// [`tokio::sync::OwnedMutexGuard`].
    OwnedMutexGuard of Mutex: OwnedMutexGuard, LockType::Mutex, "if unused the Mutex will immediately unlock", mut
);

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard holds; see
    /// [`tokio::sync::OwnedMutexGuard::mutex`].
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.lock
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
    /// Shared, so that an owned guard ([`RwLock::read_owned`]) can hold
    /// tokio's owned guard; no one else holds it.
    inner: Arc<tokio::sync::RwLock<T>>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock, named after the place it is constructed.
    #[track_caller]
    pub fn new(value: T) -> Self {
        RwLock {
            state: LockState::named_at("tokio::RwLock", Location::caller()),
            inner: Arc::new(tokio::sync::RwLock::new(value)),
        }
    }

    /// A new unlocked lock with a name for reports.
    pub fn with_name(value: T, name: impl Into<Name>) -> Self {
        RwLock { state: LockState::new(name.into()), inner: Arc::new(tokio::sync::RwLock::new(value)) }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.into_inner(),
            // An owned guard holds the mirror, not only its inner lock.
            Err(_) => unreachable!("no guard outlives its lock"),
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
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
            self.read_guard(inner, site)
        }
    }

    /// Exclusive write access; see [`tokio::sync::RwLock::write`].
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        let site = Location::caller();
        async move {
            let inner = self.inner.write().await;
            self.write_guard(inner, site)
        }
    }

    fn read_guard<'a>(&'a self, inner: tokio::sync::RwLockReadGuard<'a, T>, site: Site) -> RwLockReadGuard<'a, T> {
        let held = Held::acquire(&self.state.clocks, self.state.lock_ref(self.addr()), LockType::RwLockRead, site);
        RwLockReadGuard { held, inner }
    }

    fn write_guard<'a>(&'a self, inner: tokio::sync::RwLockWriteGuard<'a, T>, site: Site) -> RwLockWriteGuard<'a, T> {
        let held = Held::acquire(&self.state.clocks, self.state.lock_ref(self.addr()), LockType::RwLockWrite, site);
        RwLockWriteGuard { held, inner }
    }

    /// Shared read access if no writer holds the lock; see
    /// [`tokio::sync::RwLock::try_read`].
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        self.inner.try_read().map(|inner| self.read_guard(inner, site))
    }

    /// Exclusive access if the lock is free; see
    /// [`tokio::sync::RwLock::try_write`].
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        self.inner.try_write().map(|inner| self.write_guard(inner, site))
    }

    /// Shared read access from blocking code; see
    /// [`tokio::sync::RwLock::blocking_read`].
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let site = Location::caller();
        let inner = self.inner.blocking_read();
        self.read_guard(inner, site)
    }

    /// Exclusive access from blocking code; see
    /// [`tokio::sync::RwLock::blocking_write`].
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let site = Location::caller();
        let inner = self.inner.blocking_write();
        self.write_guard(inner, site)
    }

    /// Shared read access, waiting asynchronously, for a guard that holds
    /// the lock (no borrow); see [`tokio::sync::RwLock::read_owned`].
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>> {
        let site = Location::caller();
        async move {
            let inner = self.inner.clone().read_owned().await;
            OwnedRwLockReadGuard::acquired(self, inner, site)
        }
    }

    /// Exclusive access, waiting asynchronously, for a guard that holds
    /// the lock (no borrow); see [`tokio::sync::RwLock::write_owned`].
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>> {
        let site = Location::caller();
        async move {
            let inner = self.inner.clone().write_owned().await;
            OwnedRwLockWriteGuard::acquired(self, inner, site)
        }
    }

    /// [`read_owned`](RwLock::read_owned) if no writer holds the lock; see
    /// [`tokio::sync::RwLock::try_read_owned`].
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        let inner = self.inner.clone().try_read_owned()?;
        Ok(OwnedRwLockReadGuard::acquired(self, inner, site))
    }

    /// [`write_owned`](RwLock::write_owned) if the lock is free; see
    /// [`tokio::sync::RwLock::try_write_owned`].
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, tokio::sync::TryLockError> {
        let site = Location::caller();
        let inner = self.inner.clone().try_write_owned()?;
        Ok(OwnedRwLockWriteGuard::acquired(self, inner, site))
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.get_mut(),
            // A guard borrows the mirror or holds it in an `Arc`: with the
            // mirror borrowed mutably, there is none.
            None => unreachable!("no guard while the lock is borrowed mutably"),
        }
    }
}

owned_guard!(
    /// The guard of [`RwLock::read_owned`]: shared access that holds the
    /// lock; see [`tokio::sync::OwnedRwLockReadGuard`].
    OwnedRwLockReadGuard of RwLock: OwnedRwLockReadGuard, LockType::RwLockRead, "if unused the RwLock will immediately unlock"
);

owned_guard!(
    /// The guard of [`RwLock::write_owned`]: exclusive access that holds
    /// the lock; see [`tokio::sync::OwnedRwLockWriteGuard`].
    OwnedRwLockWriteGuard of RwLock: OwnedRwLockWriteGuard, LockType::RwLockWrite, "if unused the RwLock will immediately unlock", mut
);

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
