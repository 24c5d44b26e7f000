//! What every tracked lock keeps: its name and the clocks of its releases.

use crate::clock::VectorClock;
use crate::context::with_thread;
use crate::event::{Kind, LockRef, LockType, Name, Site};
use crate::global;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The clocks a lock hands from its releases to its next acquisitions.
#[derive(Default)]
pub(crate) struct ReleaseClocks {
    /// The clock of the last exclusive (write) release.
    last_write: VectorClock,
    /// The join of every release since (and including) the last write
    /// release: what a writer must wait for.
    since_write: VectorClock,
}

impl ReleaseClocks {
    pub(crate) const fn new() -> Self {
        ReleaseClocks { last_write: VectorClock::new(), since_write: VectorClock::new() }
    }
}

/// Whether an acquisition is shared (a reader) or exclusive.
fn is_shared(lock_type: &LockType) -> bool {
    matches!(lock_type, LockType::RwLockRead)
}

/// Records an acquisition: join the clock the lock hands over, then record
/// `LockAcquire` (which so carries the joined clock). Returns whether it
/// was recorded, so the release is recorded too.
fn acquired(clocks: &Mutex<ReleaseClocks>, lock: &LockRef, lock_type: LockType, site: Site) -> bool {
    if !global::is_active() {
        return false;
    }
    {
        let clocks = clocks.lock().unwrap_or_else(PoisonError::into_inner);
        let handed = if is_shared(&lock_type) { &clocks.last_write } else { &clocks.since_write };
        with_thread(|t| t.current.absorb(handed));
    }
    let lock = lock.clone();
    global::emit(|| Kind::LockAcquire { lock, lock_type, site });
    true
}

/// Records a release: `LockRelease`, then leave the execution's clock to
/// the next acquisitions. Called before the underlying lock is unlocked.
fn released(clocks: &Mutex<ReleaseClocks>, lock: &LockRef, lock_type: LockType, site: Site) {
    let shared = is_shared(&lock_type);
    let lock = lock.clone();
    global::emit(|| Kind::LockRelease { lock, lock_type, site });
    let Some(now) = with_thread(|t| t.current.clock_now()) else {
        return;
    };
    let mut clocks = clocks.lock().unwrap_or_else(PoisonError::into_inner);
    if shared {
        clocks.since_write.join(&now);
    } else {
        clocks.since_write = now.clone();
        clocks.last_write = now;
    }
}

/// One recorded acquisition. A guard holds it before its inner guard:
/// fields drop in declaration order, so the release is recorded before the
/// lock is unlocked and happens before the next acquisition.
pub(crate) struct Held<'a> {
    clocks: &'a Mutex<ReleaseClocks>,
    lock: LockRef,
    lock_type: LockType,
    site: Site,
    recorded: bool,
}

impl<'a> Held<'a> {
    /// Records the acquisition (when a client or session is listening).
    pub(crate) fn acquire(clocks: &'a Mutex<ReleaseClocks>, lock: &LockRef, lock_type: LockType, site: Site) -> Self {
        let recorded = acquired(clocks, lock, lock_type.clone(), site);
        Held { clocks, lock: lock.clone(), lock_type, site, recorded }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.recorded {
            released(self.clocks, &self.lock, self.lock_type.clone(), self.site);
        }
    }
}

/// `Deref` (and `DerefMut`, and `Debug`) for a guard whose data is behind
/// its `inner` guard.
macro_rules! deref_guard {
    ($guard:ident $(, $mutable:ident)?) => {
        impl<T: ?Sized> std::ops::Deref for $guard<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.inner
            }
        }
        $(deref_guard!(@$mutable $guard);)?
        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
    };
    (@mut $guard:ident) => {
        impl<T: ?Sized> std::ops::DerefMut for $guard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.inner
            }
        }
    };
}
pub(crate) use deref_guard;

/// A lock's name and clocks, kept by the lock wrappers.
pub(crate) struct LockState {
    name: Name,
    id: OnceLock<LockRef>,
    pub(crate) clocks: Mutex<ReleaseClocks>,
}

impl LockState {
    pub(crate) fn new(name: Name) -> Self {
        LockState { name, id: OnceLock::new(), clocks: Mutex::new(ReleaseClocks::new()) }
    }

    pub(crate) fn named_at(kind: &str, site: Site) -> Self {
        LockState::new(Name::Owned(format!("{kind} at {}:{}", site.file(), site.line())))
    }

    /// The lock's identity: its name and its address, fixed at its first
    /// acquisition (a lock cannot move while it is locked).
    pub(crate) fn lock_ref(&self, addr: usize) -> &LockRef {
        self.id.get_or_init(|| LockRef { id: Arc::from(format!("{}@{addr:#x}", self.name)) })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}
