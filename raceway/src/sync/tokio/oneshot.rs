//! `tokio::sync::oneshot`: the send happens before the receive of its
//! value; dropping the sender unsent, before the receive that observes it.

use crate::rt::{ChannelClocks, Snapshot};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The channel's error types, as `tokio::sync::oneshot::error`.
pub mod error {
    pub use tokio::sync::oneshot::error::{RecvError, TryRecvError};
}

use error::{RecvError, TryRecvError};

type Message<T> = (T, Option<Snapshot>);

/// A channel for one value; see [`tokio::sync::oneshot::channel`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let clocks = Arc::new(ChannelClocks::new(None));
    (Sender { inner: Some(tx), clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// Sends the value; see [`tokio::sync::oneshot::Sender`].
pub struct Sender<T> {
    /// `None` once sent.
    inner: Option<tokio::sync::oneshot::Sender<Message<T>>>,
    clocks: Arc<ChannelClocks>,
}

/// Receives the value: a future; see [`tokio::sync::oneshot::Receiver`].
pub struct Receiver<T> {
    inner: tokio::sync::oneshot::Receiver<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

impl<T> Sender<T> {
    /// Sends the value, or gives it back when the receiver is gone; see
    /// [`tokio::sync::oneshot::Sender::send`].
    pub fn send(mut self, t: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a oneshot sender sends once");
        inner.send((t, self.clocks.stamp())).map_err(|(t, _)| t)
    }

    /// Waits until the receiver is gone.
    pub async fn closed(&mut self) {
        if let Some(inner) = self.inner.as_mut() {
            inner.closed().await;
        }
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.as_ref().map_or(true, |inner| inner.is_closed())
    }

    /// Polls for the receiver's going; see
    /// [`tokio::sync::oneshot::Sender::poll_closed`].
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.inner.as_mut() {
            Some(inner) => inner.poll_closed(cx),
            None => Poll::Ready(()),
        }
    }
}

/// Dropping the sender unsent releases its clock to the receive that
/// observes it.
impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            self.clocks.sender_dropped();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent; see
    /// [`tokio::sync::oneshot::Receiver::try_recv`].
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

    /// Waits for the value from blocking code.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        let Receiver { inner, clocks } = self;
        let result = inner.blocking_recv();
        Receiver::<T>::took_with(&clocks, result)
    }

    fn took_with(clocks: &ChannelClocks, result: Result<Message<T>, RecvError>) -> Result<T, RecvError> {
        match result {
            Ok((value, clock)) => {
                clocks.received(clock);
                Ok(value)
            }
            Err(e) => {
                clocks.observed_close();
                Err(e)
            }
        }
    }

    /// Refuses the value from now on.
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Whether the value was taken or the channel closed.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }

    /// Whether the value is there to take.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(result) => Poll::Ready(Receiver::<T>::took_with(&self.clocks, result)),
            Poll::Pending => Poll::Pending,
        }
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
