//! `raceway::sync::crossbeam` (feature `crossbeam`): crossbeam's channels,
//! ordered like [`crate::sync::mpsc`] (a send happens before the receive
//! that takes its message, dropping every sender before a receive that
//! observes the close, and for a channel of capacity C the k-th receive
//! before the (k+C)-th send completes). Both halves are `Clone`.
//!
//! crossbeam's `select!` works on crossbeam's own types: around it, order
//! what it synchronizes with [`crate::sync::happens_before`] and
//! [`crate::sync::happens_after`].

/// `crossbeam_channel`'s channels; same names, methods and error types.
pub mod channel {
    use crate::rt::{ChannelClocks, Snapshot};
    use std::fmt;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    pub use crossbeam_channel::{RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};

    type Message<T> = (T, Option<Snapshot>);

    /// A channel of capacity `cap` (0: a rendezvous); see
    /// `crossbeam_channel::bounded`.
    pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
        let (tx, rx) = crossbeam_channel::bounded(cap);
        let clocks = Arc::new(ChannelClocks::new(Some(cap)));
        (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
    }

    /// An unbounded channel; see `crossbeam_channel::unbounded`.
    pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let clocks = Arc::new(ChannelClocks::new(None));
        (Sender { inner: tx, clocks: clocks.clone() }, Receiver { inner: rx, clocks })
    }

    /// The sending half; see `crossbeam_channel::Sender`.
    pub struct Sender<T> {
        inner: crossbeam_channel::Sender<Message<T>>,
        clocks: Arc<ChannelClocks>,
    }

    /// The receiving half; see `crossbeam_channel::Receiver`.
    pub struct Receiver<T> {
        inner: crossbeam_channel::Receiver<Message<T>>,
        clocks: Arc<ChannelClocks>,
    }

    impl<T> Sender<T> {
        /// Sends a value, waiting for room; see `crossbeam_channel::Sender::send`.
        pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
            self.inner.send((msg, self.clocks.stamp())).map_err(|e| SendError(e.0 .0))?;
            self.clocks.sent();
            Ok(())
        }

        /// Sends a value if there is room.
        pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
            match self.inner.try_send((msg, self.clocks.stamp())) {
                Ok(()) => {
                    self.clocks.sent();
                    Ok(())
                }
                Err(TrySendError::Full((msg, _))) => Err(TrySendError::Full(msg)),
                Err(TrySendError::Disconnected((msg, _))) => Err(TrySendError::Disconnected(msg)),
            }
        }

        /// Sends a value, waiting for room at most `timeout`.
        pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
            match self.inner.send_timeout((msg, self.clocks.stamp()), timeout) {
                Ok(()) => {
                    self.clocks.sent();
                    Ok(())
                }
                Err(SendTimeoutError::Timeout((msg, _))) => Err(SendTimeoutError::Timeout(msg)),
                Err(SendTimeoutError::Disconnected((msg, _))) => Err(SendTimeoutError::Disconnected(msg)),
            }
        }

        /// Sends a value, waiting for room until `deadline`.
        pub fn send_deadline(&self, msg: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
            self.send_timeout(msg, deadline.saturating_duration_since(Instant::now()))
        }

        /// Whether the channel holds no message.
        pub fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// Whether the channel is full.
        pub fn is_full(&self) -> bool {
            self.inner.is_full()
        }

        /// The number of messages in the channel.
        pub fn len(&self) -> usize {
            self.inner.len()
        }

        /// The channel's capacity; `None` when unbounded.
        pub fn capacity(&self) -> Option<usize> {
            self.inner.capacity()
        }

        /// Whether both halves belong to the same channel.
        pub fn same_channel(&self, other: &Sender<T>) -> bool {
            self.inner.same_channel(&other.inner)
        }
    }

    impl<T> Receiver<T> {
        fn took(&self, (value, clock): Message<T>) -> T {
            self.clocks.received(clock);
            value
        }

        /// Waits for a value; see `crossbeam_channel::Receiver::recv`.
        pub fn recv(&self) -> Result<T, RecvError> {
            match self.inner.recv() {
                Ok(message) => Ok(self.took(message)),
                Err(e) => {
                    self.clocks.observed_close();
                    Err(e)
                }
            }
        }

        /// Takes a value if one is waiting.
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

        /// Waits for a value at most `timeout`.
        pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
            match self.inner.recv_timeout(timeout) {
                Ok(message) => Ok(self.took(message)),
                Err(RecvTimeoutError::Disconnected) => {
                    self.clocks.observed_close();
                    Err(RecvTimeoutError::Disconnected)
                }
                Err(e) => Err(e),
            }
        }

        /// Waits for a value until `deadline`.
        pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
            self.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        }

        /// The values as they arrive, until the channel is closed.
        pub fn iter(&self) -> Iter<'_, T> {
            Iter { rx: self }
        }

        /// The values waiting now.
        pub fn try_iter(&self) -> TryIter<'_, T> {
            TryIter { rx: self }
        }

        /// Whether the channel holds no message.
        pub fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// Whether the channel is full.
        pub fn is_full(&self) -> bool {
            self.inner.is_full()
        }

        /// The number of messages in the channel.
        pub fn len(&self) -> usize {
            self.inner.len()
        }

        /// The channel's capacity; `None` when unbounded.
        pub fn capacity(&self) -> Option<usize> {
            self.inner.capacity()
        }

        /// Whether both halves belong to the same channel.
        pub fn same_channel(&self, other: &Receiver<T>) -> bool {
            self.inner.same_channel(&other.inner)
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            Sender { inner: self.inner.clone(), clocks: self.clocks.clone() }
        }
    }

    impl<T> Clone for Receiver<T> {
        fn clone(&self) -> Self {
            Receiver { inner: self.inner.clone(), clocks: self.clocks.clone() }
        }
    }

    /// Dropping a sender releases its clock to the receive that observes
    /// the channel closed.
    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            self.clocks.sender_dropped();
        }
    }

    impl<T> fmt::Debug for Sender<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Sender { .. }")
        }
    }

    impl<T> fmt::Debug for Receiver<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Receiver { .. }")
        }
    }

    /// The values of a [`Receiver`] as they arrive.
    pub struct Iter<'a, T> {
        rx: &'a Receiver<T>,
    }

    /// The values waiting in a [`Receiver`].
    pub struct TryIter<'a, T> {
        rx: &'a Receiver<T>,
    }

    /// The values of a [`Receiver`], owned.
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

    impl<T> fmt::Debug for Iter<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Iter { .. }")
        }
    }

    impl<T> fmt::Debug for TryIter<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("TryIter { .. }")
        }
    }

    impl<T> fmt::Debug for IntoIter<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("IntoIter { .. }")
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
}
