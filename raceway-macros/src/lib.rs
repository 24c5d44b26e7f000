//! Procedural macros for [`raceway`](https://docs.rs/raceway). Use them
//! through the `raceway` crate, which re-exports them: `#[raceway::track]`,
//! `raceway::tracked!` and `#[derive(raceway::Traced)]`.
//!
//! Each macro parses its input, validates it (every error a `syn::Error`
//! spanned at the offending tokens), then expands into calls of the hidden
//! `::raceway::__private` module.

mod traced;
mod track;
mod tracked;

use proc_macro::TokenStream;

/// Records each call of a function: `FunctionCall` on entry, a function
/// return (with the value and the duration) on every exit, and `Error` when
/// it returns `Err(e)` or panics. See the `raceway` crate's docs.
#[proc_macro_attribute]
pub fn track(args: TokenStream, item: TokenStream) -> TokenStream {
    track::track(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Records a read (`tracked!(place)`, `tracked!(&place)`), a write
/// (`tracked!(place = value)`) or a read-modify-write
/// (`tracked!(place += value)`, and every compound operator) of shared
/// state. See the `raceway` crate's docs.
#[proc_macro]
pub fn tracked(input: TokenStream) -> TokenStream {
    tracked::tracked(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Gives a struct's instances a name: `#[traced(key)]` marks the field that
/// names an instance. See the `raceway` crate's docs.
#[proc_macro_derive(Traced, attributes(traced))]
pub fn derive_traced(input: TokenStream) -> TokenStream {
    traced::derive(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
