#![deny(unused_must_use)]

#[must_use]
#[raceway::track]
fn important() -> u32 {
    7
}

fn main() {
    important();
}
