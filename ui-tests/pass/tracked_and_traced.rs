//! Every form of `tracked!`, and `#[derive(Traced)]`.

use raceway::{tracked, Traced};
use std::sync::Mutex;

#[derive(Traced)]
struct Account {
    #[traced(key)]
    id: String,
    balance: i64,
}

#[derive(Traced)]
struct Generic<K: std::fmt::Display, V>
where
    V: Copy,
{
    #[traced(key)]
    key: K,
    value: V,
}

#[derive(Traced)]
struct Unkeyed {
    level: u8,
}

fn main() {
    let mut account = Account { id: "a".into(), balance: 1 };
    let read: i64 = tracked!(account.balance);
    tracked!(account.balance = read + 1);
    tracked!(account.balance += 1);
    tracked!(account.balance -= 1);
    tracked!(account.balance *= 2);
    tracked!(account.balance /= 2);
    tracked!(account.balance %= 7);
    tracked!(account.balance &= 3);
    tracked!(account.balance |= 8);
    tracked!(account.balance ^= 1);
    tracked!(account.balance <<= 1);
    tracked!(account.balance >>= 1);
    let id: &String = tracked!(&account.id);
    let _ = id.len();

    let shared = Mutex::new(Account { id: "b".into(), balance: 2 });
    let mut guard = shared.lock().unwrap();
    tracked!(guard.balance += 5);
    drop(guard);

    let mut list = vec![Unkeyed { level: 1 }, Unkeyed { level: 2 }];
    let i = 1;
    tracked!(list[i].level = 3);
    let mut local = 5u32;
    tracked!(local += 1);
    let r = &mut local;
    tracked!(*r = 9);
    let mut g = Generic { key: 7u64, value: 'x' };
    tracked!(g.value = 'y');
    let _ = (tracked!(g.value), tracked!(local), tracked!((account.balance)));
}
