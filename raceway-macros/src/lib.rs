//! Procedural macros for `raceway`. Use them through the `raceway` crate.
