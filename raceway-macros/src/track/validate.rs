//! What `#[track]` refuses, each error at the offending tokens.

use super::options::Options;
use super::parse::Function;
use syn::spanned::Spanned;

pub(crate) fn validate(function: &Function, options: &Options) -> syn::Result<()> {
    let sig = &function.item.sig;
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            "#[track] cannot instrument a `const fn`: recording happens at run time",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(variadic.span(), "#[track] cannot instrument a variadic function"));
    }
    let names: Vec<String> = function.bindings().iter().map(|b| b.ident.to_string()).collect();
    let has_self = sig.receiver().is_some();
    for skipped in &options.skip {
        let name = skipped.to_string();
        if !(names.contains(&name) || (name == "self" && has_self)) {
            return Err(syn::Error::new(
                skipped.span(),
                format!("`skip({name})`: this function has no argument `{name}`"),
            ));
        }
    }
    Ok(())
}
