//! What every tracked lock keeps: its name and the clocks of its releases.

use crate::event::{Kind, LockRef, LockType, Name, Site};
use crate::rt::{self, Synchronize};
use std::sync::{Arc, OnceLock};

/// The clocks a lock hands from its releases to its next acquisitions.
pub(crate) struct ReleaseClocks {
    /// The clock of the last exclusive (write) release: what a reader
    /// acquires.
    last_write: Synchronize,
    /// The join of every release since (and including) the last write
    /// release: what a writer acquires.
    since_write: Synchronize,
    /// Whether several locks may share these clocks (a slot of a fixed
    /// table): then a release adds to what others left instead of
    /// replacing it, which can add ordering but never remove one.
    shared_slot: bool,
}

impl ReleaseClocks {
    /// The clocks of one lock.
    pub(crate) const fn new() -> Self {
        ReleaseClocks { last_write: Synchronize::lock(), since_write: Synchronize::lock(), shared_slot: false }
    }

    /// Clocks that several locks may share.
    pub(crate) const fn shared_slot() -> Self {
        ReleaseClocks { last_write: Synchronize::lock(), since_write: Synchronize::lock(), shared_slot: true }
    }
}

/// Whether an acquisition is shared (a reader) or exclusive.
fn is_shared(lock_type: &LockType) -> bool {
    matches!(lock_type, LockType::RwLockRead)
}

/// Records an acquisition: join the clock the lock hands over, then record
/// `LockAcquire` (which so carries the joined clock). Returns whether it
/// was recorded, so the release is recorded too.
fn acquired(clocks: &ReleaseClocks, lock: &LockRef, lock_type: LockType, site: Site) -> bool {
    if !rt::is_active() {
        return false;
    }
    if is_shared(&lock_type) { &clocks.last_write } else { &clocks.since_write }.acquire();
    let lock = lock.clone();
    rt::emit(|| Kind::LockAcquire { lock, lock_type, site });
    true
}

/// Records a release: `LockRelease`, then leave the execution's clock to
/// the next acquisitions. Called before the underlying lock is unlocked, so
/// that releases of one lock never overlap with a write release.
fn released(clocks: &ReleaseClocks, lock: &LockRef, lock_type: LockType, site: Site) {
    let shared = is_shared(&lock_type);
    let lock = lock.clone();
    rt::emit(|| Kind::LockRelease { lock, lock_type, site });
    if shared {
        clocks.since_write.release();
    } else if clocks.shared_slot {
        clocks.since_write.release();
        clocks.last_write.release();
    } else {
        clocks.since_write.release_exclusive();
        clocks.last_write.release_exclusive();
    }
}

/// One recorded acquisition. A guard holds it before its inner guard:
/// fields drop in declaration order, so the release is recorded before the
/// lock is unlocked and happens before the next acquisition.
pub(crate) struct Held<'a> {
    clocks: &'a ReleaseClocks,
    lock: LockRef,
    lock_type: LockType,
    site: Site,
    recorded: bool,
}

impl<'a> Held<'a> {
    /// Records the acquisition (when a client or session is listening).
    pub(crate) fn acquire(clocks: &'a ReleaseClocks, lock: &LockRef, lock_type: LockType, site: Site) -> Self {
        let recorded = acquired(clocks, lock, lock_type.clone(), site);
        Held { clocks, lock: lock.clone(), lock_type, site, recorded }
    }
}

impl Held<'_> {
    /// Records an acquisition for a guard that holds its lock by `Arc` and
    /// records the release itself ([`Held::released_later`]): no `Held`
    /// borrows the lock. Returns whether it was recorded.
    #[cfg(feature = "tokio")]
    pub(crate) fn acquire_owned(clocks: &ReleaseClocks, lock: &LockRef, lock_type: LockType, site: Site) -> bool {
        acquired(clocks, lock, lock_type, site)
    }

    /// The release of an acquisition recorded by [`Held::acquire_owned`].
    #[cfg(feature = "tokio")]
    pub(crate) fn released_later(
        clocks: &ReleaseClocks,
        lock: &LockRef,
        lock_type: LockType,
        site: Site,
        recorded: bool,
    ) {
        if recorded {
            released(clocks, lock, lock_type, site);
        }
    }
}

impl<'a> Held<'a> {
    /// Records the release now (a condition variable's wait is about to
    /// unlock the lock) and keeps what acquiring it again needs.
    pub(crate) fn release_for_wait(self) -> Relock<'a> {
        let relock = Relock { clocks: self.clocks, lock: self.lock.clone(), lock_type: self.lock_type.clone() };
        drop(self);
        relock
    }
}

/// A lock released by a condition variable's wait, to acquire again when
/// the wait returns.
pub(crate) struct Relock<'a> {
    clocks: &'a ReleaseClocks,
    lock: LockRef,
    lock_type: LockType,
}

impl<'a> Relock<'a> {
    /// Records the acquisition again, at `site`.
    pub(crate) fn acquire(self, site: Site) -> Held<'a> {
        Held::acquire(self.clocks, &self.lock, self.lock_type, site)
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
/// its `inner` guard: `deref_guard!(Guard, mut)` for a `Guard<'_, T>`,
/// `deref_guard!(owned Guard, mut)` for a `Guard<T>` that holds its lock.
macro_rules! deref_guard {
    (owned $guard:ident $(, $mutable:ident)?) => {
        deref_guard!(@impls $guard<T> $(, $mutable)?);
    };
    ($guard:ident $(, $mutable:ident)?) => {
        deref_guard!(@impls $guard<'_, T> $(, $mutable)?);
    };
    (@impls $ty:ty $(, $mutable:ident)?) => {
        impl<T: ?Sized> std::ops::Deref for $ty {
            type Target = T;
            fn deref(&self) -> &T {
                &self.inner
            }
        }
        $(deref_guard!(@$mutable $ty);)?
        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
    };
    (@mut $ty:ty) => {
        impl<T: ?Sized> std::ops::DerefMut for $ty {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.inner
            }
        }
    };
}
pub(crate) use deref_guard;

/// A lock's name and clocks, kept by the lock wrappers.
pub(crate) struct LockState {
    name: LockName,
    /// The name as text, made when first needed (so that constructing a
    /// lock is `const`, as std's is).
    text: OnceLock<Box<str>>,
    id: OnceLock<LockRef>,
    pub(crate) clocks: ReleaseClocks,
}

/// How a lock is named: by the user, or by where it was constructed.
enum LockName {
    Given(Name),
    At { kind: &'static str, site: Site },
}

impl LockState {
    pub(crate) const fn new(name: Name) -> Self {
        LockState::with(LockName::Given(name))
    }

    pub(crate) const fn named_at(kind: &'static str, site: Site) -> Self {
        LockState::with(LockName::At { kind, site })
    }

    const fn with(name: LockName) -> Self {
        LockState { name, text: OnceLock::new(), id: OnceLock::new(), clocks: ReleaseClocks::new() }
    }

    /// The lock's identity: its name and its address, fixed at its first
    /// acquisition (a lock cannot move while it is locked).
    pub(crate) fn lock_ref(&self, addr: usize) -> &LockRef {
        self.id.get_or_init(|| LockRef { id: Arc::from(format!("{}@{addr:#x}", self.name())) })
    }

    pub(crate) fn name(&self) -> &str {
        match &self.name {
            LockName::Given(name) => name,
            LockName::At { kind, site } => {
                self.text.get_or_init(|| format!("{kind} at {}:{}", site.file(), site.line()).into_boxed_str())
            }
        }
    }
}
