struct Opaque;

#[derive(raceway::Traced)]
struct Account {
    #[traced(key)]
    id: Opaque,
    balance: i64,
}

fn main() {}
