//! The entry point of `tracked!`: one state change of a place.

use crate::event::{AccessType, Kind, Name, Place};
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

/// The address and size of a place: its identity within the process.
#[inline(always)]
pub fn place_of<T: ?Sized>(place: &T) -> (usize, usize) {
    ((place as *const T).cast::<()>() as usize, std::mem::size_of_val(place))
}

/// The variable a state change names: a `Traced` instance's key is its
/// identity across processes; otherwise the place's address and size are,
/// and its source text is its display name.
#[inline(always)]
fn variable(
    key: Option<String>,
    text: &'static str,
    field: &'static str,
    (addr, size): (usize, usize),
) -> (Name, Place) {
    match key {
        Some(instance) => (Name::Owned(format!("{instance}{field}")), Place::NAMED),
        None => (Name::Borrowed(text), Place::new(addr, size)),
    }
}

/// Records a state change of a `tracked!` place.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn state_change(
    key: Option<String>,
    text: &'static str,
    field: &'static str,
    place: (usize, usize),
    old: Option<Value>,
    new: Value,
    access: AccessType,
    site: &'static Location<'static>,
) {
    let (variable, place) = variable(key, text, field, place);
    rt::emit(|| Kind::StateChange { variable, place, old, new, access, site });
}

pub use AccessType::{Read, Write};
