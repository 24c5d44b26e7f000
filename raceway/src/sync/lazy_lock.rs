//! `LazyLock`: std's, initialized through a [`OnceLock`](super::OnceLock),
//! so that the initialization happens before every access that sees the
//! value.

use super::OnceLock;
use std::fmt;
use std::ops::Deref;
use std::sync::PoisonError;

/// A value initialized on first access; see [`std::sync::LazyLock`]. The
/// initialization happens before every access that sees the value.
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    /// The initializer, until it runs (a std mutex: never recorded, and
    /// `const` to construct).
    init: std::sync::Mutex<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A value that `f` will make on first access; `const`, like the
    /// original's.
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock { cell: OnceLock::new(), init: std::sync::Mutex::new(Some(f)) }
    }

    /// The value, made now if it was not yet; see
    /// [`std::sync::LazyLock::force`].
    ///
    /// # Panics
    /// If the initializer panicked (now or before), as the original does.
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.get_or_init(|| {
            // Taken out before it runs: the initializer may itself take
            // time, and a panic in it leaves the value poisoned.
            let init = this.init.lock().unwrap_or_else(PoisonError::into_inner).take();
            match init {
                Some(init) => init(),
                None => panic!("LazyLock instance has previously been poisoned"),
            }
        })
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match self.cell.get() {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}
