//! Parsing the item `#[track]` is applied to.
//!
//! A function whose body does not parse is given back unchanged, so that
//! rustc reports the body's own error and nothing else (as
//! tracing-attributes does with its `MaybeItemFn`): the function is then
//! not instrumented, and the build fails on that error anyway.

use proc_macro2::{Delimiter, Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Attribute, FnArg, Ident, ItemFn, Signature, Type, Visibility};

/// A function `#[track]` applies to.
pub(crate) struct Function {
    pub(crate) item: ItemFn,
}

/// One binding introduced by the parameters.
pub(crate) struct Binding {
    pub(crate) ident: Ident,
    pub(crate) mutable: bool,
}

/// What the item turned out to be.
pub(crate) enum Parsed {
    /// A function with a body: instrument it.
    Function(Box<Function>),
    /// A function whose body does not parse: emit it as it is.
    Unparsable(TokenStream),
}

/// A function's header followed by a braced body of any tokens.
struct FunctionWithAnyBody;

impl Parse for FunctionWithAnyBody {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.call(Attribute::parse_outer)?;
        input.parse::<Visibility>()?;
        input.parse::<Signature>()?;
        input.step(|cursor| match cursor.group(Delimiter::Brace) {
            Some((_, _, rest)) if rest.eof() => Ok(((), rest)),
            _ => Err(cursor.error("expected a function body")),
        })?;
        Ok(FunctionWithAnyBody)
    }
}

impl Function {
    pub(crate) fn parse(item: TokenStream) -> syn::Result<Parsed> {
        match syn::parse2::<ItemFn>(item.clone()) {
            Ok(item) => Ok(Parsed::Function(Box::new(Function { item }))),
            Err(_) if syn::parse2::<FunctionWithAnyBody>(item.clone()).is_ok() => Ok(Parsed::Unparsable(item)),
            Err(_) => {
                let span = match syn::parse2::<syn::Item>(item.clone()) {
                    Ok(other) => item_keyword_span(&other),
                    Err(_) => item.into_iter().next().map_or_else(Span::call_site, |t| t.span()),
                };
                Err(syn::Error::new(span, "#[track] applies to functions and methods with a body"))
            }
        }
    }

    /// The bindings of the typed parameters, in declaration order.
    pub(crate) fn bindings(&self) -> Vec<Binding> {
        struct Collect(Vec<Binding>);
        impl<'ast> Visit<'ast> for Collect {
            fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
                self.0.push(Binding { ident: pat.ident.clone(), mutable: pat.mutability.is_some() });
                if let Some((_, sub)) = &pat.subpat {
                    self.visit_pat(sub);
                }
            }
            // Types may contain patterns of their own (in fn pointer types):
            // none of them bind arguments.
            fn visit_type(&mut self, _: &'ast Type) {}
        }
        let mut collect = Collect(Vec::new());
        for input in &self.item.sig.inputs {
            if let FnArg::Typed(typed) = input {
                collect.visit_pat(&typed.pat);
            }
        }
        collect.0
    }
}

/// The span of the keyword that says what an item is, for "not a function".
fn item_keyword_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Struct(i) => i.struct_token.span(),
        syn::Item::Enum(i) => i.enum_token.span(),
        syn::Item::Union(i) => i.union_token.span(),
        syn::Item::Trait(i) => i.trait_token.span(),
        syn::Item::Impl(i) => i.impl_token.span(),
        syn::Item::Mod(i) => i.mod_token.span(),
        syn::Item::Static(i) => i.static_token.span(),
        syn::Item::Const(i) => i.const_token.span(),
        syn::Item::Type(i) => i.type_token.span(),
        syn::Item::Use(i) => i.use_token.span(),
        syn::Item::Fn(i) => i.sig.fn_token.span(),
        other => other.span(),
    }
}
