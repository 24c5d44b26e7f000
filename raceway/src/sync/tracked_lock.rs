//! `tracked_lock`: records the acquisitions and releases of a
//! `std::sync::Mutex` the program already has.

use super::lock_state::{acquired, released, ReleaseClocks};
use crate::event::{LockRef, LockType, Name, Site};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{Arc, LockResult, Mutex, PoisonError};

/// Release clocks of the std mutexes locked through [`tracked_lock`], in a
/// fixed table indexed by the mutex's address: memory stays bounded however
/// many mutexes a program creates. Two mutexes that share a slot also share
/// their release clock, which can only add ordering (hiding a race, never
/// inventing one).
static CLOCKS: [Mutex<ReleaseClocks>; 1024] = [const { Mutex::new(ReleaseClocks::new()) }; 1024];

fn slot(addr: usize) -> &'static Mutex<ReleaseClocks> {
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(addr);
    &CLOCKS[(hash as usize) % CLOCKS.len()]
}

/// Locks `mutex` and records the acquisition, and the release when the
/// returned guard is dropped; like the other SDKs' `tracked_lock`. `name`
/// names the lock in reports; its identity is the mutex's address.
///
/// Poisoning is std's: a poisoned mutex hands out its guard inside the
/// error.
#[track_caller]
pub fn tracked_lock<'a, T: ?Sized>(mutex: &'a Mutex<T>, name: impl Into<Name>) -> LockResult<TrackedMutexGuard<'a, T>> {
    let site = Location::caller();
    let name = name.into();
    let addr = std::ptr::from_ref(mutex).cast::<()>() as usize;
    let wrap = |inner| {
        let lock = LockRef { id: Arc::from(format!("{name}@{addr:#x}")) };
        let recorded = acquired(slot(addr), &lock, LockType::Mutex, site);
        TrackedMutexGuard { inner, lock, addr, site, recorded }
    };
    match mutex.lock() {
        Ok(inner) => Ok(wrap(inner)),
        Err(poisoned) => Err(PoisonError::new(wrap(poisoned.into_inner()))),
    }
}

/// The guard of [`tracked_lock`]: records `LockRelease` when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct TrackedMutexGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::MutexGuard<'a, T>,
    lock: LockRef,
    addr: usize,
    site: Site,
    recorded: bool,
}

impl<T: ?Sized> Deref for TrackedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for TrackedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for TrackedMutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.recorded {
            released(slot(self.addr), &self.lock, LockType::Mutex, self.site);
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for TrackedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
