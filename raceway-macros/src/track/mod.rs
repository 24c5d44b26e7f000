//! `#[track]`: parse the options and the function, validate, expand.

mod expand;
mod options;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn track(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = options::Options::parse(args)?;
    let function = match parse::Function::parse(item)? {
        parse::Parsed::Function(function) => *function,
        parse::Parsed::Unparsable(item) => return Ok(item),
    };
    validate::validate(&function, &options)?;
    Ok(expand::expand(function, &options))
}
