#[derive(raceway::Traced)]
enum State {
    Open,
    Closed,
}

fn main() {}
