//! The generated JSON Schemas of the collector bodies (generated/docs/*.collector-body.schema.json)
//! against the collector itself, on every body of the collector corpus: a body the schema
//! accepts is one the collector accepts (the schema is never looser than the route), and the
//! schema accepts the valid bodies that need no Joi conversion.
//!
//! The checker reads the keywords the backend writes (draft-07: `type`, `properties`,
//! `required`, `additionalProperties`, `items`, `enum`, `const`, `anyOf`, `allOf`, `pattern`,
//! `minLength`, `maxLength`, `minimum`, `maximum`).

use std::path::{Path, PathBuf};

use metricsmith_collector::{Collector, Config, Request};
use regex::Regex;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn accepts(schema: &Value, value: &Value) -> bool {
    let Some(schema) = schema.as_object() else {
        return true;
    };
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| accepts(s, value))
    {
        return false;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array)
        && !all.iter().all(|s| accepts(s, value))
    {
        return false;
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return false;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return false;
    }
    let ty_ok = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("null") => value.is_null(),
        Some("number") => value.is_number(),
        Some("integer") => value
            .as_f64()
            .is_some_and(|x| x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_991.0),
        Some(other) => panic!("unexpected type {other}"),
    };
    if !ty_ok {
        return false;
    }
    if let Some(s) = value.as_str() {
        let length = s.encode_utf16().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| length < m)
            || schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| length > m)
        {
            return false;
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let regex =
                Regex::new(&pattern.replace("\\/", "/")).expect("a pattern the regex crate reads");
            if !regex.is_match(s) {
                return false;
            }
        }
    }
    if let Some(x) = value.as_f64()
        && (schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| x < m)
            || schema
                .get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x > m))
    {
        return false;
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(key.as_str().unwrap_or("")) {
                return false;
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(s) => {
                    if !accepts(s, item) {
                        return false;
                    }
                }
                None => {
                    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                        return false;
                    }
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array())
        && !array.iter().all(|v| accepts(items, v))
    {
        return false;
    }
    true
}

fn check(corpus: &str, service: &str, version: &str) -> (usize, usize) {
    let schema_path = root().join(format!(
        "generated/docs/{service}.collector-body.schema.json"
    ));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("schema"))
            .expect("schema JSON");
    let checked = metricsmith_codegen::load(root().join(format!("schema/fxa/{service}.yaml")))
        .expect("the schema loads");
    let model = checked.model.services.values().next().expect("one service");
    let collector = Collector::new(model, Config::new("S3CR37", version)).expect("a collector");
    let text = std::fs::read_to_string(root().join("../shared/conformance/collector").join(corpus))
        .expect("corpus");
    let (mut accepted, mut valid_plain) = (0, 0);
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("case");
        let id = case["id"].as_str().unwrap_or("?");
        let body_text = case["request"]["body"].as_str().unwrap_or("");
        let Ok(body) = serde_json::from_str::<Value>(body_text.trim_start_matches('\u{feff}'))
        else {
            continue;
        };
        // The same body as plain JSON: only the validation decides.
        let request = Request {
            method: "POST".into(),
            path: "/metrics".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        };
        let outcome = collector.handle(&request, case["received_at"].as_i64().unwrap_or(0), None);
        let validation_failed =
            outcome.status == 400 && outcome.body.contains("\"source\":\"body\"");
        // Passed validation: answered, or stopped by the later offset check.
        let passed = outcome.status == 200 || outcome.body.contains("maxiumum");
        if accepts(&schema, &body) {
            accepted += 1;
            assert!(
                !validation_failed,
                "{id}: the schema accepts a body the collector rejects: {}",
                outcome.body
            );
        } else if passed && !needs_conversion(&body) {
            panic!("{id}: the collector accepts a body the schema rejects (no conversion needed)");
        }
        if passed {
            valid_plain += 1;
        }
    }
    (accepted, valid_plain)
}

/// Whether a value holds a string where the schema wants a number, boolean, object or array:
/// Joi's conversions, which the collector applies and the schema does not describe.
fn needs_conversion(value: &Value) -> bool {
    match value {
        Value::Object(m) => m
            .values()
            .any(|v| v.is_string() && looks_converted(v) || needs_conversion(v)),
        Value::Array(a) => a
            .iter()
            .any(|v| v.is_string() && looks_converted(v) || needs_conversion(v)),
        _ => false,
    }
}

fn looks_converted(value: &Value) -> bool {
    let s = value.as_str().unwrap_or("").trim();
    s.parse::<f64>().is_ok()
        || s.eq_ignore_ascii_case("true")
        || s.eq_ignore_ascii_case("false")
        || s.starts_with('{')
        || s.starts_with('[')
        || s.starts_with("0x")
}

#[test]
fn content_body_schema_agrees_with_the_collector() {
    let (accepted, valid) = check("content-post-metrics.jsonl", "content-server", "1.134.0");
    assert!(
        accepted > 200,
        "{accepted} of {valid} valid bodies accepted by the schema"
    );
}

#[test]
fn payments_body_schema_agrees_with_the_collector() {
    let (accepted, valid) = check("payments-post-metrics.jsonl", "payments-server", "1.148.4");
    assert!(
        accepted > 80,
        "{accepted} of {valid} valid bodies accepted by the schema"
    );
}
