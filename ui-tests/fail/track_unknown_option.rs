#[raceway::track(level = "debug")]
fn f() {}

fn main() {}
