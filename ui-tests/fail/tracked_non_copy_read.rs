fn main() {
    let name = String::from("alice");
    let copy = raceway::tracked!(name);
    drop(copy);
}
