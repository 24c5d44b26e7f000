#[raceway::track(atomic)]
fn worker() {}

fn main() {}
