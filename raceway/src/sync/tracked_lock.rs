//! `tracked_lock`: records the acquisitions and releases of a
//! `std::sync::Mutex` the program already has.

use super::lock_state::{deref_guard, Held, ReleaseClocks};
use crate::event::{LockRef, LockType, Name};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::panic::Location;
use std::sync::{Arc, LockResult, Mutex, PoisonError};

/// Release clocks of the std mutexes locked through [`tracked_lock`], in a
/// fixed table indexed by the mutex's address: memory stays bounded however
/// many mutexes a program creates. Two mutexes that share a slot also share
/// their release clock, which can only add ordering (hiding a race, never
/// inventing one).
static CLOCKS: [ReleaseClocks; 1024] = [const { ReleaseClocks::shared_slot() }; 1024];

fn slot(addr: usize) -> &'static ReleaseClocks {
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
        TrackedMutexGuard { held: Held::acquire(slot(addr), &lock, LockType::Mutex, site), inner }
    };
    match mutex.lock() {
        Ok(inner) => Ok(wrap(inner)),
        Err(poisoned) => Err(PoisonError::new(wrap(poisoned.into_inner()))),
    }
}

/// The guard of [`tracked_lock`]: records `LockRelease` when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct TrackedMutexGuard<'a, T: ?Sized + 'a> {
    // Declared first: the release is recorded before `inner` unlocks.
    #[allow(dead_code)]
    held: Held<'a>,
    inner: std::sync::MutexGuard<'a, T>,
}

deref_guard!(TrackedMutexGuard, mut);
