//! The options of `#[track(...)]`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitStr, Token};

/// Parsed `#[track(...)]` options.
#[derive(Default)]
pub(crate) struct Options {
    /// Arguments not recorded, with their spans for validation.
    pub skip: Vec<Ident>,
    pub skip_all: bool,
    pub name: Option<LitStr>,
    pub ret: bool,
    pub err: bool,
    pub atomic: bool,
}

const KNOWN: &str =
    "expected one of `skip(...)`, `skip_all`, `name = \"...\"`, `ret = false`, `err = false`, `atomic = false`";

enum Option_ {
    Skip(Ident, Vec<Ident>),
    SkipAll(Ident),
    Name(Ident, LitStr),
    Flag(Ident, LitBool),
}

impl Option_ {
    fn key(&self) -> &Ident {
        match self {
            Option_::Skip(k, _) | Option_::SkipAll(k) | Option_::Name(k, _) | Option_::Flag(k, _) => k,
        }
    }
}

impl Parse for Option_ {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        match key.to_string().as_str() {
            "skip" => {
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
                if names.is_empty() {
                    return Err(syn::Error::new(key.span(), "`skip(...)` needs at least one argument name"));
                }
                Ok(Option_::Skip(key, names.into_iter().collect()))
            }
            "skip_all" => Ok(Option_::SkipAll(key)),
            "name" => {
                input.parse::<Token![=]>()?;
                let name: LitStr = input.parse()?;
                if name.value().trim().is_empty() {
                    return Err(syn::Error::new(name.span(), "the name must not be empty"));
                }
                Ok(Option_::Name(key, name))
            }
            "ret" | "err" | "atomic" => {
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key}` takes a boolean: `{key} = false` (the default is true)"),
                    ));
                }
                input.parse::<Token![=]>()?;
                Ok(Option_::Flag(key, input.parse()?))
            }
            _ => Err(syn::Error::new(key.span(), format!("unknown option `{key}`: {KNOWN}"))),
        }
    }
}

impl Options {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Options> {
        let parsed = Punctuated::<Option_, Token![,]>::parse_terminated.parse2(args)?;
        let mut options = Options { ret: true, err: true, atomic: true, ..Options::default() };
        let mut seen: Vec<String> = Vec::new();
        for option in parsed {
            let key = option.key().to_string();
            if seen.contains(&key) {
                return Err(syn::Error::new(option.key().span(), format!("duplicate option `{key}`")));
            }
            seen.push(key);
            match option {
                Option_::Skip(_, names) => options.skip = names,
                Option_::SkipAll(_) => options.skip_all = true,
                Option_::Name(_, name) => options.name = Some(name),
                Option_::Flag(key, value) => match key.to_string().as_str() {
                    "ret" => options.ret = value.value,
                    "err" => options.err = value.value,
                    _ => options.atomic = value.value,
                },
            }
        }
        if options.skip_all && !options.skip.is_empty() {
            return Err(syn::Error::new(
                options.skip[0].span(),
                "`skip(...)` is redundant with `skip_all`: use one of them",
            ));
        }
        Ok(options)
    }

    pub(crate) fn skips(&self, name: &str) -> bool {
        self.skip_all || self.skip.iter().any(|s| s == name)
    }
}
