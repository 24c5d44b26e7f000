//! `raceway::sync::tokio` (feature `tokio`): mirrors of `tokio::sync`, with
//! the same paths, types, methods and signatures, ordered like their std
//! counterparts in [`crate::sync`]:
//!
//! - [`Mutex`], [`RwLock`]: lock hand-off, like `raceway::sync::Mutex`.
//! - [`mpsc`]: a send happens before the receive that takes its message,
//!   the close before a receive that observes it, and for a bounded channel
//!   of capacity C the k-th receive before the (k+C)-th send completes.
//! - [`oneshot`], [`broadcast`]: a send happens before the receives of its
//!   value; dropping the sender(s), before a receive that observes it.
//! - [`watch`]: a send happens before the `changed()`/`borrow()` that sees
//!   its value (the value carries its sender's clock).
//! - [`Notify`]: a notify happens before the `notified()` it completes.
//! - [`Semaphore`]: returning permits (a permit dropped, `add_permits`)
//!   happens before the acquisitions they enable.
//! - [`Barrier`]: everything before any `wait` of a round happens before
//!   everything after every `wait` of that round.
//! - [`OnceCell`]: the initialization happens before every read that sees
//!   the value.
//!
//! Not mirrored: `const_new` of `Mutex`, `RwLock` and `Semaphore` (their
//! owned guards and permits share the inner lock in an `Arc`, which cannot
//! be made in a `const`; `Notify::const_new` and `OnceCell::const_new` are
//! there), and the mapped guards (`MutexGuard::map` and the like).

mod barrier;
pub mod broadcast;
mod locks;
pub mod mpsc;
mod notify;
mod once_cell;
pub mod oneshot;
mod semaphore;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use locks::{
    Mutex, MutexGuard, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard,
    RwLockWriteGuard,
};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use semaphore::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};
pub use tokio::sync::TryLockError;
