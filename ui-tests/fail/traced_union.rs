#[derive(raceway::Traced)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
