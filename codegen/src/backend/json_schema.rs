//! The JSON Schema (draft-07) of a service's amplitude events, like FxA's
//! `amplitude-event.1.schema.json` (spec §4.11), derived from the mapping and the layout.
//!
//! `event_type` is an `enum` of every event type the mapping can produce when all of them are
//! statically known; otherwise the known ones plus one pattern per target whose name depends
//! on a capture.
//! Fields read from event data take the schema of the property of that name when an event
//! declares one.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};

use crate::model::{Field, GroupExpr, Part, PropertyType, Service, Source, Target};

/// The schema as pretty-printed JSON, ending with a newline.
pub fn render(service: &Service) -> String {
    let schema = schema(service);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Every event type, and patterns for the ones that depend on a capture.
fn event_types(service: &Service) -> (BTreeSet<String>, BTreeSet<String>) {
    let amplitude = &service.amplitude;
    let mut known = BTreeSet::new();
    let mut patterns = BTreeSet::new();
    let targets = amplitude
        .exact
        .values()
        .flatten()
        .chain(amplitude.rules.iter().flat_map(|r| &r.targets));
    for target in targets {
        add_target(service, target, &mut known, &mut patterns);
    }
    (known, patterns)
}

fn add_target(
    service: &Service,
    target: &Target,
    known: &mut BTreeSet<String>,
    patterns: &mut BTreeSet<String>,
) {
    let groups: Option<Vec<&str>> = match &target.group {
        GroupExpr::Fixed(p) => Some(vec![p.as_str()]),
        GroupExpr::Lookup { table, .. } => service
            .amplitude
            .tables
            .get(table.0)
            .map(|t| t.entries.iter().map(|(_, v)| v.as_str()).collect()),
    };
    let text: Option<String> = target
        .event
        .iter()
        .map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            Part::Capture(_) | Part::SnakeCapture(_) => None,
        })
        .collect();
    match (groups, text) {
        (Some(groups), Some(event)) => {
            for group in groups {
                known.insert(format!("{group} - {event}"));
            }
        }
        (groups, _) => {
            let group = match groups {
                Some(g) if g.len() == 1 => escape(g[0]),
                Some(g) => {
                    let set: BTreeSet<String> = g.iter().map(|s| escape(s)).collect();
                    format!("(?:{})", set.into_iter().collect::<Vec<_>>().join("|"))
                }
                None => ".+".to_owned(),
            };
            let event: String = target
                .event
                .iter()
                .map(|p| match p {
                    Part::Text(t) => escape(t),
                    Part::Capture(_) | Part::SnakeCapture(_) => ".+".to_owned(),
                })
                .collect();
            patterns.insert(format!("^{group} - {event}$"));
        }
    }
}

/// Escapes regex metacharacters (the ECMAScript subset JSON Schema uses).
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The JSON Schema of a value of a property type.
pub fn type_schema(ty: &PropertyType) -> Json {
    match ty {
        PropertyType::String {
            pattern,
            max_length,
        } => {
            let mut s = Map::new();
            s.insert("type".into(), json!("string"));
            if let Some(p) = pattern {
                s.insert("pattern".into(), json!(p.js));
            }
            if let Some(max) = max_length {
                s.insert("maxLength".into(), json!(max));
            }
            Json::Object(s)
        }
        PropertyType::Hex { length: Some(n) } => {
            json!({"type": "string", "pattern": format!("^[0-9a-f]{{{n}}}$")})
        }
        PropertyType::Hex { length: None } => json!({"type": "string", "pattern": "^[0-9a-f]+$"}),
        PropertyType::Integer { min, max } => {
            let mut s = Map::new();
            s.insert("type".into(), json!("integer"));
            if let Some(min) = min {
                s.insert("minimum".into(), json!(min));
            }
            if let Some(max) = max {
                s.insert("maximum".into(), json!(max));
            }
            Json::Object(s)
        }
        PropertyType::Boolean => json!({"type": "boolean"}),
        PropertyType::Enum { values } => {
            let values: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
            json!({"type": "string", "enum": values})
        }
        PropertyType::List { items } => json!({"type": "array", "items": type_schema(items)}),
    }
}

fn data_schema(service: &Service, key: &str) -> Json {
    let declared = service
        .events
        .values()
        .flat_map(|e| &e.properties)
        .chain(service.families.values().flat_map(|f| &f.properties))
        .find(|p| p.name == key);
    match declared {
        Some(p) => type_schema(&p.ty),
        None => json!({"description": format!("data.{key}")}),
    }
}

fn field_schema(service: &Service, field: &Field) -> Json {
    match &field.source {
        Source::Data(key) => data_schema(service, key),
        Source::AppVersion | Source::ServiceName | Source::OauthClientId => {
            json!({"type": "string"})
        }
        Source::Literal(t) => json!({"type": "string", "enum": [t]}),
        Source::Experiments(_) => json!({"type": "array", "items": {"type": "string"}}),
        Source::NonEmptyArray(_) => json!({"type": "array", "minItems": 1}),
        Source::SnakeCaseItems(_) => json!({"type": "array", "items": {"type": "string"}}),
    }
}

fn object(service: &Service, fields: &[Field]) -> Map<String, Json> {
    fields
        .iter()
        .map(|f| (f.name.clone(), field_schema(service, f)))
        .collect()
}

fn schema(service: &Service) -> Json {
    let (known, patterns) = event_types(service);
    let event_type = if patterns.is_empty() {
        json!({"type": "string", "enum": known})
    } else {
        let mut any: Vec<Json> = Vec::new();
        if !known.is_empty() {
            any.push(json!({"enum": known}));
        }
        any.extend(patterns.iter().map(|p| json!({"pattern": p})));
        json!({"type": "string", "anyOf": any})
    };
    let layout = service.amplitude.layout.clone().unwrap_or_default();
    let mut properties = Map::new();
    properties.insert(
        "op".into(),
        json!({"type": "string", "enum": ["amplitudeEvent"]}),
    );
    properties.insert("event_type".into(), event_type);
    properties.insert("time".into(), json!({"type": "integer", "minimum": 1}));
    properties.extend(object(service, &layout.fields));

    let mut event_properties = object(service, &layout.event_properties);
    for group in service.amplitude.groups.values() {
        for rule in group.event_properties.iter().flat_map(|g| &g.set) {
            event_properties
                .entry(rule.name.clone())
                .or_insert_with(|| json!({"type": "string"}));
        }
    }
    properties.insert(
        "event_properties".into(),
        json!({"type": "object", "properties": event_properties}),
    );

    let mut user_properties = object(service, &layout.user_properties);
    if !layout.append.is_empty() {
        let append = object(service, &layout.append);
        user_properties.insert(
            "$append".into(),
            json!({"type": "object", "properties": append, "additionalProperties": false}),
        );
    }
    if let Some(counts) = &layout.device_counts {
        user_properties.insert(
            counts.count.clone(),
            json!({"type": "integer", "minimum": 0}),
        );
        for (name, _) in &counts.windows {
            user_properties.insert(name.clone(), json!({"type": "integer", "minimum": 0}));
        }
    }
    user_properties.extend(object(service, &layout.user_properties_tail));
    if let Some(n) = &layout.newsletter {
        let states: BTreeSet<&str> = n
            .by_category
            .iter()
            .map(|(_, v)| v.as_str())
            .chain([n.when_true.as_str(), n.when_false.as_str()])
            .collect();
        user_properties.insert(n.name.clone(), json!({"type": "string", "enum": states}));
    }
    user_properties.extend(object(service, &layout.user_properties_last));
    properties.insert(
        "user_properties".into(),
        json!({"type": "object", "properties": user_properties}),
    );

    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    schema.insert(
        "$id".into(),
        json!(format!("{}.amplitude-event.schema.json", service.name)),
    );
    schema.insert(
        "title".into(),
        json!(format!("Amplitude events of {}", service.name)),
    );
    schema.insert(
        "description".into(),
        json!("Generated by metricsmith from the service's mapping and layout; do not edit."),
    );
    schema.insert("type".into(), json!("object"));
    schema.insert(
        "required".into(),
        json!([
            "op",
            "event_type",
            "time",
            "event_properties",
            "user_properties"
        ]),
    );
    if service.amplitude.policy.require_user_or_device {
        schema.insert(
            "anyOf".into(),
            json!([{"required": ["user_id"]}, {"required": ["device_id"]}]),
        );
    }
    schema.insert("properties".into(), Json::Object(properties));
    schema.insert("additionalProperties".into(), json!(false));
    Json::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_metacharacters() {
        assert_eq!(escape("fxa_login"), "fxa_login");
        assert_eq!(escape("a.b-c"), "a\\.b-c");
    }

    #[test]
    fn hex_schema_has_exact_length() {
        assert_eq!(
            type_schema(&PropertyType::Hex { length: Some(32) }),
            json!({"type": "string", "pattern": "^[0-9a-f]{32}$"})
        );
    }
}
