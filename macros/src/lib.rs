//! `metricsmith::schema!`: compile a metricsmith schema inline.
//!
//! ```ignore
//! mod auth_server {
//!     metricsmith::schema!("schema/fxa/auth-server.yaml");
//! }
//! ```
//!
//! The path is relative to the crate's `CARGO_MANIFEST_DIR`.
//! The expansion is what `metricsmith_codegen::compile` writes for a build script (the same
//! backend), followed by one `const _: &[u8] = include_bytes!(..)` per schema file read, so
//! rustc rebuilds the crate when any of them changes.
//! Schema errors become one `compile_error!` pointing at the path literal, carrying the
//! rendered `file:line:col` report.
//! Schema warnings (such as `W0005`, a shadowed rule) become one compiler warning at the path
//! literal carrying the rendered report: a stable proc-macro cannot emit a warning itself, so
//! the expansion uses an item marked `#[deprecated]` whose note is the report (the way the
//! `proc-macro-warning` crate does it); `#![deny(warnings)]` turns it into an error as usual.

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::LitStr;

/// Expands to the generated items of the schema at the given path.
///
/// The path is relative to `CARGO_MANIFEST_DIR`; the schema's entry file must declare one
/// service.
/// Errors are reported at the path literal.
#[proc_macro]
pub fn schema(input: TokenStream) -> TokenStream {
    let literal = match syn::parse::<LitStr>(input) {
        Ok(literal) => literal,
        Err(err) => return err.to_compile_error().into(),
    };
    expand(&literal).into()
}

fn expand(literal: &LitStr) -> proc_macro2::TokenStream {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = root.join(literal.value());
    let span = literal.span();
    // Tokens must stay on the compiler's thread inside a procedural macro.
    let generated = metricsmith_codegen::Builder::new()
        .schema(&path)
        .parallel(false)
        .generate();
    let (tokens, inputs) = match generated {
        Ok(generated) => match services(&generated) {
            Ok(code) => {
                let code = if generated.warning_count > 0 {
                    let warning = warning(span, &generated.warnings);
                    quote!(#code #warning)
                } else {
                    code
                };
                (code, generated.inputs)
            }
            Err(message) => (error(span, &message), generated.inputs),
        },
        Err(err) => {
            let inputs = match &err {
                metricsmith_codegen::Error::Schema { report, .. } => {
                    report.sources.iter().map(|(_, f)| f.name.clone()).collect()
                }
                _ => Vec::new(),
            };
            (error(span, &err.to_string()), inputs)
        }
    };
    let tracked = inputs
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| absolute(p))
        .map(|p| {
            let p = p.to_string_lossy().into_owned();
            quote!(
                const _: &[u8] = include_bytes!(#p);
            )
        });
    quote! {
        #tokens
        #(#tracked)*
    }
}

fn absolute(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// The generated items: the module of the single service, parsed back into tokens.
fn services(
    generated: &metricsmith_codegen::Generated,
) -> Result<proc_macro2::TokenStream, String> {
    let mut out = proc_macro2::TokenStream::new();
    for file in &generated.files {
        let tokens: proc_macro2::TokenStream = file.contents.parse().map_err(|e| {
            format!(
                "metricsmith generated invalid tokens for {}: {e}",
                file.path
            )
        })?;
        out.extend(tokens);
    }
    if generated.files.len() != 1 {
        return Err(format!(
            "expected one service in the schema, found {}; use one `schema!` per service entry file",
            generated.files.len()
        ));
    }
    Ok(out)
}

fn error(span: Span, message: &str) -> proc_macro2::TokenStream {
    let message = message.trim_end();
    quote::quote_spanned!(span=> ::core::compile_error!(#message);)
}

/// A compiler warning at `span` whose text is `report`: the use of an item marked
/// `#[deprecated]` with the report as its note (stable Rust has no other way for a
/// proc-macro to warn).
fn warning(span: Span, report: &str) -> proc_macro2::TokenStream {
    let note = format!("metricsmith schema warnings:\n{}", report.trim_end());
    quote::quote_spanned! {span=>
        const _: () = {
            #[deprecated(note = #note)]
            struct SchemaWarnings;
            let _ = SchemaWarnings;
        };
    }
}
