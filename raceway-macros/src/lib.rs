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

/// Records each call of a function: `FunctionCall` on entry (name qualified
/// by `module_path!()`, file, line, argument values), a function return on
/// every exit (`return`, `?`, the tail; with the return value and the
/// duration in nanoseconds), and `Error` when it returns `Err(e)` (the error
/// type's name and its `Display`, else `Debug`) or panics (the panic
/// message; the panic then continues with its payload intact).
///
/// ```
/// #[raceway::track(skip(password))]
/// fn login(user: &str, password: &str) -> Result<u64, String> {
///     if password.is_empty() {
///         return Err("empty password".into());
///     }
///     Ok(user.len() as u64)
/// }
/// # assert_eq!(login("ann", "x"), Ok(3));
/// ```
///
/// Works on free functions, methods with any receiver (`self`, `&self`,
/// `&mut self`, `self: Box<Self>`, `self: Pin<&mut Self>`), trait impls,
/// `async fn` (the duration covers the whole future; a `Send` future stays
/// `Send`; a future dropped early records its return as `<cancelled>`),
/// `#[async_trait]` methods, generic functions, `impl Trait` arguments and
/// returns, functions returning references borrowed from their arguments,
/// `unsafe fn`, `extern "C" fn`, diverging functions and destructuring
/// arguments. Other attributes and doc comments are kept. Argument drop
/// order is unchanged.
///
/// Values are recorded through `Serialize` when the type implements it,
/// through `Debug` when it implements that, and as the type's name
/// otherwise; no bound is asked of the function. In generic code, the bounds
/// in scope decide.
///
/// # Options
///
/// | option | effect |
/// |---|---|
/// | `skip(a, b)` | do not record these arguments (`self` included) |
/// | `skip_all` | record no argument |
/// | `name = "..."` | the function's recorded name (still qualified by the module) |
/// | `ret = false` | do not record the return value |
/// | `err = false` | do not record `Err` returns as errors |
/// | `atomic = false` | a call is not an atomic region for the analyzer (a worker loop, say) |
///
/// With no client installed, the function runs as written, after one
/// relaxed atomic load.
#[proc_macro_attribute]
pub fn track(args: TokenStream, item: TokenStream) -> TokenStream {
    track::track(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Records a read or a write of shared state as a `StateChange` event.
///
/// | form | records | evaluates to |
/// |---|---|---|
/// | `tracked!(place)` | Read, with the value | a copy of the value; the type must be `Copy` (a compile error says so otherwise) |
/// | `tracked!(&place)` | Read, with the value | a shared reference to the place (for non-`Copy` types) |
/// | `tracked!(place = value)` | Write, with old and new values | `()` |
/// | `tracked!(place op= value)` | Read, then Write with old and new values | `()` |
///
/// `op=` is any of `+=`, `-=`, `*=`, `/=`, `%=`, `&=`, `|=`, `^=`, `<<=`,
/// `>>=`. The place is a local (`x`), a field path (`a.b.c`, also through
/// references, guards and smart pointers: `guard.balance`), an index
/// (`accounts[i].balance`) or a dereference (`*r`). The right-hand side is
/// evaluated first, then the place, once.
///
/// ```
/// use raceway::tracked;
///
/// #[derive(raceway::Traced)]
/// struct Account {
///     #[traced(key)]
///     id: String,
///     balance: i64,
/// }
///
/// let mut alice = Account { id: "alice".into(), balance: 100 };
/// let seen = tracked!(alice.balance);      // Read of Account[alice].balance
/// tracked!(alice.balance = seen - 30);     // Write 100 -> 70
/// tracked!(alice.balance += 5);            // Read 70, Write 70 -> 75
/// assert_eq!(alice.balance, 75);
/// ```
///
/// # Which variable
///
/// The variable's display name is the place's text (`account.balance`).
/// When the place is a field of a [`Traced`](derive.Traced.html) value with
/// a key, it is `Type[key].field` (`Account[alice].balance`), and that name
/// is the variable's identity, within the process and across services.
/// Otherwise the place's address is its identity within the process, so two
/// objects reached through the same expression text are never confused
/// (on the wire the variable is written `text@0xADDRESS`). A `Traced` base
/// is recognised through references, `Box`, `Rc`, `Arc`, `Pin` and std lock
/// guards; its key is read when its expression is a plain place (paths,
/// fields, indexes by such), which is then evaluated a second time, by
/// shared reference.
#[proc_macro]
pub fn tracked(input: TokenStream) -> TokenStream {
    tracked::tracked(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Gives a struct's instances a name, so that `tracked!` can tell them
/// apart and recognise them across services.
///
/// On structs with named fields, generic ones included. `#[traced(key)]`
/// marks the field that names an instance (any `Display` type), at most
/// one. Without a key, instances are told apart by address within a
/// process only.
///
/// ```
/// #[derive(raceway::Traced)]
/// struct Account {
///     #[traced(key)]
///     id: String,
///     balance: i64,
/// }
/// ```
#[proc_macro_derive(Traced, attributes(traced))]
pub fn derive_traced(input: TokenStream) -> TokenStream {
    traced::derive(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
