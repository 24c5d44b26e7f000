#[raceway::track]
struct Account {
    balance: i64,
}

fn main() {}
