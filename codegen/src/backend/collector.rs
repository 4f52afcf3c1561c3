//! What a front-end developer needs of a service's `POST /metrics` collector: the JSON Schema
//! (draft-07) of the request body, and a Markdown page describing each field.
//!
//! Both describe the body a front end should post. The collector is more lenient where the
//! schema says `convert: true` (Joi's conversions: numeric strings, `"true"`/`"false"`, JSON
//! text for objects and arrays); the page says so, the JSON Schema stays strict.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json, json};

use crate::model::{
    BodyField, Collector, DEFAULT_MAX_EVENT_OFFSET_MS, Handler, Limit, NumberShape, ObjectShape,
    Service, Shape, StringShape, UnknownKeys, ValueRule,
};

/// The JSON Schema of the request body, pretty-printed, ending with a newline.
pub fn json_schema(service: &Service, collector: &Collector) -> String {
    let mut schema = object_schema(&collector.body);
    if let Json::Object(map) = &mut schema {
        let mut head = Map::new();
        head.insert(
            "$schema".to_owned(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        head.insert(
            "title".to_owned(),
            json!(format!(
                "POST {} request body of {}",
                collector.path, service.name
            )),
        );
        if let Some(description) = &collector.description {
            head.insert("description".to_owned(), json!(description.trim()));
        }
        head.append(map);
        schema = Json::Object(head);
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn object_schema(shape: &ObjectShape) -> Json {
    let mut out = Map::new();
    out.insert("type".to_owned(), json!("object"));
    if let Some(fields) = &shape.fields {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in fields {
            let mut schema = rule_schema(&field.rule);
            if let (Some(description), Json::Object(map)) = (&field.description, &mut schema) {
                map.insert("description".to_owned(), json!(description.trim()));
            }
            properties.insert(field.name.clone(), schema);
            if field.required {
                required.push(json!(field.name));
            }
        }
        out.insert("properties".to_owned(), Json::Object(properties));
        if !required.is_empty() {
            out.insert("required".to_owned(), Json::Array(required));
        }
        // Stripped and kept keys are accepted; only `reject` refuses them.
        out.insert(
            "additionalProperties".to_owned(),
            json!(shape.unknown_keys != UnknownKeys::Reject),
        );
    }
    Json::Object(out)
}

fn rule_schema(rule: &ValueRule) -> Json {
    let main = match &rule.shape {
        Shape::String(s) => string_schema(s),
        Shape::Integer(n) => number_schema("integer", n),
        Shape::Number(n) => number_schema("number", n),
        Shape::Boolean => json!({"type": "boolean"}),
        Shape::Object(o) => object_schema(o),
        Shape::Array(array) => {
            let mut schema = json!({"type": "array", "items": rule_schema(&array.items)});
            if let (Some(max), Json::Object(map)) = (array.max_items, &mut schema) {
                map.insert("maxItems".to_owned(), Json::from(max));
            }
            schema
        }
    };
    let mut alternatives: Vec<Json> = rule.allow.iter().map(|a| json!({"const": a})).collect();
    if rule.nullable {
        alternatives.push(json!({"type": "null"}));
    }
    if alternatives.is_empty() {
        main
    } else {
        alternatives.insert(0, main);
        json!({"anyOf": alternatives})
    }
}

fn string_schema(s: &StringShape) -> Json {
    let mut out = Map::new();
    out.insert("type".to_owned(), json!("string"));
    if !s.values.is_empty() {
        out.insert("enum".to_owned(), json!(s.values));
        return Json::Object(out);
    }
    out.insert("minLength".to_owned(), json!(s.length.unwrap_or(1)));
    if let Some(length) = s.length {
        out.insert("maxLength".to_owned(), json!(length));
    } else if let Some(max) = s.max_length {
        out.insert("maxLength".to_owned(), json!(max));
    }
    let mut patterns = Vec::new();
    if s.hex {
        patterns.push("^[0-9A-Fa-f]*$".to_owned());
    }
    if let Some(p) = &s.pattern {
        patterns.push(p.js.clone());
    }
    if let Some(schemes) = &s.uri_schemes {
        out.insert("format".to_owned(), json!("uri"));
        patterns.push(format!("^(?:{}):", schemes.join("|")));
    }
    match patterns.len() {
        0 => {}
        1 => {
            out.insert("pattern".to_owned(), json!(patterns[0]));
        }
        _ => {
            let all: Vec<Json> = patterns.iter().map(|p| json!({"pattern": p})).collect();
            out.insert("allOf".to_owned(), Json::Array(all));
        }
    }
    Json::Object(out)
}

fn number_schema(ty: &str, n: &NumberShape) -> Json {
    let mut out = Map::new();
    out.insert("type".to_owned(), json!(ty));
    if let Some(min) = n.min {
        out.insert("minimum".to_owned(), json!(min));
    }
    match n.max {
        Some(Limit::Value(max)) => {
            out.insert("maximum".to_owned(), json!(max));
        }
        Some(Limit::MaxEventOffset) => {
            out.insert("maximum".to_owned(), json!(DEFAULT_MAX_EVENT_OFFSET_MS));
            out.insert(
                "$comment".to_owned(),
                json!("the maximum is the collector's --max-event-offset-ms, by default this"),
            );
        }
        None => {}
    }
    Json::Object(out)
}

/// The Markdown page of the collector, for front-end developers.
pub fn page(service: &Service, collector: &Collector) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# `POST {}` of `{}`\n", collector.path, service.name);
    if let Some(description) = &collector.description {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    let _ = writeln!(
        out,
        "The body is JSON, sent as `text/plain` (what `navigator.sendBeacon` sends) or `application/json`, at most {} bytes.",
        collector.max_body_bytes
    );
    let answer = match collector.handler {
        Handler::ContentServer => "`200` with `{\"success\":true}`",
        Handler::PaymentsServer => "`200` with an empty body",
    };
    let _ = writeln!(
        out,
        "A valid body is answered {answer}; an invalid one `400` with `{{\"statusCode\":400,\"error\":\"Bad Request\",\"message\":..,\"validation\":{{\"source\":\"body\",\"keys\":[<path of the first failing field>]}}}}`."
    );
    let _ = writeln!(
        out,
        "Fields are checked in the order below and the first failure is reported."
    );
    let unknown = match collector.body.unknown_keys {
        UnknownKeys::Strip => "Keys that are not listed are removed silently.",
        UnknownKeys::Reject => "A key that is not listed is an error.",
        UnknownKeys::Keep => "Keys that are not listed are kept.",
    };
    let _ = writeln!(out, "{unknown}");
    if collector.convert {
        let _ = writeln!(
            out,
            "Values are converted before they are checked, as Joi's `convert` mode did: numeric strings become numbers (`\"5000\"`), `\"true\"` and `\"false\"` (any case) become booleans, and a string holding a JSON object or array stands for that object or array."
        );
    }
    let _ = writeln!(
        out,
        "\nThe JSON Schema of the body is `{}.collector-body.schema.json`.\n",
        service.name
    );
    let _ = writeln!(out, "| Field | Type | Required | Rule | Description |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    if let Some(fields) = &collector.body.fields {
        rows(&mut out, "", fields);
    }
    if collector.handler == Handler::ContentServer {
        let _ = writeln!(
            out,
            "\nAfter validation, every event's `offset` must be at most `flushTime - startTime`, or the answer is `400` with `validation.keys` `[\"offset\"]`."
        );
    }
    out
}

fn rows(out: &mut String, prefix: &str, fields: &[BodyField]) {
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        let (ty, rule) = describe(&field.rule);
        let description = field
            .description
            .as_deref()
            .map(|d| d.trim().replace('\n', " ").replace('|', "\\|"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{path}` | {ty} | {} | {} | {description} |",
            if field.required { "yes" } else { "no" },
            rule.replace('|', "\\|"),
        );
        match &field.rule.shape {
            Shape::Object(ObjectShape {
                fields: Some(inner),
                ..
            }) => rows(out, &format!("{path}."), inner),
            Shape::Array(array) => {
                if let Shape::Object(ObjectShape {
                    fields: Some(inner),
                    ..
                }) = &array.items.shape
                {
                    rows(out, &format!("{path}[]."), inner);
                }
            }
            _ => {}
        }
    }
}

/// The type and the rule of a value, in words.
fn describe(rule: &ValueRule) -> (String, String) {
    let mut parts = Vec::new();
    let ty = match &rule.shape {
        Shape::String(s) => {
            if !s.values.is_empty() {
                let values: Vec<String> = s.values.iter().map(|v| format!("`{v}`")).collect();
                parts.push(format!("one of {}", values.join(", ")));
            } else {
                parts.push("not empty".to_owned());
            }
            if s.hex {
                parts.push("hexadecimal".to_owned());
            }
            if let Some(length) = s.length {
                parts.push(format!("{length} characters"));
            } else if let Some(max) = s.max_length {
                parts.push(format!("at most {max} characters"));
            }
            if let Some(p) = &s.pattern {
                parts.push(format!("matches `{}`", p.js));
            }
            match &s.uri_schemes {
                Some(schemes) => {
                    parts.push(format!("scheme {}", schemes.join(", ")));
                    "URI"
                }
                None => "string",
            }
        }
        Shape::Integer(n) | Shape::Number(n) => {
            if let Some(min) = n.min {
                parts.push(format!("≥ {min}"));
            }
            match n.max {
                Some(Limit::Value(max)) => parts.push(format!("≤ {max}")),
                Some(Limit::MaxEventOffset) => parts.push(format!(
                    "≤ the collector's maximum event offset ({DEFAULT_MAX_EVENT_OFFSET_MS} by default)"
                )),
                None => {}
            }
            if matches!(rule.shape, Shape::Integer(_)) {
                "integer"
            } else {
                "number"
            }
        }
        Shape::Boolean => "boolean",
        Shape::Object(o) => {
            if o.fields.is_none() {
                parts.push("any content".to_owned());
            }
            "object"
        }
        Shape::Array(array) => {
            let (item, _) = describe(&array.items);
            let most = array
                .max_items
                .map(|max| format!("at most {max} items"))
                .unwrap_or_default();
            return (format!("array of {item}"), most);
        }
    };
    for allowed in &rule.allow {
        parts.push(format!("or `{allowed}`"));
    }
    if rule.nullable {
        parts.push("or `null`".to_owned());
    }
    (ty.to_owned(), parts.join("; "))
}
