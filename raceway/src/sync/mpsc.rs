//! `raceway::sync::mpsc`: std's channels, ordered per the Go memory model:
//! a send happens before the receive that takes its message (the sender's
//! clock travels with the message), dropping the last sender happens before
//! a receive that observes the disconnection, and for a
//! [`sync_channel`] of capacity C the k-th receive happens before the
//! (k+C)-th send completes (C = 0: each receive before its send returns).
//!
//! Same types, methods, signatures and error types as `std::sync::mpsc`.

use crate::rt::{ChannelClocks, Snapshot};
use std::fmt;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

/// A message with the clock of its send.
type Message<T> = (T, Option<Snapshot>);

/// Creates an unbounded channel; see [`std::sync::mpsc::channel`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = std_mpsc::channel();
    let clocks = Arc::new(ChannelClocks::new(None));
    (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// Creates a channel of capacity `bound` (0: a rendezvous); see
/// [`std::sync::mpsc::sync_channel`].
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = std_mpsc::sync_channel(bound);
    let clocks = Arc::new(ChannelClocks::new(Some(bound)));
    (SyncSender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
}

/// The sending half of [`channel`]; see [`std::sync::mpsc::Sender`].
pub struct Sender<T> {
    inner: std_mpsc::Sender<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// The sending half of [`sync_channel`]; see [`std::sync::mpsc::SyncSender`].
pub struct SyncSender<T> {
    inner: std_mpsc::SyncSender<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

/// The receiving half; see [`std::sync::mpsc::Receiver`].
pub struct Receiver<T> {
    inner: std_mpsc::Receiver<Message<T>>,
    clocks: Arc<ChannelClocks>,
}

fn unstamped<T>(error: SendError<Message<T>>) -> SendError<T> {
    SendError(error.0 .0)
}

impl<T> Sender<T> {
    /// Sends a value; see [`std::sync::mpsc::Sender::send`].
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner.send((t, self.clocks.stamp())).map_err(unstamped)?;
        self.clocks.sent();
        Ok(())
    }
}

impl<T> SyncSender<T> {
    /// Sends a value, waiting for room; see
    /// [`std::sync::mpsc::SyncSender::send`].
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner.send((t, self.clocks.stamp())).map_err(unstamped)?;
        self.clocks.sent();
        Ok(())
    }

    /// Sends a value if there is room; see
    /// [`std::sync::mpsc::SyncSender::try_send`].
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        match self.inner.try_send((t, self.clocks.stamp())) {
            Ok(()) => {
                self.clocks.sent();
                Ok(())
            }
            Err(TrySendError::Full((t, _))) => Err(TrySendError::Full(t)),
            Err(TrySendError::Disconnected((t, _))) => Err(TrySendError::Disconnected(t)),
        }
    }
}

impl<T> Receiver<T> {
    fn took(&self, (value, clock): Message<T>) -> T {
        self.clocks.received(clock);
        value
    }

    /// Waits for a value; see [`std::sync::mpsc::Receiver::recv`].
    pub fn recv(&self) -> Result<T, RecvError> {
        match self.inner.recv() {
            Ok(message) => Ok(self.took(message)),
            Err(e) => {
                self.clocks.observed_close();
                Err(e)
            }
        }
    }

    /// Takes a value if one is waiting; see
    /// [`std::sync::mpsc::Receiver::try_recv`].
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.inner.try_recv() {
            Ok(message) => Ok(self.took(message)),
            Err(TryRecvError::Disconnected) => {
                self.clocks.observed_close();
                Err(TryRecvError::Disconnected)
            }
            Err(e) => Err(e),
        }
    }

    /// Waits for a value at most `timeout`; see
    /// [`std::sync::mpsc::Receiver::recv_timeout`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.received_by(self.inner.recv_timeout(timeout))
    }

    /// Waits for a value until `deadline`; like std's `recv_deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_timeout(deadline.saturating_duration_since(Instant::now()))
    }

    fn received_by(&self, result: Result<Message<T>, RecvTimeoutError>) -> Result<T, RecvTimeoutError> {
        match result {
            Ok(message) => Ok(self.took(message)),
            Err(RecvTimeoutError::Disconnected) => {
                self.clocks.observed_close();
                Err(RecvTimeoutError::Disconnected)
            }
            Err(e) => Err(e),
        }
    }

    /// The values as they arrive, until the channel is closed; see
    /// [`std::sync::mpsc::Receiver::iter`].
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// The values waiting now; see [`std::sync::mpsc::Receiver::try_iter`].
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// Dropping a sender releases its clock to the receive that observes the
/// channel closed (the last sender's drop closes it).
impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.clocks.sender_dropped();
    }
}

impl<T> Drop for SyncSender<T> {
    fn drop(&mut self) {
        self.clocks.sender_dropped();
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone(), clocks: self.clocks.clone() }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender { inner: self.inner.clone(), clocks: self.clocks.clone() }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The values of a [`Receiver`] as they arrive; see
/// [`std::sync::mpsc::Iter`].
#[derive(Debug)]
pub struct Iter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

/// The values waiting in a [`Receiver`]; see [`std::sync::mpsc::TryIter`].
#[derive(Debug)]
pub struct TryIter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

/// The values of a [`Receiver`], owned; see [`std::sync::mpsc::IntoIter`].
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
