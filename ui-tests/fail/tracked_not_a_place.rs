fn compute() -> i64 {
    1
}

fn main() {
    let _ = raceway::tracked!(compute());
}
