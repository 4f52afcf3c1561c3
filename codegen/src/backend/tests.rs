//! Generated tests: one `#[test]` per event, per family and per mapping rule.
//!
//! Each test builds an example (derived from the property types; a rule's example name is
//! derived from its pattern, preferring a name whose capture is a key of the table the rule
//! looks up) and asserts the amplitude `event_type`s that lowering computed with the
//! [`Evaluator`](crate::example::Evaluator), so the runtime transform is checked against an
//! independent reading of the schema.

use std::collections::HashMap;

use heck::ToSnakeCase;
use serde_json::Value as Json;

use super::code::{Code, Expr, lit};
use super::example::{Outcome, Resolved, example_value};
use super::rust::{ValueTypes, validated};
use crate::model::{Example, Property, PropertyType, Service};

/// Bytes of Rust per test, to size the output buffer once (2,100 tests of events with five
/// typed properties and rules write 1.6 MB).
const BYTES_PER_TEST: usize = 800;

/// About the length of [`emit_tests`]' text, so that its buffer, and the module's that it is
/// appended to, are rarely copied as they grow.
pub(crate) fn estimated_len(service: &Service) -> usize {
    let items = service.events.len() + service.families.len() + service.amplitude.rules.len();
    256 + items * BYTES_PER_TEST
}

/// The test module of a service: `#[cfg(test)] mod tests { ... }`, placed after the items that
/// [`super::rust::emit_service`] returns; empty when there is nothing to test.
pub fn emit_tests(service: &Service) -> String {
    let types = ValueTypes::collect(service);
    let mut examples = Examples::new(&types);
    let mut code = Code::with_capacity(estimated_len(service));
    code.line("#[cfg(test)]");
    code.open(format_args!("mod tests {{"));
    // Event and family tests name the generated types; rule tests only call `super::mapping()`.
    let empty = code.len();
    code.line("use super::*;");
    let mut typed_tests = 0;
    for event in service.events.values() {
        let Some(value) = struct_example(&event.properties, &mut examples) else {
            continue;
        };
        let ty = &event.rust_name;
        let fname = format!(
            "event_{}",
            event.rust_name.trim_start_matches("r#").to_snake_case()
        );
        let outcome = &event.example.outcome;
        let expr = if event.properties.is_empty() {
            Expr::text(ty.as_str())
        } else {
            Expr::struct_lit(ty.as_str(), value)
        };
        test_fn(&mut code, &fname, &expr, outcome, &event.name);
        typed_tests += 1;
    }
    for family in service.families.values() {
        // Lowering rendered the name and evaluated it; a family whose every parameter and
        // property has an example value gets a test.
        let mut args = Vec::new();
        for (i, p) in family.parameters.iter().enumerate() {
            // The values lowering rendered the example's name from.
            match family.example_values.get(i) {
                Some(value) => args.extend(parameter_value(p, value, &examples)),
                None => args.extend(parameter_example(p, &mut examples)),
            }
        }
        for p in &family.properties {
            args.extend(property_example(p, &mut examples).map(|(arg, _)| arg));
        }
        let example = &family.example;
        if !example.complete || args.len() != family.parameters.len() + family.properties.len() {
            continue;
        }
        let ty = &family.rust_name;
        let fallible = family.parameters.iter().any(|p| validated(&p.ty));
        let new = Expr::call(format!("{ty}::new"), args);
        let expr = if fallible { expect_valid(new) } else { new };
        let fname = format!(
            "family_{}",
            family.rust_name.trim_start_matches("r#").to_snake_case()
        );
        test_fn(&mut code, &fname, &expr, &example.outcome, &example.name);
        typed_tests += 1;
    }
    if typed_tests == 0 {
        code.truncate(empty);
    }
    for rule in &service.amplitude.rules {
        let Some(example) = &rule.example else {
            continue;
        };
        let (name, outcome) = (&example.name, &example.outcome);
        let number = rule.index + 1;
        code.doc(&format!(
            "Rule {number} (`{}`) with `{name}`.",
            rule.js_pattern
        ));
        code.line("#[test]");
        code.open(format_args!("fn rule_{number}() {{"));
        let name = lit(name);
        let resolve = || Expr::text("super::mapping()").method("resolve", vec![Expr::lit(&name)]);
        match outcome.resolved {
            Resolved::Exact => {}
            Resolved::None => code.stmt(
                &Expr::call("assert_eq!", vec![resolve(), Expr::text("None")]),
                ";",
            ),
            Resolved::Rule(i) => {
                let rule = Expr::call(
                    "::metricsmith::amplitude::Matched::Rule",
                    vec![Expr::lit(i.to_string())],
                );
                let some = Expr::call("Some", vec![rule]);
                code.stmt(&Expr::call("assert_eq!", vec![resolve(), some]), ";");
            }
        }
        code.line("let data = ::metricsmith::__private::serde_json::Map::new();");
        code.assign(
            "let types",
            &Expr::call(
                "::metricsmith::types::event_types",
                vec![
                    Expr::text("super::mapping()"),
                    Expr::lit(name),
                    Expr::text("&data"),
                ],
            ),
        );
        check_types(&mut code, &outcome.event_types);
        code.close("}");
    }
    for (index, example) in service.amplitude.examples.iter().enumerate() {
        example_test(&mut code, index + 1, example);
    }
    if code.len() == empty {
        return String::new();
    }
    code.close("}");
    code.finish()
}

/// A declared example: the exact amplitude events (JSON text, key order included).
fn example_test(code: &mut Code, number: usize, example: &Example) {
    code.doc(&format!(
        "Example {number} (`{}`, {}:{}){}",
        example.event,
        example.location.file.display(),
        example.location.line,
        example
            .description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    ));
    let opt = |v: &Option<String>| match v {
        Some(text) => Expr::call("::core::option::Option::Some", vec![Expr::lit(lit(text))]),
        None => Expr::text("::core::option::Option::None"),
    };
    code.line("#[test]");
    code.open(format_args!("fn example_{number}() {{"));
    let clients = example
        .oauth_clients
        .iter()
        .map(|(k, v)| Expr::tuple(vec![Expr::lit(lit(k)), Expr::lit(lit(v))]))
        .collect();
    let expect = example.expect.iter().map(|e| Expr::lit(lit(e))).collect();
    let output = Expr::call(
        "::metricsmith::types::example_output",
        vec![
            Expr::text("super::mapping()"),
            Expr::lit(lit(&example.event)),
            opt(&example.time),
            opt(&example.data),
            Expr::array(clients).by_ref(),
            opt(&example.app_version),
            Expr::lit(example.now_ms.to_string()),
            Expr::array(expect).by_ref(),
        ],
    );
    code.assign("let (got, want)", &output);
    code.line("assert_eq!(got, want);");
    code.close("}");
}

fn test_fn(code: &mut Code, fname: &str, expr: &Expr, outcome: &Outcome, name: &str) {
    let expected = &outcome.event_types;
    let maps_to = if expected.is_empty() {
        "nothing".to_owned()
    } else {
        expected
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    code.doc(&format!("`{name}` maps to {maps_to}."));
    code.line("#[test]");
    code.open(format_args!("fn {fname}() {{"));
    code.assign("let event", expr);
    let name = Expr::call(
        "assert_eq!",
        vec![
            Expr::text("::metricsmith::types::Event::name(&event)"),
            Expr::lit(lit(name)),
        ],
    );
    code.stmt(&name, ";");
    code.line("let types = ::metricsmith::types::event_types_of(super::mapping(), &event);");
    check_types(code, expected);
    code.close("}");
}

fn check_types(code: &mut Code, expected: &[String]) {
    let check = if expected.is_empty() {
        Expr::call(
            "assert!",
            vec![
                Expr::text("types.is_empty()"),
                Expr::lit(lit("expected no amplitude event, got {types:?}")),
            ],
        )
    } else {
        let expected = expected.iter().map(|t| Expr::lit(lit(t))).collect();
        Expr::call(
            "assert_eq!",
            vec![Expr::text("types"), Expr::array(expected)],
        )
    };
    code.stmt(&check, ";");
}

/// `new.expect("a valid example")`.
fn expect_valid(new: Expr) -> Expr {
    new.method("expect", vec![Expr::lit(lit("a valid example"))])
}

/// The Rust expression of an example value of `ty` and its JSON.
fn value_expr(ty: &PropertyType, types: &ValueTypes) -> Option<(Expr, Json)> {
    let json = example_value(ty)?;
    let rust_ty = types.rust_type(ty);
    let expr = match (ty, &json) {
        (PropertyType::List { items }, _) => {
            let (item, _) = value_expr(items, types)?;
            Expr::vec(vec![item])
        }
        (PropertyType::Enum { values }, _) => {
            Expr::text(format!("{rust_ty}::{}", values.first()?.rust_name))
        }
        (PropertyType::Boolean, Json::Bool(b)) => Expr::lit(b.to_string()),
        (PropertyType::Integer { .. }, Json::Number(n)) => {
            let n = Expr::lit(n.as_i64()?.to_string());
            if validated(ty) {
                expect_valid(Expr::qualified(&rust_ty, "new", vec![n]))
            } else {
                n
            }
        }
        (_, Json::String(s)) if validated(ty) => {
            expect_valid(Expr::qualified(&rust_ty, "new", vec![Expr::lit(lit(s))]))
        }
        (_, Json::String(s)) => Expr::call("::std::string::String::from", vec![Expr::lit(lit(s))]),
        _ => return None,
    };
    Some((expr, json))
}

/// Example values of a service's types, each made once: the Rust type names the constraints
/// (value types are shared per distinct constraint), so equal names have equal examples.
struct Examples<'t, 'a> {
    types: &'t ValueTypes<'a>,
    made: HashMap<String, Option<(Expr, Json)>>,
}

impl<'t, 'a> Examples<'t, 'a> {
    fn new(types: &'t ValueTypes<'a>) -> Self {
        Self {
            types,
            made: HashMap::new(),
        }
    }

    /// [`value_expr`] of `ty`.
    fn value(&mut self, ty: &PropertyType) -> Option<(Expr, Json)> {
        let key = self.types.rust_type(ty);
        if let Some(made) = self.made.get(&key) {
            return made.clone();
        }
        let made = value_expr(ty, self.types);
        self.made.insert(key, made.clone());
        made
    }
}

fn property_example(p: &Property, examples: &mut Examples<'_, '_>) -> Option<(Expr, Json)> {
    let (expr, json) = examples.value(&p.ty)?;
    Some(if p.required {
        (expr, json)
    } else {
        (Expr::call("::core::option::Option::Some", vec![expr]), json)
    })
}

/// Field initialisers of an example struct.
fn struct_example(
    properties: &[Property],
    examples: &mut Examples<'_, '_>,
) -> Option<Vec<(String, Option<Expr>)>> {
    let mut fields = Vec::new();
    for p in properties {
        let (expr, _) = property_example(p, examples)?;
        fields.push((p.rust_name.clone(), Some(expr)));
    }
    Some(fields)
}

/// A family constructor argument.
/// The constructor argument of a family parameter whose value is `value`.
fn parameter_value(p: &Property, value: &str, examples: &Examples<'_, '_>) -> Option<Expr> {
    Some(match &p.ty {
        PropertyType::Enum { values } => {
            let variant = values.iter().find(|v| v.value == value)?;
            Expr::text(format!(
                "{}::{}",
                examples.types.rust_type(&p.ty),
                variant.rust_name
            ))
        }
        PropertyType::Integer { .. } => Expr::lit(value.parse::<i64>().ok()?.to_string()),
        _ => Expr::lit(lit(value)),
    })
}

fn parameter_example(p: &Property, examples: &mut Examples<'_, '_>) -> Option<Expr> {
    let json = example_value(&p.ty)?;
    Some(match (&p.ty, &json) {
        (PropertyType::Enum { .. } | PropertyType::Boolean | PropertyType::List { .. }, _) => {
            examples.value(&p.ty)?.0
        }
        (PropertyType::Integer { .. }, _) => Expr::lit(json.as_i64()?.to_string()),
        (_, Json::String(s)) => Expr::lit(lit(s)),
        (_, other) => Expr::lit(lit(&other.to_string())),
    })
}
