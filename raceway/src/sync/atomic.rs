//! `raceway::sync::atomic`: std's atomics, each operation recorded as an
//! atomic access (`AtomicRead`, `AtomicWrite`, `AtomicRMW`) and ordering
//! per the C++/Rust memory model: a `Release` (or stronger) store or
//! read-modify-write happens before an `Acquire` (or stronger) load that
//! reads from its release sequence; `Relaxed` orders nothing; [`fence`]s
//! as specified. Atomic accesses never race each other; `get_mut` and
//! `into_inner` are plain accesses of the same variable, which do.
//!
//! Same types, methods and signatures as `std::sync::atomic`, so that
//! `use raceway::sync::atomic::{AtomicUsize, Ordering};` swaps them in.
//! `new` is `const`: the mirrors work in statics.

use crate::event::{AccessType, Kind, Name, Place};
use crate::rt::{self, AtomicSync};
use crate::value::Value;
use std::fmt;
use std::panic::Location;

pub use std::sync::atomic::Ordering;

/// Records one access of the atomic at `addr` (of `size` bytes), named
/// `name`. The values are converted inside the event's constructor, where
/// the event is built: passed as the atomic's own type, in registers, they
/// are not stored and reloaded at another width on the way (a stall on
/// every operation).
#[inline(always)]
fn record<T: Recorded>(
    name: &'static str,
    (addr, size): (usize, usize),
    access: AccessType,
    old: Option<T>,
    new: T,
    site: &'static Location<'static>,
) {
    rt::emit(|| Kind::StateChange {
        variable: Name::Borrowed(name),
        place: Place::new(addr, size),
        old: old.map(Recorded::value),
        new: new.value(),
        access,
        site,
    });
}

/// A memory fence; see [`std::sync::atomic::fence`]. An `Acquire` (or
/// stronger) fence makes what the execution's earlier relaxed loads read
/// from releases happen before what follows it; a `Release` (or stronger)
/// fence makes what precedes it happen before the acquisitions of the
/// execution's later relaxed stores. Recorded as a `MemoryFence` event.
#[track_caller]
pub fn fence(order: Ordering) {
    std::sync::atomic::fence(order);
    if rt::is_active() {
        rt::fence(order);
        let site = Location::caller();
        rt::emit(|| Kind::MemoryFence { ordering: order, site });
    }
}

/// A compiler fence: orders nothing between executions; see
/// [`std::sync::atomic::compiler_fence`].
pub fn compiler_fence(order: Ordering) {
    std::sync::atomic::compiler_fence(order);
}

/// The value of an atomic as an event records it.
trait Recorded: Copy {
    fn value(self) -> Value;
}

macro_rules! recorded_as {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl Recorded for $t {
            #[inline]
            fn value(self) -> Value {
                Value::$variant(self as $wide)
            }
        }
    )*};
}
recorded_as!(I64 as i64: i8, i16, i32, i64, isize);
recorded_as!(U64 as u64: u8, u16, u32, u64, usize);

impl Recorded for bool {
    fn value(self) -> Value {
        Value::Bool(self)
    }
}

impl<T> Recorded for *mut T {
    fn value(self) -> Value {
        Value::U64(self as usize as u64)
    }
}

/// The methods every atomic has: `$atomic` mirrors `std::sync::atomic::$std`
/// holding `$t`.
macro_rules! atomic_common {
    ([$($gen:ident)?] $atomic:ty, $t:ty, $name:expr) => {
        impl<$($gen)?> $atomic {
            /// The atomic's address, its identity; remembered for
            /// `into_inner`, which has it by value.
            fn addr(&self) -> (usize, usize) {
                let addr = std::ptr::from_ref(self).cast::<()>() as usize;
                self.sync.set_home(addr);
                (addr, std::mem::size_of::<$t>())
            }

            #[inline]
            fn load_with(&self, order: Ordering, site: &'static Location<'static>, op: impl FnOnce() -> $t) -> $t {
                if !rt::is_active() {
                    return op();
                }
                let value = self.sync.load(order, op);
                record($name, self.addr(), AccessType::AtomicRead, None, value, site);
                value
            }

            /// A read-modify-write `op` that returns the old value and
            /// stores `new(old)`.
            #[inline]
            fn modify_with(
                &self,
                order: Ordering,
                site: &'static Location<'static>,
                op: impl FnOnce() -> $t,
                new: impl FnOnce($t) -> $t,
            ) -> $t {
                if !rt::is_active() {
                    return op();
                }
                let old = self.sync.read_modify_write(order, op);
                record($name, self.addr(), AccessType::AtomicRMW, Some(old), new(old), site);
                old
            }

            #[inline]
            fn exchange_with(
                &self,
                new: $t,
                success: Ordering,
                failure: Ordering,
                site: &'static Location<'static>,
                op: impl FnOnce() -> Result<$t, $t>,
            ) -> Result<$t, $t> {
                if !rt::is_active() {
                    return op();
                }
                let result = self.sync.compare_exchange(success, failure, op);
                let addr = self.addr();
                match result {
                    Ok(old) => record($name, addr, AccessType::AtomicRMW, Some(old), new, site),
                    Err(seen) => record($name, addr, AccessType::AtomicRead, None, seen, site),
                }
                result
            }

            /// Loads the value; see the original's `load`.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                self.load_with(order, Location::caller(), || self.inner.load(order))
            }

            /// Stores a value; see the original's `store`.
            #[track_caller]
            pub fn store(&self, val: $t, order: Ordering) {
                if !rt::is_active() {
                    return self.inner.store(val, order);
                }
                self.sync.store(order, || self.inner.store(val, order));
                record($name, self.addr(), AccessType::AtomicWrite, None, val, Location::caller());
            }

            /// Stores a value and returns the previous one; see the
            /// original's `swap`.
            #[track_caller]
            pub fn swap(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.swap(val, order), |_| val)
            }

            /// Stores `new` if the value is `current`; see the original's
            /// `compare_exchange`. A failure is a load with `failure`.
            #[track_caller]
            pub fn compare_exchange(&self, current: $t, new: $t, success: Ordering, failure: Ordering) -> Result<$t, $t> {
                self.exchange_with(new, success, failure, Location::caller(), || {
                    self.inner.compare_exchange(current, new, success, failure)
                })
            }

            /// Like [`compare_exchange`](Self::compare_exchange), but may
            /// fail spuriously; see the original's `compare_exchange_weak`.
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.exchange_with(new, success, failure, Location::caller(), || {
                    self.inner.compare_exchange_weak(current, new, success, failure)
                })
            }

            /// Applies `f` until it returns `None` or its result is stored;
            /// see the original's `fetch_update` (the same loop of a load
            /// and weak compare-and-exchanges, each recorded).
            #[track_caller]
            pub fn fetch_update<F>(&self, set_order: Ordering, fetch_order: Ordering, mut f: F) -> Result<$t, $t>
            where
                F: FnMut($t) -> Option<$t>,
            {
                let site = Location::caller();
                let mut prev = self.load_with(fetch_order, site, || self.inner.load(fetch_order));
                while let Some(next) = f(prev) {
                    let attempt = self.exchange_with(next, set_order, fetch_order, site, || {
                        self.inner.compare_exchange_weak(prev, next, set_order, fetch_order)
                    });
                    match attempt {
                        Ok(old) => return Ok(old),
                        Err(seen) => prev = seen,
                    }
                }
                Err(prev)
            }

            /// Mutable access without synchronization (the borrow proves
            /// exclusivity): recorded as a plain write of the variable.
            #[track_caller]
            pub fn get_mut(&mut self) -> &mut $t {
                if rt::is_active() {
                    let value = *self.inner.get_mut();
                    let addr = self.addr();
                    record($name, addr, AccessType::Write, Some(value), value, Location::caller());
                }
                self.inner.get_mut()
            }

            /// Consumes the atomic and returns the value: a plain read of
            /// the variable.
            #[track_caller]
            pub fn into_inner(self) -> $t {
                let home = self.sync.home();
                let value = self.inner.into_inner();
                if rt::is_active() && home != 0 {
                    record($name, (home, std::mem::size_of::<$t>()), AccessType::Read, None, value, Location::caller());
                }
                value
            }

            /// A raw pointer to the value; see the original's `as_ptr`.
            /// Accesses through it are not recorded.
            pub const fn as_ptr(&self) -> *mut $t {
                self.inner.as_ptr()
            }
        }

        impl<$($gen)?> fmt::Debug for $atomic {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }

        impl<$($gen)?> From<$t> for $atomic {
            fn from(value: $t) -> Self {
                Self::new(value)
            }
        }
    };
}

macro_rules! atomic_int {
    ($($atomic:ident($t:ty)),* $(,)?) => {$(
        #[doc = concat!("[`std::sync::atomic::", stringify!($atomic), "`], recorded and ordered; see the [module docs](self).")]
        pub struct $atomic {
            inner: std::sync::atomic::$atomic,
            sync: AtomicSync,
        }

        impl $atomic {
            /// A new atomic; `const`, like the original's.
            pub const fn new(v: $t) -> Self {
                $atomic { inner: std::sync::atomic::$atomic::new(v), sync: AtomicSync::new() }
            }
        }

        atomic_common!([] $atomic, $t, stringify!($atomic));

        impl $atomic {
            /// Adds to the value; see the original's `fetch_add`.
            #[track_caller]
            pub fn fetch_add(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_add(val, order), |old| old.wrapping_add(val))
            }

            /// Subtracts from the value; see the original's `fetch_sub`.
            #[track_caller]
            pub fn fetch_sub(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_sub(val, order), |old| old.wrapping_sub(val))
            }

            /// Bitwise and; see the original's `fetch_and`.
            #[track_caller]
            pub fn fetch_and(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_and(val, order), |old| old & val)
            }

            /// Bitwise nand; see the original's `fetch_nand`.
            #[track_caller]
            pub fn fetch_nand(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_nand(val, order), |old| !(old & val))
            }

            /// Bitwise or; see the original's `fetch_or`.
            #[track_caller]
            pub fn fetch_or(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_or(val, order), |old| old | val)
            }

            /// Bitwise xor; see the original's `fetch_xor`.
            #[track_caller]
            pub fn fetch_xor(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_xor(val, order), |old| old ^ val)
            }

            /// Maximum; see the original's `fetch_max`.
            #[track_caller]
            pub fn fetch_max(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_max(val, order), |old| old.max(val))
            }

            /// Minimum; see the original's `fetch_min`.
            #[track_caller]
            pub fn fetch_min(&self, val: $t, order: Ordering) -> $t {
                self.modify_with(order, Location::caller(), || self.inner.fetch_min(val, order), |old| old.min(val))
            }
        }

        impl Default for $atomic {
            fn default() -> Self {
                Self::new(0)
            }
        }
    )*};
}

atomic_int!(
    AtomicI8(i8),
    AtomicU8(u8),
    AtomicI16(i16),
    AtomicU16(u16),
    AtomicI32(i32),
    AtomicU32(u32),
    AtomicI64(i64),
    AtomicU64(u64),
    AtomicIsize(isize),
    AtomicUsize(usize),
);

/// [`std::sync::atomic::AtomicBool`], recorded and ordered; see the
/// [module docs](self).
pub struct AtomicBool {
    inner: std::sync::atomic::AtomicBool,
    sync: AtomicSync,
}

impl AtomicBool {
    /// A new atomic; `const`, like the original's.
    pub const fn new(v: bool) -> Self {
        AtomicBool { inner: std::sync::atomic::AtomicBool::new(v), sync: AtomicSync::new() }
    }

    /// Logical and; see the original's `fetch_and`.
    #[track_caller]
    pub fn fetch_and(&self, val: bool, order: Ordering) -> bool {
        self.modify_with(order, Location::caller(), || self.inner.fetch_and(val, order), |old| old & val)
    }

    /// Logical nand; see the original's `fetch_nand`.
    #[track_caller]
    pub fn fetch_nand(&self, val: bool, order: Ordering) -> bool {
        self.modify_with(order, Location::caller(), || self.inner.fetch_nand(val, order), |old| !(old & val))
    }

    /// Logical or; see the original's `fetch_or`.
    #[track_caller]
    pub fn fetch_or(&self, val: bool, order: Ordering) -> bool {
        self.modify_with(order, Location::caller(), || self.inner.fetch_or(val, order), |old| old | val)
    }

    /// Logical xor; see the original's `fetch_xor`.
    #[track_caller]
    pub fn fetch_xor(&self, val: bool, order: Ordering) -> bool {
        self.modify_with(order, Location::caller(), || self.inner.fetch_xor(val, order), |old| old ^ val)
    }

    /// Logical not; see the original's `fetch_not` (a `fetch_xor` with
    /// `true`, which is what it is, and available before Rust 1.81).
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        self.modify_with(order, Location::caller(), || self.inner.fetch_xor(true, order), |old| !old)
    }
}

atomic_common!([] AtomicBool, bool, "AtomicBool");

impl Default for AtomicBool {
    fn default() -> Self {
        Self::new(false)
    }
}

/// [`std::sync::atomic::AtomicPtr`], recorded and ordered; see the
/// [module docs](self).
pub struct AtomicPtr<T> {
    inner: std::sync::atomic::AtomicPtr<T>,
    sync: AtomicSync,
}

impl<T> AtomicPtr<T> {
    /// A new atomic; `const`, like the original's.
    pub const fn new(p: *mut T) -> Self {
        AtomicPtr { inner: std::sync::atomic::AtomicPtr::new(p), sync: AtomicSync::new() }
    }
}

atomic_common!([T] AtomicPtr<T>, *mut T, "AtomicPtr");

impl<T> Default for AtomicPtr<T> {
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}
