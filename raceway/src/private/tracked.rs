//! The entry point of `tracked!`: one state change of a place.

use crate::event::{AccessType, Kind, Name};
use crate::rt;
use crate::value::Value;
use std::panic::Location;

/// The reads of `tracked!(place)` copy the value out.
#[diagnostic::on_unimplemented(
    message = "`tracked!(place)` reads by copy, and `{Self}` is not `Copy`",
    label = "not `Copy`",
    note = "read it by reference with `tracked!(&place)`, or clone what `tracked!(&place)` gives"
)]
pub trait ReadByCopy: Copy {}
impl<T: Copy> ReadByCopy for T {}

#[inline(always)]
pub fn copy_out<T: ReadByCopy>(place: &T) -> T {
    *place
}

/// The address of a place: its identity within the process.
#[inline(always)]
pub fn address<T: ?Sized>(place: &T) -> usize {
    (place as *const T).cast::<()>() as usize
}

/// The variable a state change names: a `Traced` instance's key is its
/// identity across processes; otherwise the place's address is, and its
/// source text is its display name.
#[inline(always)]
fn variable(key: Option<String>, text: &'static str, field: &'static str, addr: usize) -> (Name, usize) {
    match key {
        Some(instance) => (Name::Owned(format!("{instance}{field}")), 0),
        None => (Name::Borrowed(text), addr),
    }
}

/// Records a state change of a `tracked!` place.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn state_change(
    key: Option<String>,
    text: &'static str,
    field: &'static str,
    addr: usize,
    old: Option<Value>,
    new: Value,
    access: AccessType,
    site: &'static Location<'static>,
) {
    let (variable, addr) = variable(key, text, field, addr);
    rt::emit(|| Kind::StateChange { variable, addr, old, new, access, site });
}

pub use AccessType::{Read, Write};
