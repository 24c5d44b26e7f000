//! `tokio::sync::watch`: a send happens before every `borrow`,
//! `borrow_and_update` or `changed` that sees its value (the value carries
//! the clock of the send that stored it).

use crate::rt::{self, ChannelClocks, Snapshot};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The channel's error types, as `tokio::sync::watch::error`.
pub mod error {
    pub use tokio::sync::watch::error::{RecvError, SendError};
}

use error::{RecvError, SendError};

type Value<T> = (T, Option<Snapshot>);

/// A channel holding the latest value; see [`tokio::sync::watch::channel`].
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let clocks = Arc::new(ChannelClocks::new(None));
    let (tx, rx) = tokio::sync::watch::channel((init, clocks.stamp()));
    (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// The sending half; see [`tokio::sync::watch::Sender`].
pub struct Sender<T> {
    inner: tokio::sync::watch::Sender<Value<T>>,
    clocks: Arc<ChannelClocks>,
}

/// A receiving half; see [`tokio::sync::watch::Receiver`].
pub struct Receiver<T> {
    inner: tokio::sync::watch::Receiver<Value<T>>,
    clocks: Arc<ChannelClocks>,
}

/// A borrowed value; see [`tokio::sync::watch::Ref`].
pub struct Ref<'a, T> {
    inner: tokio::sync::watch::Ref<'a, Value<T>>,
}

impl<T> Ref<'_, T> {
    /// Whether the value was not seen before by the receiver that
    /// borrowed it; see [`tokio::sync::watch::Ref::has_changed`].
    pub fn has_changed(&self) -> bool {
        self.inner.has_changed()
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The value's clock happens before what the borrower does next.
fn seen<'a, T>(inner: tokio::sync::watch::Ref<'a, Value<T>>) -> Ref<'a, T> {
    if let Some(clock) = &inner.1 {
        rt::absorb_snapshot(clock);
    }
    Ref { inner }
}

impl<T> Sender<T> {
    /// Stores a value if a receiver is left; see
    /// [`tokio::sync::watch::Sender::send`].
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send((value, self.clocks.stamp())).map_err(|e| SendError(e.0 .0))
    }

    /// Modifies the value in place and notifies the receivers; see
    /// [`tokio::sync::watch::Sender::send_modify`].
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.inner.send_modify(|value| {
            modify(&mut value.0);
            value.1 = self.clocks.stamp();
        });
    }

    /// Modifies the value in place, notifying the receivers when `modify`
    /// returns true; see [`tokio::sync::watch::Sender::send_if_modified`].
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        self.inner.send_if_modified(|value| {
            let modified = modify(&mut value.0);
            if modified {
                value.1 = self.clocks.stamp();
            }
            modified
        })
    }

    /// Stores a value whether or not a receiver is left, returning the old
    /// one; see [`tokio::sync::watch::Sender::send_replace`].
    pub fn send_replace(&self, value: T) -> T {
        self.inner.send_replace((value, self.clocks.stamp())).0
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        seen(self.inner.borrow())
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver { inner: self.inner.subscribe(), clocks: self.clocks.clone() }
    }

    /// The number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.inner.receiver_count()
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        self.inner.closed().await;
    }
}

impl<T> Receiver<T> {
    /// The current value; see [`tokio::sync::watch::Receiver::borrow`].
    pub fn borrow(&self) -> Ref<'_, T> {
        seen(self.inner.borrow())
    }

    /// The current value, marked seen; see
    /// [`tokio::sync::watch::Receiver::borrow_and_update`].
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        seen(self.inner.borrow_and_update())
    }

    /// Whether a value not yet seen is there.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        self.inner.has_changed()
    }

    /// Marks the current value seen.
    pub fn mark_changed(&mut self) {
        self.inner.mark_changed();
    }

    /// Marks the current value not seen.
    pub fn mark_unchanged(&mut self) {
        self.inner.mark_unchanged();
    }

    /// Waits for a value not yet seen; see
    /// [`tokio::sync::watch::Receiver::changed`]. The value's send happens
    /// before what follows (the sender's drop, for an error).
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        match self.inner.changed().await {
            Ok(()) => {
                let clock = self.inner.borrow().1.clone();
                if let Some(clock) = &clock {
                    rt::absorb_snapshot(clock);
                }
                Ok(())
            }
            Err(e) => {
                self.clocks.observed_close();
                Err(e)
            }
        }
    }

    /// Waits for a value for which `f` holds; see
    /// [`tokio::sync::watch::Receiver::wait_for`].
    pub async fn wait_for(&mut self, mut f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        match self.inner.wait_for(|value| f(&value.0)).await {
            Ok(inner) => Ok(seen(inner)),
            Err(e) => {
                self.clocks.observed_close();
                Err(e)
            }
        }
    }

    /// Whether both receivers watch the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver { inner: self.inner.clone(), clocks: self.clocks.clone() }
    }
}

/// Dropping the sender releases its clock to the `changed` that observes
/// it.
impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.clocks.sender_dropped();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
