//! `tokio::sync::OnceCell`: the initialization happens before every read
//! that sees the value.

use crate::rt::{self, Synchronize};
use std::fmt;
use std::future::Future;

pub use tokio::sync::SetError;

/// A cell initialized once, asynchronously; see [`tokio::sync::OnceCell`].
pub struct OnceCell<T> {
    inner: tokio::sync::OnceCell<T>,
    set: Synchronize,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceCell { inner: tokio::sync::OnceCell::new(), set: Synchronize::new() }
    }

    /// An empty cell, in a `const` context.
    pub const fn const_new() -> Self {
        OnceCell { inner: tokio::sync::OnceCell::const_new(), set: Synchronize::new() }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> Self {
        let cell = OnceCell::new();
        if let Some(value) = value {
            let _ = cell.set(value);
        }
        cell
    }

    fn observed<R>(&self, value: R) -> R {
        if rt::is_active() {
            self.set.acquire();
        }
        value
    }

    fn publish(&self) {
        if rt::is_active() {
            self.set.release();
        }
    }

    /// Whether the value is set; see [`tokio::sync::OnceCell::initialized`].
    pub fn initialized(&self) -> bool {
        let set = self.inner.initialized();
        if set {
            self.observed(());
        }
        set
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        match self.inner.get() {
            Some(value) => Some(self.observed(value)),
            None => None,
        }
    }

    /// The value, mutably (the borrow proves exclusivity).
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Sets the value if empty; see [`tokio::sync::OnceCell::set`].
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        // Released before the value is published: whoever sees it finds the
        // clock in place. (A failed set released too: that only adds
        // ordering, never removes one.)
        self.publish();
        self.inner.set(value)
    }

    /// The value, initialized by `f` if empty; see
    /// [`tokio::sync::OnceCell::get_or_init`].
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let value = self
            .inner
            .get_or_init(|| async {
                let value = f().await;
                self.publish();
                value
            })
            .await;
        self.observed(value)
    }

    /// The value, initialized by `f` if empty, or `f`'s error; see
    /// [`tokio::sync::OnceCell::get_or_try_init`].
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let value = self
            .inner
            .get_or_try_init(|| async {
                let value = f().await?;
                self.publish();
                Ok(value)
            })
            .await?;
        Ok(self.observed(value))
    }

    /// Takes the value out (the borrow proves exclusivity).
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}
