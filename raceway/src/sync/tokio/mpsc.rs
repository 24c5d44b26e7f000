//! `tokio::sync::mpsc`, ordered like [`crate::sync::mpsc`]: a send happens
//! before the receive that takes its message, the close before a receive
//! that observes it, and for a bounded channel of capacity C the k-th
//! receive before the (k+C)-th send completes.

use crate::rt::{ChannelClocks, Snapshot};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc as tokio_mpsc;

/// The channels' error types, as `tokio::sync::mpsc::error`.
pub mod error {
    pub use tokio::sync::mpsc::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
}

use error::{SendError, SendTimeoutError, TryRecvError, TrySendError};

/// A message with the clock of its send.
type Message<T> = (T, Option<Snapshot>);

fn unstamped<T>(error: tokio_mpsc::error::SendError<Message<T>>) -> SendError<T> {
    SendError(error.0 .0)
}

/// A bounded channel of `buffer` messages; see [`tokio::sync::mpsc::channel`].
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio_mpsc::channel(buffer);
    let clocks = Arc::new(ChannelClocks::new(Some(buffer)));
    (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// An unbounded channel; see [`tokio::sync::mpsc::unbounded_channel`].
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = tokio_mpsc::unbounded_channel();
    let clocks = Arc::new(ChannelClocks::new(None));
    (UnboundedSender { inner: tx, clocks: clocks.clone() }, UnboundedReceiver { inner: rx, clocks })
}

/// The sending half of [`channel`]; see [`tokio::sync::mpsc::Sender`].
pub struct Sender<T> {
    inner: tokio_mpsc::Sender<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// The receiving half of [`channel`]; see [`tokio::sync::mpsc::Receiver`].
pub struct Receiver<T> {
    inner: tokio_mpsc::Receiver<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// The sending half of [`unbounded_channel`]; see
/// [`tokio::sync::mpsc::UnboundedSender`].
pub struct UnboundedSender<T> {
    inner: tokio_mpsc::UnboundedSender<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// The receiving half of [`unbounded_channel`]; see
/// [`tokio::sync::mpsc::UnboundedReceiver`].
pub struct UnboundedReceiver<T> {
    inner: tokio_mpsc::UnboundedReceiver<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

impl<T> Sender<T> {
    /// Sends a value, waiting for room; see
    /// [`tokio::sync::mpsc::Sender::send`].
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send((value, self.clocks.stamp())).await.map_err(unstamped)?;
        self.clocks.sent();
        Ok(())
    }

    /// Sends a value if there is room; see
    /// [`tokio::sync::mpsc::Sender::try_send`].
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        match self.inner.try_send((message, self.clocks.stamp())) {
            Ok(()) => {
                self.clocks.sent();
                Ok(())
            }
            Err(TrySendError::Full((message, _))) => Err(TrySendError::Full(message)),
            Err(TrySendError::Closed((message, _))) => Err(TrySendError::Closed(message)),
        }
    }

    /// Sends a value, waiting at most `timeout` for room; see
    /// [`tokio::sync::mpsc::Sender::send_timeout`].
    pub async fn send_timeout(&self, value: T, timeout: std::time::Duration) -> Result<(), SendTimeoutError<T>> {
        match self.inner.send_timeout((value, self.clocks.stamp()), timeout).await {
            Ok(()) => {
                self.clocks.sent();
                Ok(())
            }
            Err(SendTimeoutError::Timeout((value, _))) => Err(SendTimeoutError::Timeout(value)),
            Err(SendTimeoutError::Closed((value, _))) => Err(SendTimeoutError::Closed(value)),
        }
    }

    /// Sends a value from blocking code; see
    /// [`tokio::sync::mpsc::Sender::blocking_send`].
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.blocking_send((value, self.clocks.stamp())).map_err(unstamped)?;
        self.clocks.sent();
        Ok(())
    }

    /// Waits for room in the buffer and reserves it; see
    /// [`tokio::sync::mpsc::Sender::reserve`]. The reservation is where the
    /// send completes in the channel's order: the receive that made the room
    /// happens before it returns.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        let inner = self.inner.reserve().await?;
        self.clocks.sent();
        Ok(Permit { inner: Some(inner), clocks: &self.clocks })
    }

    /// Reserves room if there is some; see
    /// [`tokio::sync::mpsc::Sender::try_reserve`].
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let inner = self.inner.try_reserve()?;
        self.clocks.sent();
        Ok(Permit { inner: Some(inner), clocks: &self.clocks })
    }

    /// Waits for room and reserves it, keeping the sender in the permit;
    /// see [`tokio::sync::mpsc::Sender::reserve_owned`].
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        let clocks = self.clocks.clone();
        let inner = self.inner.clone().reserve_owned().await?;
        clocks.sent();
        Ok(OwnedPermit { inner: Some(inner), clocks })
    }

    /// Reserves room if there is some, keeping the sender in the permit;
    /// see [`tokio::sync::mpsc::Sender::try_reserve_owned`]. On error the
    /// sender comes back in the error, as tokio's does.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        let clocks = self.clocks.clone();
        match self.inner.clone().try_reserve_owned() {
            Ok(inner) => {
                clocks.sent();
                Ok(OwnedPermit { inner: Some(inner), clocks })
            }
            Err(TrySendError::Full(_)) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(_)) => Err(TrySendError::Closed(self)),
        }
    }

    /// Waits until the receiver is gone; see
    /// [`tokio::sync::mpsc::Sender::closed`].
    pub async fn closed(&self) {
        self.inner.closed().await;
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The room left in the buffer.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The buffer's size.
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> UnboundedSender<T> {
    /// Sends a value; see [`tokio::sync::mpsc::UnboundedSender::send`].
    pub fn send(&self, message: T) -> Result<(), SendError<T>> {
        self.inner.send((message, self.clocks.stamp())).map_err(unstamped)
    }

    /// Waits until the receiver is gone.
    pub async fn closed(&self) {
        self.inner.closed().await;
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

/// Room reserved in a bounded channel by [`Sender::reserve`]; see
/// [`tokio::sync::mpsc::Permit`]. Sending through it stamps the message
/// with the sender's clock; dropping it unused gives the room back, and the
/// send that takes the room next is ordered after the drop (tokio's own
/// release-acquire of the slot).
pub struct Permit<'a, T> {
    /// `Some` until sent.
    inner: Option<tokio_mpsc::Permit<'a, Message<T>>>,
    clocks: &'a ChannelClocks,
}

impl<T> Permit<'_, T> {
    /// Sends a value in the reserved room; see
    /// [`tokio::sync::mpsc::Permit::send`].
    pub fn send(mut self, value: T) {
        if let Some(inner) = self.inner.take() {
            inner.send((value, self.clocks.stamp()));
        }
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // The credit is left before the room is, so that the send that
            // takes the room finds it.
            self.clocks.leave_credits(1);
            drop(inner);
        }
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Room reserved by [`Sender::reserve_owned`], holding the sender; see
/// [`tokio::sync::mpsc::OwnedPermit`]. Ordered as [`Permit`].
pub struct OwnedPermit<T> {
    /// `Some` until sent or released.
    inner: Option<tokio_mpsc::OwnedPermit<Message<T>>>,
    clocks: Arc<ChannelClocks>,
}

impl<T> OwnedPermit<T> {
    /// Sends a value in the reserved room and gives the sender back; see
    /// [`tokio::sync::mpsc::OwnedPermit::send`].
    pub fn send(mut self, value: T) -> Sender<T> {
        let inner = self.inner.take().expect("an owned permit is used once").send((value, self.clocks.stamp()));
        Sender { inner, clocks: self.clocks.clone() }
    }

    /// Gives the room back unused and returns the sender; see
    /// [`tokio::sync::mpsc::OwnedPermit::release`].
    pub fn release(mut self) -> Sender<T> {
        self.clocks.leave_credits(1);
        let inner = self.inner.take().expect("an owned permit is used once").release();
        Sender { inner, clocks: self.clocks.clone() }
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // The room goes back (its credit first, as in `Permit`), and
            // with it the sender the permit held.
            self.clocks.leave_credits(1);
            drop(inner);
            self.clocks.sender_dropped();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// What both receivers do with what their inner receiver gave.
fn took<T>(clocks: &ChannelClocks, message: Option<Message<T>>) -> Option<T> {
    match message {
        Some((value, clock)) => {
            clocks.received(clock);
            Some(value)
        }
        None => {
            clocks.observed_close();
            None
        }
    }
}

fn tried<T>(clocks: &ChannelClocks, result: Result<Message<T>, TryRecvError>) -> Result<T, TryRecvError> {
    match result {
        Ok((value, clock)) => {
            clocks.received(clock);
            Ok(value)
        }
        Err(TryRecvError::Disconnected) => {
            clocks.observed_close();
            Err(TryRecvError::Disconnected)
        }
        Err(e) => Err(e),
    }
}

macro_rules! receiver_methods {
    ($receiver:ident) => {
        impl<T> $receiver<T> {
            /// Receives the next value; `None` once the channel is closed
            /// and empty. See tokio's `recv`.
            pub async fn recv(&mut self) -> Option<T> {
                let message = self.inner.recv().await;
                took(&self.clocks, message)
            }

            /// Receives up to `limit` values into `buffer`; see tokio's
            /// `recv_many`.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                let mut messages = Vec::with_capacity(limit.min(64));
                let n = self.inner.recv_many(&mut messages, limit).await;
                if n == 0 {
                    self.clocks.observed_close();
                }
                buffer.extend(messages.into_iter().map(|(value, clock)| {
                    self.clocks.received(clock);
                    value
                }));
                n
            }

            /// Receives a value if one is waiting; see tokio's `try_recv`.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                let result = self.inner.try_recv();
                tried(&self.clocks, result)
            }

            /// Receives from blocking code; see tokio's `blocking_recv`.
            pub fn blocking_recv(&mut self) -> Option<T> {
                let message = self.inner.blocking_recv();
                took(&self.clocks, message)
            }

            /// Polls for the next value; see tokio's `poll_recv`.
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
                match self.inner.poll_recv(cx) {
                    Poll::Ready(message) => Poll::Ready(took(&self.clocks, message)),
                    Poll::Pending => Poll::Pending,
                }
            }

            /// Closes the channel for sending, keeping what it holds.
            pub fn close(&mut self) {
                self.inner.close();
            }

            /// Whether the channel is closed.
            pub fn is_closed(&self) -> bool {
                self.inner.is_closed()
            }

            /// Whether no message is waiting.
            pub fn is_empty(&self) -> bool {
                self.inner.is_empty()
            }

            /// The number of messages waiting.
            pub fn len(&self) -> usize {
                self.inner.len()
            }
        }

        impl<T> fmt::Debug for $receiver<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($receiver)).finish_non_exhaustive()
            }
        }
    };
}

receiver_methods!(Receiver);
receiver_methods!(UnboundedReceiver);

macro_rules! sender_common {
    ($sender:ident) => {
        impl<T> Clone for $sender<T> {
            fn clone(&self) -> Self {
                $sender { inner: self.inner.clone(), clocks: self.clocks.clone() }
            }
        }

        /// Dropping a sender releases its clock to the receive that
        /// observes the channel closed.
        impl<T> Drop for $sender<T> {
            fn drop(&mut self) {
                self.clocks.sender_dropped();
            }
        }

        impl<T> fmt::Debug for $sender<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($sender)).finish_non_exhaustive()
            }
        }
    };
}

sender_common!(Sender);
sender_common!(UnboundedSender);

/// A sender that does not keep the channel open, and its `downgrade`.
macro_rules! weak_sender {
    ($(#[$doc:meta])* $weak:ident of $sender:ident) => {
        $(#[$doc])*
        pub struct $weak<T> {
            inner: tokio_mpsc::$weak<Message<T>>,
            clocks: Arc<ChannelClocks>,
        }

        impl<T> $weak<T> {
            /// A sender again, if the channel is still open (another
            /// sender still lives); see the original's `upgrade`.
            pub fn upgrade(&self) -> Option<$sender<T>> {
                self.inner.upgrade().map(|inner| $sender { inner, clocks: self.clocks.clone() })
            }

            /// The number of senders; see the original's `strong_count`.
            pub fn strong_count(&self) -> usize {
                self.inner.strong_count()
            }

            /// The number of weak senders; see the original's
            /// `weak_count`.
            pub fn weak_count(&self) -> usize {
                self.inner.weak_count()
            }
        }

        impl<T> Clone for $weak<T> {
            fn clone(&self) -> Self {
                $weak { inner: self.inner.clone(), clocks: self.clocks.clone() }
            }
        }

        impl<T> fmt::Debug for $weak<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($weak)).finish_non_exhaustive()
            }
        }

        impl<T> $sender<T> {
            /// A sender that does not keep the channel open; see the
            /// original's `downgrade`. Sends through it once upgraded are
            /// ordered as any sender's.
            pub fn downgrade(&self) -> $weak<T> {
                $weak { inner: self.inner.downgrade(), clocks: self.clocks.clone() }
            }

            /// The number of senders; see the original's `strong_count`.
            pub fn strong_count(&self) -> usize {
                self.inner.strong_count()
            }

            /// The number of weak senders; see the original's
            /// `weak_count`.
            pub fn weak_count(&self) -> usize {
                self.inner.weak_count()
            }
        }
    };
}

weak_sender!(
    /// A [`Sender`] that does not keep the channel open; see
    /// [`tokio::sync::mpsc::WeakSender`].
    WeakSender of Sender
);
weak_sender!(
    /// An [`UnboundedSender`] that does not keep the channel open; see
    /// [`tokio::sync::mpsc::WeakUnboundedSender`].
    WeakUnboundedSender of UnboundedSender
);
