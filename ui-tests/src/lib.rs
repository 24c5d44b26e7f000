//! Compile-time tests of the raceway macros (trybuild).
