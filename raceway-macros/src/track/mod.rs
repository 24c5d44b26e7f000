//! `#[track]`: parse the options and the function, validate, expand.

mod expand;
mod options;

use proc_macro2::TokenStream;

pub(crate) fn track(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = options::Options::parse(args)?;
    let function = expand::Function::parse(item)?;
    function.validate(&options)?;
    Ok(function.expand(&options))
}
