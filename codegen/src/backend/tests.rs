//! Generated tests: one `#[test]` per event, per family and per mapping rule.
//!
//! Each test builds an example (derived from the property types; a rule's example name is
//! derived from its pattern, preferring a name whose capture is a key of the table the rule
//! looks up) and asserts the amplitude `event_type`s that the [`Evaluator`] computed at
//! generation time, so the runtime transform is checked against an independent reading of the
//! schema.

use heck::ToSnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Map, Value as Json};

use super::example::{
    Evaluator, Outcome, Resolved, example_for_pattern, example_value, render_template,
};
use super::rust::{ValueTypes, ident, validated};
use crate::model::{
    Capture, Cond, Example, GroupExpr, Property, PropertyType, Rule, Service, Value,
};

/// The test module of a service: `#[cfg(test)] mod tests { ... }`, placed after the items that
/// [`super::rust::emit_service`] returns.
pub fn emit_tests(service: &Service) -> TokenStream {
    let types = ValueTypes::collect(service);
    let eval = Evaluator::new(&service.amplitude);
    let mut tests = Vec::new();
    for event in service.events.values() {
        let Some((value, data)) = struct_example(&event.properties, &types) else {
            continue;
        };
        let ty = ident(&event.rust_name);
        let fname = format_ident!(
            "event_{}",
            event.rust_name.trim_start_matches("r#").to_snake_case()
        );
        let outcome = eval.evaluate(&event.name, &data);
        let expr = if event.properties.is_empty() {
            quote!(#ty)
        } else {
            quote!(#ty { #value })
        };
        tests.push(test_fn(&fname, expr, &outcome, &event.name));
    }
    for family in service.families.values() {
        let mut args = Vec::new();
        let mut names = Map::new();
        let mut ok = true;
        for p in &family.parameters {
            match parameter_example(p, &types) {
                Some((arg, text)) => {
                    args.push(arg);
                    names.insert(p.name.clone(), Json::String(text));
                }
                None => ok = false,
            }
        }
        let Some((_, data)) = struct_example(&family.properties, &types) else {
            continue;
        };
        for p in &family.properties {
            let Some(v) = property_example(p, &types) else {
                ok = false;
                continue;
            };
            args.push(v.0);
        }
        let name = render_template(&family.name_template, &|n| {
            names.get(n).and_then(Json::as_str).map(str::to_owned)
        });
        let (true, Some(name)) = (ok, name) else {
            continue;
        };
        let ty = ident(&family.rust_name);
        let fallible = family.parameters.iter().any(|p| validated(&p.ty));
        let expr = if fallible {
            quote!(#ty::new(#(#args),*).expect("a valid example"))
        } else {
            quote!(#ty::new(#(#args),*))
        };
        let fname = format_ident!(
            "family_{}",
            family.rust_name.trim_start_matches("r#").to_snake_case()
        );
        let outcome = eval.evaluate(&name, &data);
        tests.push(test_fn(&fname, expr, &outcome, &name));
    }
    let typed_tests = tests.len();
    for rule in &service.amplitude.rules {
        let Some(name) = rule_example(rule, service, &eval) else {
            continue;
        };
        let outcome = eval.evaluate(&name, &Map::new());
        let fname = format_ident!("rule_{}", rule.index + 1);
        let resolved = match outcome.resolved {
            Resolved::Exact | Resolved::None => quote!(None),
            Resolved::Rule(i) => quote!(Some(::metricsmith::amplitude::Matched::Rule(#i))),
        };
        let check = check_types(&outcome.event_types);
        let pattern = &rule.js_pattern;
        let doc = format!(" Rule {} (`{pattern}`) with `{name}`.", rule.index + 1);
        let resolve_check = if matches!(outcome.resolved, Resolved::Exact) {
            TokenStream::new()
        } else {
            quote!(assert_eq!(super::mapping().resolve(#name), #resolved);)
        };
        tests.push(quote! {
            #[doc = #doc]
            #[test]
            fn #fname() {
                #resolve_check
                let data = ::metricsmith::__private::serde_json::Map::new();
                let types = ::metricsmith::types::event_types(super::mapping(), #name, &data);
                #check
            }
        });
    }
    for (index, example) in service.amplitude.examples.iter().enumerate() {
        tests.push(example_test(index + 1, example));
    }
    if tests.is_empty() {
        return TokenStream::new();
    }
    // Event and family tests name the generated types; rule tests only call `super::mapping()`.
    let glob = if typed_tests > 0 {
        quote!(
            use super::*;
        )
    } else {
        TokenStream::new()
    };
    quote! {
        #[cfg(test)]
        mod tests {
            #glob
            #(#tests)*
        }
    }
}

/// A declared example: the exact amplitude events (JSON text, key order included).
fn example_test(number: usize, example: &Example) -> TokenStream {
    let fname = format_ident!("example_{}", number);
    let doc = format!(
        " Example {number} (`{}`, {}:{}){}",
        example.event,
        example.location.file.display(),
        example.location.line,
        example
            .description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    );
    let opt = |v: &Option<String>| match v {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let name = &example.event;
    let time = opt(&example.time);
    let data = opt(&example.data);
    let app_version = opt(&example.app_version);
    let clients = example.oauth_clients.iter().map(|(k, v)| quote!((#k, #v)));
    let now = Literal::i64_unsuffixed(example.now_ms);
    let expect = &example.expect;
    quote! {
        #[doc = #doc]
        #[test]
        fn #fname() {
            let (got, want) = ::metricsmith::types::example_output(
                super::mapping(),
                #name,
                #time,
                #data,
                &[#(#clients),*],
                #app_version,
                #now,
                &[#(#expect),*],
            );
            assert_eq!(got, want);
        }
    }
}

fn test_fn(
    fname: &proc_macro2::Ident,
    expr: TokenStream,
    outcome: &Outcome,
    name: &str,
) -> TokenStream {
    let expected = &outcome.event_types;
    let check = check_types(expected);
    let doc = format!(
        " `{name}` maps to {}.",
        if expected.is_empty() {
            "nothing".to_owned()
        } else {
            expected
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    quote! {
        #[doc = #doc]
        #[test]
        fn #fname() {
            let event = #expr;
            assert_eq!(::metricsmith::types::Event::name(&event), #name);
            let types = ::metricsmith::types::event_types_of(super::mapping(), &event);
            #check
        }
    }
}

fn check_types(expected: &[String]) -> TokenStream {
    if expected.is_empty() {
        quote!(assert!(types.is_empty(), "expected no amplitude event, got {types:?}");)
    } else {
        quote!(assert_eq!(types, [#(#expected),*]);)
    }
}

/// The Rust expression of an example value of `ty` and its JSON.
fn value_expr(ty: &PropertyType, types: &ValueTypes) -> Option<(TokenStream, Json)> {
    let json = example_value(ty)?;
    let rust_ty = types.rust_type(ty);
    let expr = match (ty, &json) {
        (PropertyType::List { items }, _) => {
            let (item, _) = value_expr(items, types)?;
            quote!(vec![#item])
        }
        (PropertyType::Enum { values }, _) => {
            let variant = ident(&values.first()?.rust_name);
            quote!(#rust_ty::#variant)
        }
        (PropertyType::Boolean, Json::Bool(b)) => quote!(#b),
        (PropertyType::Integer { .. }, Json::Number(n)) => {
            let n = Literal::i64_unsuffixed(n.as_i64()?);
            if validated(ty) {
                quote!(<#rust_ty>::new(#n).expect("a valid example"))
            } else {
                quote!(#n)
            }
        }
        (_, Json::String(s)) if validated(ty) => {
            quote!(<#rust_ty>::new(#s).expect("a valid example"))
        }
        (_, Json::String(s)) => quote!(::std::string::String::from(#s)),
        _ => return None,
    };
    Some((expr, json))
}

fn property_example(p: &Property, types: &ValueTypes) -> Option<(TokenStream, Json)> {
    let (expr, json) = value_expr(&p.ty, types)?;
    Some(if p.required {
        (expr, json)
    } else {
        (quote!(::core::option::Option::Some(#expr)), json)
    })
}

/// Field initialisers of an example struct and its data bag.
fn struct_example(
    properties: &[Property],
    types: &ValueTypes,
) -> Option<(TokenStream, Map<String, Json>)> {
    let mut fields = Vec::new();
    let mut data = Map::new();
    for p in properties {
        let (expr, json) = property_example(p, types)?;
        let name = ident(&p.rust_name);
        fields.push(quote!(#name: #expr));
        data.insert(p.name.clone(), json);
    }
    Some((quote!(#(#fields),*), data))
}

/// A family constructor argument and the text it renders as.
fn parameter_example(p: &Property, types: &ValueTypes) -> Option<(TokenStream, String)> {
    let json = example_value(&p.ty)?;
    let text = match &json {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let arg = match &p.ty {
        PropertyType::Enum { .. } | PropertyType::Boolean | PropertyType::List { .. } => {
            value_expr(&p.ty, types)?.0
        }
        PropertyType::Integer { .. } => {
            let n = Literal::i64_unsuffixed(json.as_i64()?);
            quote!(#n)
        }
        _ => quote!(#text),
    };
    Some((arg, text))
}

/// The table a rule looks its category up in, if any: its example then uses a key of it.
fn category_table(rule: &Rule) -> Option<usize> {
    let target = rule.targets.first()?;
    if let GroupExpr::Lookup {
        table,
        key: Capture::Category,
    } = &target.group
    {
        return Some(table.0);
    }
    target.when.iter().find_map(|c| match c {
        Cond::Truthy(Value::Lookup {
            table,
            key: Capture::Category,
        }) => Some(table.0),
        _ => None,
    })
}

/// An example name that rule `rule` wins, preferring one that produces amplitude events;
/// else any name it matches (the test then shows which rule shadows it).
pub fn rule_example(rule: &Rule, service: &Service, eval: &Evaluator<'_>) -> Option<String> {
    let plain = example_for_pattern(&rule.rust_pattern, &|_| None);
    let wins = |name: &str| {
        !service.amplitude.exact.contains_key(name) && eval.first_rule(name) == Some(rule.index)
    };
    let mut candidates = Vec::new();
    if let Some(table) = category_table(rule).and_then(|t| service.amplitude.tables.get(t)) {
        for (key, _) in &table.entries {
            let fill = |i: usize| (i == 1).then(|| key.clone());
            if let Some(name) = example_for_pattern(&rule.rust_pattern, &fill) {
                candidates.push(name);
            }
        }
    }
    candidates.extend(plain.clone());
    let producing = candidates
        .iter()
        .find(|n| wins(n) && !eval.evaluate(n, &Map::new()).event_types.is_empty());
    producing
        .or_else(|| candidates.iter().find(|n| wins(n)))
        .cloned()
        .or(plain)
}
