// A body that does not parse: only rustc's own error, no word from
// `#[track]`.
#[raceway::track]
fn withdraw(amount: i64) -> i64 {
    let balance = 100 +;
    balance - amount
}

fn main() {}
