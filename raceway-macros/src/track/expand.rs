//! The function `#[track]` rewrites, and its expansion.
//!
//! A synchronous body runs in a `move` closure called at once, so that
//! every exit (`return`, `?`, the tail) passes through one place where the
//! return value is seen. The closure's return type is the function's, with
//! `impl Trait` left to inference; being `FnOnce`, it may return references
//! borrowed from the arguments, `&mut` included. Arguments are re-bound at
//! the top of the closure in declaration order, so they drop in the same
//! order as in the original function. An `async` body becomes an `async
//! move` block wrapped in `Instrumented`, whose duration covers the whole
//! future. A body that `#[async_trait]` produced (`Box::pin(async move {..})`)
//! is instrumented inside the box.

use super::options::Options;
use super::parse::Function;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, ItemFn, ReturnType, Stmt, Type};

/// The instrumented function.
pub(crate) fn expand(function: Function, options: &Options) -> TokenStream {
    let Function { item } = &function;
    let ItemFn { attrs, vis, sig, block } = item;
    let bindings = function.bindings();

    let fn_name = sig.ident.to_string();
    let name = options.name.as_ref().map_or(fn_name, |lit| lit.value());
    let atomic = options.atomic;
    let meta = quote_spanned! {Span::mixed_site()=>
        static RACEWAY_FN: ::raceway::__private::FnMeta = ::raceway::__private::FnMeta {
            name: ::core::concat!(::core::module_path!(), "::", #name),
            module: ::core::module_path!(),
            atomic: #atomic,
        };
    };
    let here = quote_spanned! {sig.ident.span()=> ::raceway::__private::here()};

    // Arguments recorded at entry, through autoref specialization.
    let mut recorded = Vec::new();
    if sig.receiver().is_some() && !options.skips("self") {
        recorded.push(record_arg("self", &quote!(self)));
    }
    for binding in &bindings {
        let ident = &binding.ident;
        let text = ident.to_string();
        if !options.skips(&text) {
            recorded.push(record_arg(&text, &quote!(#ident)));
        }
    }
    let call = Ident::new("raceway_call", Span::mixed_site());
    // An async call starts (and is recorded) at its first poll, in an
    // execution of its own.
    let entry =
        if sig.asyncness.is_some() || async_trait_body(block).is_some() { quote!(enter_async) } else { quote!(enter) };
    let enter = quote_spanned! {Span::mixed_site()=>
        let #call = ::raceway::__private::Call::#entry(&RACEWAY_FN, #here, || {
            #[allow(unused_imports)]
            use ::raceway::__private::{ViaDebug as _, ViaSerialize as _, ViaTypeName as _};
            ::raceway::__private::args([#(#recorded),*])
        });
    };
    let describe = describe(options);

    // Re-bind the arguments inside the body, in declaration order.
    let rebind = bindings.iter().map(|b| {
        let ident = &b.ident;
        let mutability = b.mutable.then(|| quote!(mut));
        quote_spanned! {ident.span()=>
            #[allow(
                unused_mut,
                clippy::redundant_locals,
                clippy::used_underscore_binding,
                clippy::no_effect_underscore_binding
            )]
            let #mutability #ident = #ident;
        }
    });
    let rebind = quote!(#(#rebind)*);

    let body = if sig.asyncness.is_some() {
        quote_spanned! {block.span()=>
            #meta
            #enter
            ::raceway::__private::Instrumented::new(#call, async move { #rebind #block }, #describe).await
        }
    } else if let Some(boxed) = async_trait_body(block) {
        // `#[async_trait]` output: instrument the boxed future.
        let mut block = (**block).clone();
        let tail = block.stmts.last_mut().expect("async_trait_body checked the tail");
        *tail = Stmt::Expr(
            syn::parse_quote_spanned! {boxed.span()=>
                ::std::boxed::Box::pin(::raceway::__private::Instrumented::new(#call, #boxed, #describe))
            },
            None,
        );
        let stmts = &block.stmts;
        quote! {
            #meta
            #enter
            #(#stmts)*
        }
    } else {
        let result = Ident::new("raceway_result", Span::mixed_site());
        match &sig.output {
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => quote_spanned! {block.span()=>
                #meta
                #enter
                let #result = ::raceway::__private::invoke(move || { #rebind #block });
                ::raceway::__private::exit_diverging(#call, #result)
            },
            output => {
                let ty = match output {
                    ReturnType::Default => quote!(()),
                    ReturnType::Type(_, ty) => infer_impl_trait((**ty).clone()).into_token_stream(),
                };
                quote_spanned! {block.span()=>
                    #meta
                    #enter
                    let #result = ::raceway::__private::invoke(move || -> #ty { #rebind #block });
                    ::raceway::__private::exit(#call, #result, #describe)
                }
            }
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// `("name", value)` for the `args` of `FunctionCall`.
fn record_arg(name: &str, expr: &TokenStream) -> TokenStream {
    quote_spanned! {Span::mixed_site()=>
        (#name, (&&&::raceway::__private::Probe(&#expr)).raceway_value())
    }
}

/// The closure that describes a return value: the value (unless `ret =
/// false`) and the error of an `Err` (unless `err = false`).
fn describe(options: &Options) -> TokenStream {
    let ret = format_ident!("raceway_ret", span = Span::mixed_site());
    let value = if options.ret {
        quote_spanned! {Span::mixed_site()=> (&&&::raceway::__private::Probe(#ret)).raceway_value()}
    } else {
        quote_spanned! {Span::mixed_site()=> ::raceway::Value::Null}
    };
    let error = if options.err {
        quote_spanned! {Span::mixed_site()=> (&&&::raceway::__private::Probe(#ret)).raceway_error()}
    } else {
        quote_spanned! {Span::mixed_site()=> ::core::option::Option::None}
    };
    quote_spanned! {Span::mixed_site()=>
        |#ret| {
            #[allow(unused_imports)]
            use ::raceway::__private::{
                ErrNone as _, ErrViaDebug as _, ErrViaDisplay as _, ViaDebug as _, ViaSerialize as _,
                ViaTypeName as _,
            };
            (#value, #error)
        }
    }
}

/// The return type with every `impl Trait` replaced by `_`, for the
/// closure's annotation (closures cannot name opaque types).
fn infer_impl_trait(mut ty: Type) -> Type {
    struct Replace;
    impl VisitMut for Replace {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(it) = ty {
                *ty = Type::Infer(syn::TypeInfer { underscore_token: syn::Token![_](it.span()) });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    Replace.visit_type_mut(&mut ty);
    ty
}

/// The `async move { .. }` of a body whose tail is `Box::pin(async move { .. })`,
/// as `#[async_trait]` writes it.
fn async_trait_body(block: &Block) -> Option<&Expr> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let is_box_pin = segments.ends_with(&["Box".to_string(), "pin".to_string()]);
    match call.args.first() {
        Some(arg @ Expr::Async(_)) if is_box_pin && call.args.len() == 1 => Some(arg),
        _ => None,
    }
}
