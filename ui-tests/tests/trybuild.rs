//! Compile-time behaviour of the macros: every supported shape compiles,
//! every misuse is an error pointing at the offending tokens (the expected
//! messages are the committed `.stderr` files; regenerate them with
//! `TRYBUILD=overwrite cargo test -p raceway-ui-tests` and review the diff).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
    t.compile_fail("fail/*.rs");
}
