#[derive(raceway::Traced)]
struct Account {
    #[traced(key)]
    id: String,
    #[traced(key)]
    email: String,
}

fn main() {}
