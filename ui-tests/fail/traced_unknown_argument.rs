#[derive(raceway::Traced)]
struct Account {
    #[traced(id)]
    id: String,
}

fn main() {}
