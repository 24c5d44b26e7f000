fn main() {
    let a = 1;
    let _ = raceway::tracked!(a + 1);
}
