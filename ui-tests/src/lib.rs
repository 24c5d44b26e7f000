//! Every macro shape, compiled with the strictest lints a user might set:
//! the generated code must not trip any of them. (The trybuild cases live
//! in `pass/` and `fail/`; this crate is linted by `cargo clippy` in CI.)

#![deny(warnings, clippy::all, clippy::pedantic)]

use raceway::{track, tracked, Traced};
use std::fmt::Display;
use std::pin::Pin;

/// An account with a key.
#[derive(Traced, Debug, Default)]
pub struct Account {
    #[traced(key)]
    id: String,
    balance: i64,
}

impl Account {
    #[track]
    fn balance(&self) -> i64 {
        tracked!(self.balance)
    }

    #[track]
    fn deposit(&mut self, amount: i64) -> &mut i64 {
        tracked!(self.balance += amount);
        &mut self.balance
    }

    #[track]
    fn close(self) -> String {
        self.id
    }

    #[track]
    fn boxed(self: Box<Self>) -> i64 {
        self.balance
    }

    #[track]
    fn pinned(self: Pin<&mut Self>) -> i64 {
        self.balance
    }

    #[track]
    async fn later(&mut self, amount: i64) -> i64 {
        tracked!(self.balance -= amount);
        self.balance
    }
}

#[track]
fn parse(text: &str) -> Result<i64, std::num::ParseIntError> {
    let n: i64 = text.parse()?;
    if n < 0 {
        return Ok(0);
    }
    Ok(n)
}

#[track(skip_all, name = "quiet", ret = false, err = false, atomic = false)]
fn quiet(_secret: &str) {}

#[track]
fn shape<'a, T>(items: &'a [T], shown: impl Display) -> impl Display + 'a
where
    T: Display,
{
    format!("{shown}{}", items.len())
}

#[track]
fn pick<'a>(a: &'a mut Vec<i64>, b: &'a mut Vec<i64>) -> &'a mut i64 {
    if a.len() > b.len() {
        return &mut a[0];
    }
    &mut b[0]
}

#[track]
fn destructure((a, b): (i64, i64)) -> i64 {
    a + b
}

#[track]
fn stop(reason: &str) -> ! {
    panic!("{reason}")
}

/// Uses every shape once.
///
/// # Panics
///
/// Never: the diverging function is only called for an empty account list.
#[must_use]
pub fn exercise() -> i64 {
    let mut account = Account { id: "a".to_string(), balance: 1 };
    *account.deposit(2) += 1;
    let mut total = account.balance();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    total += runtime.block_on(account.later(1));
    total += Pin::new(&mut account).pinned();
    total += parse("4").unwrap_or_default();
    quiet("s");
    let mut values = vec![1, 2];
    let mut others = vec![3];
    *pick(&mut values, &mut others) += 1;
    tracked!(values[0] = 5);
    let read = tracked!(values[0]);
    let mut local = 3u32;
    tracked!(local <<= 1);
    total += destructure((read, i64::from(local)));
    total += shape(&[1], "x").to_string().len().try_into().unwrap_or(0i64);
    let boxed = Box::new(Account::default());
    total += boxed.boxed();
    if account.close().is_empty() {
        stop("no id");
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shape_runs() {
        assert_eq!(super::exercise(), 27);
    }
}
