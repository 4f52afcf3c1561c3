//! Every case conversion from schema names to Rust identifiers, in one place.
//!
//! `account.login` -> type `AccountLogin`; `marketingOptIn` -> field `marketing_opt_in`;
//! `send_code` -> variant `SendCode`.
//! Keywords become raw identifiers (`type` -> `r#type`) where Rust allows it, and get a trailing
//! underscore where it does not (`self` -> `self_`); names starting with a digit get a leading
//! underscore (`2fa` -> `_2fa`).
//! Two names that map to the same identifier are a diagnostic, never a silent rename.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// The Rust type name of an event, family or enum (UpperCamelCase), or `None` when the name
/// has no letters or digits.
pub fn type_name(name: &str) -> Option<String> {
    // One lowercase word needs no word splitting by heck (14% of lowering's profile at 2,000 events).
    let mut ident = if is_lower_word(name) {
        name.to_owned()
    } else {
        name.to_upper_camel_case()
    };
    // Letters that are not ASCII are dropped, so the first one left may be lowercase (`éa`):
    // capitalise it before `finish`, which may make the name a raw identifier (`r#...`).
    ident.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(first) = ident.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    finish(ident)
}

/// The name of the shared value type (in the generated `values` module) of a property whose
/// Rust field name is `field`: `note_format` -> `NoteFormat`, `r#type` -> `Type`.
pub fn value_type_name(field: &str) -> String {
    // Through `type_name`: `self_` must give `Self_`, never the keyword `Self`.
    type_name(field.trim_start_matches("r#")).unwrap_or_else(|| "Value".to_owned())
}

/// The Rust field or parameter name of a property (snake_case).
pub fn field_name(name: &str) -> Option<String> {
    // Already snake case: heck would give it back unchanged, at a cost.
    if name.split('_').all(is_lower_word) {
        return finish(name.to_owned());
    }
    finish(name.to_snake_case())
}

/// Whether `word` is one or more ASCII lowercase letters, which heck's case conversions keep as
/// one word.
fn is_lower_word(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase())
}

/// The Rust variant name of an enum value (UpperCamelCase).
pub fn variant_name(value: &str) -> Option<String> {
    type_name(value)
}

fn finish(mut ident: String) -> Option<String> {
    ident.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident.is_empty() || ident.chars().all(|c| c == '_') {
        return None;
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if NOT_RAW.contains(&ident.as_str()) {
        ident.push('_');
    } else if KEYWORDS.contains(&ident.as_str()) {
        ident.insert_str(0, "r#");
    }
    Some(ident)
}

/// Whether `ident` is a valid Rust identifier as this module produces them.
pub fn is_valid(ident: &str) -> bool {
    let bare = ident.strip_prefix("r#").unwrap_or(ident);
    let mut chars = bare.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && bare != "_"
        && (ident.starts_with("r#") || !KEYWORDS.contains(&bare))
        && !(ident.starts_with("r#") && NOT_RAW.contains(&bare))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        let cases = [
            (type_name("account.login"), "AccountLogin"),
            (
                type_name("flow.reset-password.submit"),
                "FlowResetPasswordSubmit",
            ),
            (
                type_name("account.changedPassword"),
                "AccountChangedPassword",
            ),
            (type_name("2fa"), "_2fa"),
            (field_name("marketingOptIn"), "marketing_opt_in"),
            (field_name("uid"), "uid"),
            (field_name("type"), "r#type"),
            (field_name("self"), "self_"),
            (variant_name("send_code"), "SendCode"),
            (variant_name("Self"), "Self_"),
            (variant_name("éa"), "A"),
            (variant_name("éfn"), "Fn"),
            (variant_name("éself"), "Self_"),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_deref(), Some(want));
        }
        assert_eq!(type_name("..."), None);
        assert_eq!(field_name("_"), None);
    }

    proptest! {
        #[test]
        fn fast_paths_agree_with_heck(name in "[a-z]{1,6}(_[a-z]{1,6}){0,3}") {
            prop_assert_eq!(field_name(&name), finish(name.to_snake_case()));
            let word = name.replace('_', "");
            prop_assert_eq!(type_name(&word), finish(word.to_upper_camel_case()));
        }

        #[test]
        fn type_names_are_valid_and_stable(name in "[a-zA-Z0-9_.\\- ]{0,24}") {
            if let Some(ident) = type_name(&name) {
                prop_assert!(is_valid(&ident), "{ident}");
                prop_assert_eq!(type_name(&name), Some(ident));
            }
        }

        #[test]
        fn field_names_are_valid_and_idempotent(name in "[a-zA-Z0-9_.\\-]{0,24}") {
            if let Some(ident) = field_name(&name) {
                prop_assert!(is_valid(&ident), "{ident}");
                if !ident.starts_with("r#") {
                    prop_assert_eq!(field_name(&ident), Some(ident.clone()));
                }
            }
        }

        #[test]
        fn dotted_names_with_letters_always_have_a_type_name(
            segments in proptest::collection::vec("[a-z][A-Za-z0-9_-]{0,8}", 1..5)
        ) {
            let name = segments.join(".");
            prop_assert!(type_name(&name).is_some());
        }
    }
}
