//! `tokio::sync::Semaphore`: returning permits (a permit dropped,
//! `add_permits`) happens before the acquisitions they enable.
//!
//! A semaphore of n permits orders like a channel of capacity n whose
//! sends are acquisitions and whose receives are returns: the k-th permit
//! returned happens before the (k+n)-th permit taken. Returned permits
//! leave their clock as credits, in order; an acquisition takes as many as
//! it has permits (the first n permits taken need none).

use crate::rt::ChannelClocks;
use std::fmt;
use std::sync::Arc;

pub use tokio::sync::{AcquireError, TryAcquireError};

/// A counting semaphore; see [`tokio::sync::Semaphore`].
pub struct Semaphore {
    inner: Arc<tokio::sync::Semaphore>,
    /// The returned permits' clocks.
    credits: ChannelClocks,
}

impl Semaphore {
    /// The largest number of permits; see
    /// [`tokio::sync::Semaphore::MAX_PERMITS`].
    pub const MAX_PERMITS: usize = tokio::sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore { inner: Arc::new(tokio::sync::Semaphore::new(permits)), credits: ChannelClocks::new(Some(permits)) }
    }

    fn acquired(&self, permits: usize) {
        self.credits.take_credits(permits);
    }

    fn returned(&self, permits: usize) {
        self.credits.leave_credits(permits);
    }

    /// The permits available now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// Adds `n` permits; what the caller did so far happens before the
    /// acquisitions they enable.
    pub fn add_permits(&self, n: usize) {
        self.returned(n);
        self.inner.add_permits(n);
    }

    /// Removes up to `n` available permits; returns how many.
    pub fn forget_permits(&self, n: usize) -> usize {
        let forgotten = self.inner.forget_permits(n);
        // As if taken: their credits go with them.
        self.credits.take_credits(forgotten);
        forgotten
    }

    /// Acquires a permit; see [`tokio::sync::Semaphore::acquire`].
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        let inner = self.inner.acquire().await?;
        self.acquired(1);
        Ok(SemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires `n` permits; see [`tokio::sync::Semaphore::acquire_many`].
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let inner = self.inner.acquire_many(n).await?;
        self.acquired(n as usize);
        Ok(SemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires a permit if one is available; see
    /// [`tokio::sync::Semaphore::try_acquire`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let inner = self.inner.try_acquire()?;
        self.acquired(1);
        Ok(SemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires `n` permits if available.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let inner = self.inner.try_acquire_many(n)?;
        self.acquired(n as usize);
        Ok(SemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires a permit that owns its semaphore; see
    /// [`tokio::sync::Semaphore::acquire_owned`].
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        let inner = self.inner.clone().acquire_owned().await?;
        self.acquired(1);
        Ok(OwnedSemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires `n` permits that own their semaphore.
    pub async fn acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, AcquireError> {
        let inner = self.inner.clone().acquire_many_owned(n).await?;
        self.acquired(n as usize);
        Ok(OwnedSemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires a permit that owns its semaphore, if available.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let inner = self.inner.clone().try_acquire_owned()?;
        self.acquired(1);
        Ok(OwnedSemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Acquires `n` permits that own their semaphore, if available.
    pub fn try_acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let inner = self.inner.clone().try_acquire_many_owned(n)?;
        self.acquired(n as usize);
        Ok(OwnedSemaphorePermit { semaphore: self, inner: Some(inner) })
    }

    /// Closes the semaphore: pending and later acquisitions fail.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether the semaphore is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// Permits from a [`Semaphore`]; returned when dropped. See
/// [`tokio::sync::SemaphorePermit`].
#[must_use]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    /// `None` once forgotten.
    inner: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits from returning to the semaphore.
    pub fn forget(mut self) {
        if let Some(inner) = self.inner.take() {
            inner.forget();
        }
    }

    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.inner.as_ref().map_or(0, |p| p.num_permits())
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // Released before the permits can be taken again.
            self.semaphore.returned(inner.num_permits());
            drop(inner);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").field("permits", &self.num_permits()).finish()
    }
}

/// Permits that own their [`Semaphore`]; see
/// [`tokio::sync::OwnedSemaphorePermit`].
#[must_use]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    inner: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from returning to the semaphore.
    pub fn forget(mut self) {
        if let Some(inner) = self.inner.take() {
            inner.forget();
        }
    }

    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.inner.as_ref().map_or(0, |p| p.num_permits())
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            self.semaphore.returned(inner.num_permits());
            drop(inner);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit").field("permits", &self.num_permits()).finish()
    }
}
