//! User code that names its own items like the ones the expansions use:
//! the generated code refers to everything by absolute path, so nothing the
//! user defines or imports changes what it means.
#![allow(dead_code, non_camel_case_types, clippy::all)]

// Types and traits named like std's prelude and like raceway's internals.
struct Option;
struct Some;
struct None;
struct Result;
struct Ok;
struct Err;
struct Box;
struct String;
struct Vec;
struct Value;
struct Call;
struct FnMeta;
struct Probe;
struct Location;
struct Instrumented;
trait Future {}
trait Serialize {}
trait Debug {}
trait ViaSerialize {}
trait ViaDebug {}
trait Traced {}
// Modules named like the roots the expansions start from.
mod core {}
mod std {}
mod raceway {}
mod __private {}

type u64 = bool;
type usize = bool;
type str = bool;

#[::raceway::track]
fn sync_function(a: i32, b: &'static ::core::primitive::str) -> ::core::primitive::u32 {
    let _ = b;
    a as ::core::primitive::u32
}

#[::raceway::track]
fn fallible(fail: bool) -> ::core::result::Result<i32, &'static ::core::primitive::str> {
    if fail {
        return ::core::result::Result::Err("no");
    }
    ::core::result::Result::Ok(1)
}

#[::raceway::track]
async fn async_function(x: i32) -> i32 {
    x + 1
}

#[derive(::raceway::Traced)]
struct Account {
    #[traced(key)]
    id: &'static ::core::primitive::str,
    balance: i64,
}

fn main() {
    let _ = sync_function(1, "b");
    let _ = fallible(true);
    let _ = async_function(2);
    let mut account = Account { id: "alice", balance: 10 };
    let seen = ::raceway::tracked!(account.balance);
    ::raceway::tracked!(account.balance = seen - 1);
    ::raceway::tracked!(account.balance += 2);
    let _ = ::raceway::tracked!(&account.balance);
}
