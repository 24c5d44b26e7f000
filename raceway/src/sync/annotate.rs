//! `happens_before` / `happens_after`: a manual edge for synchronization no
//! wrapper covers (crossbeam's `select!`, a custom queue, FFI), with the
//! meaning of ThreadSanitizer's `AnnotateHappensBefore/After`.

use crate::rt;

fn address<T: ?Sized>(x: &T) -> usize {
    std::ptr::from_ref(x).cast::<()>() as usize
}

/// Everything the current execution did so far happens before every later
/// [`happens_after`] with the same address.
///
/// ```
/// use raceway::sync::{happens_after, happens_before};
/// let queue = std::sync::Mutex::new(Vec::new()); // not tracked
/// let report = raceway::check(|| {
///     let mut data = 0i64;
///     raceway::thread::scope(|s| {
///         s.spawn(|| {
///             raceway::tracked!(data = 1);
///             happens_before(&queue);
///             queue.lock().unwrap().push(());
///         });
///     });
///     while queue.lock().unwrap().is_empty() {}
///     happens_after(&queue);
///     let _ = raceway::tracked!(data);
/// });
/// assert!(report.is_clean(), "{report}");
/// ```
pub fn happens_before<T: ?Sized>(x: &T) {
    rt::annotate_before(address(x));
}

/// Every earlier [`happens_before`] with the same address happens before
/// what the current execution does next.
pub fn happens_after<T: ?Sized>(x: &T) {
    rt::annotate_after(address(x));
}
