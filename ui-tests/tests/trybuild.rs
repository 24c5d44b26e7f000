//! Compile-time behaviour of the macros: every supported shape compiles,
//! every misuse is an error pointing at the offending tokens (the expected
//! messages are the committed `.stderr` files; regenerate them with
//! `TRYBUILD=overwrite cargo test -p raceway-ui-tests` and review the diff).

//!
//! They run on the stable toolchain only: rustc's wording changes between
//! releases, and a beta or nightly toolchain would fail them for that alone.

#[rustversion::attr(not(stable), ignore = "UI snapshots are taken with the stable toolchain")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
    t.compile_fail("fail/*.rs");
}
