//! Raceway's own diagnostics: one line on stderr, prefixed so that it is
//! clear where it comes from.

/// Writes `message` as one `[raceway] …` line on stderr.
pub(crate) fn warn(message: std::fmt::Arguments<'_>) {
    eprintln!("[raceway] {message}");
}
