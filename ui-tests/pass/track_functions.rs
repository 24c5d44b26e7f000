//! Free functions of every shape.
#![deny(missing_docs, unused_must_use)]

use raceway::track;
use std::fmt::Display;

/// Documented and `#[must_use]`: both attributes are preserved.
#[must_use]
#[track]
pub fn documented(a: i32) -> i32 {
    a
}

#[track]
fn generic<'a, T: Clone + Default, U>(items: &'a [T], _other: U) -> T
where
    U: std::fmt::Debug,
{
    items.first().cloned().unwrap_or_default()
}

#[track]
fn impl_trait(value: impl Display, mut times: usize) -> impl Display {
    times += 1;
    format!("{value}").repeat(times)
}

#[track]
fn borrowed<'a>(a: &'a mut Vec<i32>, b: &'a mut Vec<i32>) -> &'a mut i32 {
    if a.len() > b.len() {
        return &mut a[0];
    }
    &mut b[0]
}

#[track]
fn elided(v: &mut Vec<i32>) -> &mut i32 {
    &mut v[0]
}

#[track]
fn question_mark(text: &str) -> Result<i32, std::num::ParseIntError> {
    let n: i32 = text.parse()?;
    if n < 0 {
        return Ok(0);
    }
    Ok(n)
}

#[track]
fn diverges() -> ! {
    panic!("never returns")
}

#[track]
unsafe fn raw(p: *const i32) -> i32 {
    *p
}

#[track]
extern "C" fn callback(x: i32) -> i32 {
    x + 1
}

struct Pair {
    left: i32,
    right: i32,
}

#[track]
fn destructure((a, b): (i32, i32), Pair { left, right: r }: Pair, [first, ..]: [u8; 3]) -> i32 {
    a + b + left + r + i32::from(first)
}

#[track]
#[inline]
#[allow(clippy::unit_arg)]
fn unit(_: ()) {}

#[track(skip(secret), name = "renamed", ret = false, err = false, atomic = false)]
fn options(secret: &str, shown: u8) -> Result<u8, String> {
    if secret.is_empty() {
        Err("empty".into())
    } else {
        Ok(shown)
    }
}

#[track(skip_all)]
fn skip_all(_a: i32, _b: String) {}

fn main() {
    let _ = documented(1);
    let _ = generic(&[1, 2], "x");
    let _ = impl_trait(1, 2).to_string();
    let (mut a, mut b) = (vec![1], vec![2, 3]);
    *borrowed(&mut a, &mut b) += 1;
    *elided(&mut a) += 1;
    let _ = question_mark("5");
    let _ = unsafe { raw(&1) } + callback(1);
    let _ = destructure((1, 2), Pair { left: 3, right: 4 }, [5, 6, 7]);
    unit(());
    let _ = options("s", 1);
    skip_all(1, String::new());
    if a.is_empty() {
        diverges();
    }
}
