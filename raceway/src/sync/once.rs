//! `Once` and `OnceLock`: std's; the initialization happens before every
//! call that observes it done.

use crate::rt::{self, Synchronize};
use std::fmt;

pub use std::sync::OnceState;

/// One-time initialization; see [`std::sync::Once`].
pub struct Once {
    inner: std::sync::Once,
    done: Synchronize,
}

impl Once {
    /// A new `Once`; `const`, like the original's.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Once {
        Once { inner: std::sync::Once::new(), done: Synchronize::new() }
    }

    fn observed(&self) {
        if rt::is_active() {
            self.done.acquire();
        }
    }

    /// Runs `f` once; see [`std::sync::Once::call_once`]. Whichever call
    /// runs it, its effects happen before every call's return.
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        self.inner.call_once(|| {
            f();
            if rt::is_active() {
                self.done.release();
            }
        });
        self.observed();
    }

    /// Like [`call_once`](Once::call_once), also after a panic in an
    /// earlier initialization; see [`std::sync::Once::call_once_force`].
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        self.inner.call_once_force(|state| {
            f(state);
            if rt::is_active() {
                self.done.release();
            }
        });
        self.observed();
    }

    /// Whether an initialization completed; see
    /// [`std::sync::Once::is_completed`]. `true` observes it.
    pub fn is_completed(&self) -> bool {
        let done = self.inner.is_completed();
        if done {
            self.observed();
        }
        done
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

/// A cell written once; see [`std::sync::OnceLock`]. The write happens
/// before every read that sees the value.
pub struct OnceLock<T> {
    inner: std::sync::OnceLock<T>,
    set: Synchronize,
}

impl<T> OnceLock<T> {
    /// An empty cell; `const`, like the original's.
    pub const fn new() -> OnceLock<T> {
        OnceLock { inner: std::sync::OnceLock::new(), set: Synchronize::new() }
    }

    fn observed<R>(&self, value: R) -> R {
        if rt::is_active() {
            self.set.acquire();
        }
        value
    }

    fn initialized(&self) {
        if rt::is_active() {
            self.set.release();
        }
    }

    /// The value, if set; see [`std::sync::OnceLock::get`].
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

    /// Sets the value if empty; see [`std::sync::OnceLock::set`].
    pub fn set(&self, value: T) -> Result<(), T> {
        match self.try_insert(value) {
            Ok(_) => Ok(()),
            Err((_, value)) => Err(value),
        }
    }

    /// Sets the value if empty and returns it, or returns the one there
    /// with `value`; like std's unstable `try_insert`.
    fn try_insert(&self, value: T) -> Result<&T, (&T, T)> {
        let mut value = Some(value);
        let mut ours = false;
        let stored = self.inner.get_or_init(|| {
            ours = true;
            let value = value.take().expect("taken once");
            // Released before the value is published: whoever sees it
            // finds the clock in place.
            self.initialized();
            value
        });
        match value {
            None if ours => Ok(stored),
            Some(value) => Err((self.observed(stored), value)),
            None => Ok(stored),
        }
    }

    /// The value, initialized with `f` if empty; see
    /// [`std::sync::OnceLock::get_or_init`].
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        let mut ours = false;
        let value = self.inner.get_or_init(|| {
            ours = true;
            let value = f();
            self.initialized();
            value
        });
        if ours {
            value
        } else {
            self.observed(value)
        }
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

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    fn clone(&self) -> Self {
        let cell = OnceLock::new();
        if let Some(value) = self.get() {
            let _ = cell.set(value.clone());
        }
        cell
    }
}

impl<T> From<T> for OnceLock<T> {
    fn from(value: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        cell
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}
