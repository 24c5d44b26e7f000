fn main() {
    raceway::tracked!();
}
