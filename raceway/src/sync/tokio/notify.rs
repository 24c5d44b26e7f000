//! `tokio::sync::Notify`: a notify happens before the `notified()` it
//! completes (or that consumes its stored permit).

use crate::rt::{self, Synchronize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Notifies tasks; see [`tokio::sync::Notify`].
#[derive(Default)]
pub struct Notify {
    inner: tokio::sync::Notify,
    notified: Synchronize,
}

impl Notify {
    /// A new `Notify` without a permit.
    pub fn new() -> Notify {
        Notify { inner: tokio::sync::Notify::new(), notified: Synchronize::new() }
    }

    /// A new `Notify`, in a `const` context.
    pub const fn const_new() -> Notify {
        Notify { inner: tokio::sync::Notify::const_new(), notified: Synchronize::new() }
    }

    /// Waits for a notification; see [`tokio::sync::Notify::notified`].
    pub fn notified(&self) -> Notified<'_> {
        Notified { inner: self.inner.notified(), notify: self }
    }

    fn released(&self) {
        if rt::is_active() {
            self.notified.release();
        }
    }

    /// Wakes one waiting task, or stores a permit for the next; see
    /// [`tokio::sync::Notify::notify_one`].
    pub fn notify_one(&self) {
        self.released();
        self.inner.notify_one();
    }

    /// Like [`notify_one`](Notify::notify_one), waking the most recent
    /// waiter; see [`tokio::sync::Notify::notify_last`].
    pub fn notify_last(&self) {
        self.released();
        self.inner.notify_last();
    }

    /// Wakes every waiting task; see
    /// [`tokio::sync::Notify::notify_waiters`].
    pub fn notify_waiters(&self) {
        self.released();
        self.inner.notify_waiters();
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Notify::notified`]; see [`tokio::sync::futures::Notified`].
    pub struct Notified<'a> {
        #[pin]
        inner: tokio::sync::futures::Notified<'a>,
        notify: &'a Notify,
    }
}

impl Notified<'_> {
    /// Registers the future as a waiter without polling it; see
    /// [`tokio::sync::futures::Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.project().inner.enable()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(()) => {
                if rt::is_active() {
                    this.notify.notified.acquire();
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}
