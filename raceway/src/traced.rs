//! `Traced`: a name for struct instances, so that the state of two objects
//! reached through the same expression is never confused, and the same
//! object is recognised across services.
//!
//! Derive it with `#[derive(raceway::Traced)]`. Mark the field that names an
//! instance with `#[traced(key)]` (any `Display` type). Then
//! `tracked!(account.balance)` names the variable `Account[alice].balance`,
//! and that name is its identity everywhere, including across processes.
//! Without a key, the variable keeps its source text as display name and
//! the place's address as identity, which tells instances apart within one
//! process only.
//!
//! The name is looked up through references, `Box`, `Rc`, `Arc`, `Pin` and
//! lock guards, so `guard.balance` works like `account.balance`.

use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A type whose instances have a name; see the module docs.
pub trait Traced {
    /// The type's name, as shown in variable names.
    fn raceway_type_name(&self) -> &'static str;

    /// The instance's key, when the type has a `#[traced(key)]` field.
    fn raceway_key(&self) -> Option<String>;
}

macro_rules! forward {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: Traced + ?Sized> Traced for $ty {
            fn raceway_type_name(&self) -> &'static str {
                (**self).raceway_type_name()
            }
            fn raceway_key(&self) -> Option<String> {
                (**self).raceway_key()
            }
        }
    )*};
}

forward!(
    &T,
    &mut T,
    Box<T>,
    Rc<T>,
    Arc<T>,
    MutexGuard<'_, T>,
    RwLockReadGuard<'_, T>,
    RwLockWriteGuard<'_, T>,
    crate::sync::MutexGuard<'_, T>,
    crate::sync::RwLockReadGuard<'_, T>,
    crate::sync::RwLockWriteGuard<'_, T>,
    crate::sync::TrackedMutexGuard<'_, T>,
);

#[cfg(feature = "tokio")]
forward!(
    crate::sync::tokio::MutexGuard<'_, T>,
    crate::sync::tokio::RwLockReadGuard<'_, T>,
    crate::sync::tokio::RwLockWriteGuard<'_, T>,
    tokio::sync::MutexGuard<'_, T>,
    tokio::sync::RwLockReadGuard<'_, T>,
    tokio::sync::RwLockWriteGuard<'_, T>,
);

impl<P: Deref> Traced for Pin<P>
where
    P::Target: Traced,
{
    fn raceway_type_name(&self) -> &'static str {
        (**self).raceway_type_name()
    }
    fn raceway_key(&self) -> Option<String> {
        (**self).raceway_key()
    }
}
