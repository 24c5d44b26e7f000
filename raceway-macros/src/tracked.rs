//! `tracked!`: parse the access, validate the place, expand.
//!
//! | input | access | value |
//! |---|---|---|
//! | `tracked!(place)` | Read | a copy of the value (`Copy` types) |
//! | `tracked!(&place)` | Read | a reference to the place |
//! | `tracked!(place = v)` | Write (old, new) | `()` |
//! | `tracked!(place op= v)` | Read, then Write (old, new) | `()` |
//!
//! The right-hand side is evaluated first, then the place, once. When the
//! place is a field (`base.field`) whose base is a plain place expression
//! (no calls or macros), the base is also read once more, by shared
//! reference, to ask whether it is `Traced` and has a key.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprField};

enum Access {
    Read { place: Expr, by_ref: bool },
    Write { place: Expr, value: Expr },
    Update { place: Expr, op: BinOp, value: Expr },
}

const PLACE_HELP: &str =
    "`tracked!` needs a place: a variable (`x`), a field (`a.b`), an index (`v[i]`) or a dereference (`*r`)";

fn parse(input: TokenStream) -> syn::Result<Access> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "`tracked!` needs an access: `tracked!(place)`, `tracked!(place = value)` or `tracked!(place += value)`",
        ));
    }
    let expr: Expr = syn::parse2(input)?;
    Ok(match expr {
        Expr::Assign(assign) => Access::Write { place: *assign.left, value: *assign.right },
        Expr::Binary(binary) if is_compound(&binary.op) => {
            Access::Update { place: *binary.left, op: binary.op, value: *binary.right }
        }
        Expr::Binary(binary) => {
            return Err(syn::Error::new(
                binary.op.span(),
                "`tracked!` records a read or an assignment, not an operation: \
                 use `tracked!(place)`, `tracked!(place = value)` or a compound assignment such as `tracked!(place += value)`",
            ))
        }
        Expr::Reference(reference) if reference.mutability.is_none() => {
            Access::Read { place: *reference.expr, by_ref: true }
        }
        Expr::Reference(reference) => {
            return Err(syn::Error::new(
                reference.mutability.span(),
                "`tracked!(&mut place)` is not supported: write with `tracked!(place = value)`",
            ))
        }
        place => Access::Read { place, by_ref: false },
    })
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

/// Whether `expr` is a place expression.
fn validate_place(expr: &Expr) -> syn::Result<()> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => Ok(()),
        // The base of a field may be any expression that reaches a place
        // through auto-deref: a guard, a method returning `&mut`.
        Expr::Field(_) => Ok(()),
        Expr::Index(_) => Ok(()),
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => Ok(()),
        Expr::Paren(paren) => validate_place(&paren.expr),
        Expr::Group(group) => validate_place(&group.expr),
        other => Err(syn::Error::new(other.span(), PLACE_HELP)),
    }
}

/// Whether evaluating `expr` twice is harmless: paths, fields, indexes by
/// such, literals and dereferences only.
fn is_plain(expr: &Expr) -> bool {
    match expr {
        Expr::Path(_) | Expr::Lit(_) => true,
        Expr::Field(f) => is_plain(&f.base),
        Expr::Index(i) => is_plain(&i.expr) && is_plain(&i.index),
        Expr::Paren(p) => is_plain(&p.expr),
        Expr::Group(g) => is_plain(&g.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)) && is_plain(&u.expr),
        _ => false,
    }
}

fn text(tokens: &impl ToTokens) -> String {
    // `a . b` → `a.b`, `v [i]` → `v[i]`: the place as a person writes it.
    let raw = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    for piece in raw.split(' ') {
        let glue =
            out.ends_with(['.', '[', '(', '*', '&']) || piece.starts_with(['.', '[', ']', ')']) || out.is_empty();
        if !glue {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

pub(crate) fn tracked(input: TokenStream) -> syn::Result<TokenStream> {
    let access = parse(input)?;
    let place = match &access {
        Access::Read { place, .. } | Access::Write { place, .. } | Access::Update { place, .. } => place,
    };
    validate_place(place)?;
    Ok(expand(&access, place))
}

fn expand(access: &Access, place: &Expr) -> TokenStream {
    let span = place.span();
    let m = Span::mixed_site();
    let here = quote_spanned! {span=> ::raceway::__private::here()};
    let place_text = text(place);

    // The key of a `Traced` base, for a field of a plain base.
    let (key, field_text) = match place {
        Expr::Field(ExprField { base, member, .. }) if is_plain(base) => {
            let field_text = format!(".{}", member.to_token_stream());
            let key = quote_spanned! {m=> {
                #[allow(unused_imports)]
                use ::raceway::__private::{KeyNone as _, KeyViaTraced as _};
                (&&::raceway::__private::Probe(&#base)).raceway_key()
            }};
            (key, field_text)
        }
        _ => (quote_spanned! {m=> ::core::option::Option::None}, String::new()),
    };
    let value_of = |reference: TokenStream| {
        quote_spanned! {m=> {
            #[allow(unused_imports)]
            use ::raceway::__private::{ViaDebug as _, ViaSerialize as _, ViaTypeName as _};
            (&&&::raceway::__private::Probe(#reference)).raceway_value()
        }}
    };
    // Whether to record is decided once, so that the read and the write of
    // an update are both recorded or neither; the key is taken before the
    // place is borrowed mutably.
    let take_key = quote_spanned! {m=>
        let on = ::raceway::__private::enabled();
        let key = if on { #key } else { ::core::option::Option::None };
    };
    // `key` is moved into its last use and cloned only before that.
    let record = |key: TokenStream, old: TokenStream, new: TokenStream, access: TokenStream| {
        quote_spanned! {m=>
            ::raceway::__private::state_change(
                #key, #place_text, #field_text, ::raceway::__private::place_of(p), #old, #new,
                ::raceway::__private::#access, #here,
            )
        }
    };
    let (key_last, key_again) = (quote_spanned!(m=> key), quote_spanned!(m=> key.clone()));

    match access {
        Access::Read { by_ref, .. } => {
            let read =
                record(key_last, quote!(::core::option::Option::None), value_of(quote_spanned!(m=> p)), quote!(Read));
            let p = proc_macro2::Ident::new("p", m);
            let result = if *by_ref {
                quote!(#p)
            } else {
                quote_spanned! {span=> ::raceway::__private::copy_out(#p)}
            };
            quote_spanned! {m=> {
                #take_key
                let p = &#place;
                if on {
                    #read;
                }
                #result
            }}
        }
        Access::Write { value, .. } => {
            let write = record(
                key_last,
                quote_spanned!(m=> ::core::option::Option::Some(old)),
                value_of(quote_spanned!(m=> &*p)),
                quote!(Write),
            );
            let old = value_of(quote_spanned!(m=> &*p));
            quote_spanned! {m=> {
                let new = #value;
                #take_key
                let p = &mut #place;
                let old = if on { ::core::option::Option::Some(#old) } else { ::core::option::Option::None };
                *p = new;
                if let ::core::option::Option::Some(old) = old {
                    let p = &*p;
                    #write;
                }
            }}
        }
        Access::Update { op, value, .. } => {
            let read =
                record(key_again, quote!(::core::option::Option::None), quote_spanned!(m=> old.clone()), quote!(Read));
            let write = record(
                key_last,
                quote_spanned!(m=> ::core::option::Option::Some(old)),
                value_of(quote_spanned!(m=> &*p)),
                quote!(Write),
            );
            let old = value_of(quote_spanned!(m=> &*p));
            quote_spanned! {m=> {
                let rhs = #value;
                #take_key
                let p = &mut #place;
                let old = if on { ::core::option::Option::Some(#old) } else { ::core::option::Option::None };
                if let ::core::option::Option::Some(old) = &old {
                    let p = &*p;
                    #read;
                }
                *p #op rhs;
                if let ::core::option::Option::Some(old) = old {
                    let p = &*p;
                    #write;
                }
            }}
        }
    }
}
