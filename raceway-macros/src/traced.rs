//! `#[derive(Traced)]`: parse the struct, validate its `traced` attributes,
//! expand into an implementation of `raceway::Traced`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Member};

pub(crate) fn derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let key = validate(&input)?;
    Ok(expand(&input, key))
}

/// The key field, if one is marked; errors for everything that cannot be
/// traced.
fn validate(input: &DeriveInput) -> syn::Result<Option<(Member, &syn::Type)>> {
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            return Err(syn::Error::new(
                data.enum_token.span(),
                "#[derive(Traced)] supports structs only: an enum has no fields that stay put",
            ))
        }
        Data::Union(data) => {
            return Err(syn::Error::new(data.union_token.span(), "#[derive(Traced)] supports structs only, not unions"))
        }
    };
    if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("traced")) {
        return Err(syn::Error::new(attr.span(), "`#[traced(...)]` goes on a field, as `#[traced(key)]`"));
    }
    let named = match fields {
        Fields::Named(named) => named,
        Fields::Unnamed(f) => {
            return Err(syn::Error::new(f.span(), "#[derive(Traced)] supports structs with named fields"))
        }
        Fields::Unit => return Err(syn::Error::new(input.ident.span(), "#[derive(Traced)] needs named fields")),
    };
    let mut key: Option<(Member, &syn::Type, Span)> = None;
    for field in &named.named {
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("traced")) {
            let mut key_span = None;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("key") {
                    key_span = Some(meta.path.span());
                    Ok(())
                } else {
                    Err(meta.error("unknown `traced` argument: expected `#[traced(key)]`"))
                }
            })?;
            let Some(key_span) = key_span else {
                return Err(syn::Error::new(attr.span(), "expected `#[traced(key)]`"));
            };
            if let Some((_, _, first)) = &key {
                let mut error = syn::Error::new(key_span, "a Traced struct has at most one `#[traced(key)]` field");
                error.combine(syn::Error::new(*first, "the first key is here"));
                return Err(error);
            }
            let ident = field.ident.clone().expect("named fields have names");
            key = Some((Member::Named(ident), &field.ty, key_span));
        }
    }
    Ok(key.map(|(member, ty, _)| (member, ty)))
}

fn expand(input: &DeriveInput, key: Option<(Member, &syn::Type)>) -> TokenStream {
    let name = &input.ident;
    let type_name = name.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let key = match key {
        Some((member, ty)) => {
            // The bound of `key_to_string` is checked at the field's type:
            // a key that is not `Display` is reported there.
            let format = quote_spanned! {ty.span()=> ::raceway::__private::key_to_string(&self.#member)};
            quote!(::core::option::Option::Some(#format))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::raceway::Traced for #name #ty_generics #where_clause {
            fn raceway_type_name(&self) -> &'static ::core::primitive::str {
                #type_name
            }
            fn raceway_key(&self) -> ::core::option::Option<::std::string::String> {
                #key
            }
        }
    }
}
