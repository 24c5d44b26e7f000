//! `tokio::sync::broadcast`: a send happens before every receive of its
//! value; dropping every sender, before a receive that observes it.

use crate::rt::{ChannelClocks, Snapshot};
use std::fmt;
use std::sync::Arc;

/// The channel's error types, as `tokio::sync::broadcast::error`.
pub mod error {
    pub use tokio::sync::broadcast::error::{RecvError, SendError, TryRecvError};
}

use error::{RecvError, SendError, TryRecvError};

type Message<T> = (T, Option<Snapshot>);

/// A channel whose receivers each see every value, keeping `capacity`
/// values; see [`tokio::sync::broadcast::channel`].
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio::sync::broadcast::channel(capacity);
    let clocks = Arc::new(ChannelClocks::new(None));
    (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// The sending half; see [`tokio::sync::broadcast::Sender`].
pub struct Sender<T> {
    inner: tokio::sync::broadcast::Sender<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// A receiving half; see [`tokio::sync::broadcast::Receiver`].
pub struct Receiver<T> {
    inner: tokio::sync::broadcast::Receiver<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

impl<T> Sender<T> {
    /// Sends a value to every receiver; see
    /// [`tokio::sync::broadcast::Sender::send`].
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        self.inner.send((value, self.clocks.stamp())).map_err(|e| SendError(e.0 .0))
    }

    /// A new receiver of the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver { inner: self.inner.subscribe(), clocks: self.clocks.clone() }
    }

    /// The number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.inner.receiver_count()
    }

    /// The number of values kept.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T: Clone> Receiver<T> {
    fn took(&self, result: Result<Message<T>, RecvError>) -> Result<T, RecvError> {
        match result {
            Ok((value, clock)) => {
                self.clocks.received(clock);
                Ok(value)
            }
            Err(RecvError::Closed) => {
                self.clocks.observed_close();
                Err(RecvError::Closed)
            }
            Err(e) => Err(e),
        }
    }

    /// Receives the next value; see
    /// [`tokio::sync::broadcast::Receiver::recv`].
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        let result = self.inner.recv().await;
        self.took(result)
    }

    /// Receives from blocking code.
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        let result = self.inner.blocking_recv();
        self.took(result)
    }

    /// Receives a value if one is waiting; see
    /// [`tokio::sync::broadcast::Receiver::try_recv`].
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.inner.try_recv() {
            Ok((value, clock)) => {
                self.clocks.received(clock);
                Ok(value)
            }
            Err(TryRecvError::Closed) => {
                self.clocks.observed_close();
                Err(TryRecvError::Closed)
            }
            Err(e) => Err(e),
        }
    }

    /// A new receiver, starting from the next value.
    pub fn resubscribe(&self) -> Self {
        Receiver { inner: self.inner.resubscribe(), clocks: self.clocks.clone() }
    }
}

impl<T> Receiver<T> {
    /// The number of values waiting for this receiver.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no value waits for this receiver.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone(), clocks: self.clocks.clone() }
    }
}

/// Dropping a sender releases its clock to the receive that observes the
/// channel closed.
impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.clocks.sender_dropped();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
