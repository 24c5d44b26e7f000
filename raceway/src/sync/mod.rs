//! Locks that record what they do: each guard records `LockAcquire` when
//! acquired and `LockRelease` when dropped, and the acquiring execution's
//! clock joins the clock of the lock's last release (for a reader-writer
//! lock: a reader joins the last write release, a writer every release
//! since), so that what one critical section did happens before the next.
//!
//! - [`Mutex`] and [`RwLock`]: std's, poisoning included.
//! - [`tracked_lock`]: for a `std::sync::Mutex` you already have.
//! - [`tokio`] (feature `tokio`): tokio's `Mutex` and `RwLock`.
//!
//! A lock's identity within a process is its address; its display name is
//! the one given, or else the place where it was constructed.

mod annotate;
pub mod atomic;
mod barrier;
mod condvar;
#[cfg(feature = "crossbeam")]
pub mod crossbeam;
mod lock_state;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;
#[cfg(feature = "tokio")]
pub mod tokio;
mod tracked_lock;

pub use annotate::{happens_after, happens_before};
pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock, OnceState};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};
pub use tracked_lock::{tracked_lock, TrackedMutexGuard};
