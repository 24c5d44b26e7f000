//! Mirrors of `std::sync` (and, behind features, of `tokio::sync` and
//! crossbeam's channels) that record the happens-before edges they create,
//! as `loom::sync` and `shuttle::sync` mirror std. Same paths, types,
//! methods and signatures as the originals, so that
//! `use raceway::sync as sync;` (or a `cfg` alias) swaps them in.
//!
//! | type | the edge it records |
//! |---|---|
//! | [`Mutex`], [`RwLock`], [`tracked_lock`] | a release happens before the next acquisition (RwLock: a write release before any acquisition, a read release before the next write acquisition); `LockAcquire`/`LockRelease` events, and every event lists the locks held |
//! | [`mpsc`] | a send happens before the receive of its message (the clock travels with the message); dropping the last sender before a receive that observes it; for `sync_channel(C)`, the k-th receive before the (k+C)-th send completes |
//! | [`atomic`] | a `Release` (or stronger) store or read-modify-write before an `Acquire` (or stronger) load that reads from its release sequence; `fence`s as in the C++/Rust model; each operation is an atomic access (`AtomicRead`, `AtomicWrite`, `AtomicRMW`; fences `MemoryFence`), and atomic accesses never race each other |
//! | [`Condvar`] | a notify before the wait it wakes (plus the mutex's own edges) |
//! | [`Barrier`] | everything before any `wait` of a round before everything after every `wait` of it |
//! | [`Once`], [`OnceLock`], [`LazyLock`] | the initialization before every call that observes it |
//! | [`happens_before`] / [`happens_after`] | a manual edge keyed by an address, as ThreadSanitizer's annotations |
//! | [`tokio`] (feature `tokio`) | `Mutex`, `RwLock`, `mpsc`, `oneshot`, `watch`, `broadcast`, `Notify`, `Semaphore`, `Barrier`, `OnceCell` |
//! | [`crossbeam`] (feature `crossbeam`) | `channel::{bounded, unbounded}`, like `mpsc` |
//!
//! A lock's identity within a process is its address; its display name is
//! the one given, or else the place where it was constructed. `Arc`,
//! `Weak`, `LockResult` and the poison types are std's, re-exported so that
//! the whole of `std::sync` can be swapped (std's unstable items, such as
//! `mpmc` or `Exclusive`, are not mirrored).
//!
//! Synchronization that no mirror covers (std's own channels and atomics,
//! `parking_lot`, a lock-free queue) orders nothing in the analysis:
//! accesses it orders look concurrent and may be reported. Use the mirror,
//! or mark the edge with [`happens_before`] / [`happens_after`].

mod annotate;
pub mod atomic;
mod barrier;
mod condvar;
#[cfg(feature = "crossbeam")]
#[cfg_attr(docsrs, doc(cfg(feature = "crossbeam")))]
pub mod crossbeam;
mod lazy_lock;
mod lock_state;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
mod tracked_lock;

pub use annotate::{happens_after, happens_before};
pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use lazy_lock::LazyLock;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock, OnceState};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};
pub use tracked_lock::{tracked_lock, TrackedMutexGuard};
