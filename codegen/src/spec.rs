//! The validated model's Amplitude part as the runtime's [`MappingSpec`].
//!
//! The model holds the runtime's own expression and layout types (crate `metricsmith-spec`),
//! so this only drops what reviewers need and the runtime does not (descriptions, locations,
//! shadowing) and attaches each group's properties to its prefix.
//! It is the one conversion: the Rust backend embeds its result in generated crates as JSON,
//! and the CLI hands it to the runtime to run a schema without generating code.

use metricsmith_spec::{GroupProperties, MappingSpec, Rule};

use crate::model::Service;

/// The runtime spec of one service's mapping.
///
/// Groups without event properties add no [`GroupProperties`]; a service without a layout gets
/// the default (empty) one.
///
/// ```no_run
/// let checked = metricsmith_codegen::load("schema/fxa/auth-server.yaml").expect("a valid schema");
/// let service = &checked.model.services["auth-server"];
/// let spec = metricsmith_codegen::spec::mapping_spec(service);
/// assert_eq!(spec.service, "auth-server");
/// ```
pub fn mapping_spec(service: &Service) -> MappingSpec {
    let amplitude = &service.amplitude;
    MappingSpec {
        service: service.name.clone(),
        tables: amplitude.tables.iter().map(|t| t.entries.clone()).collect(),
        exact: amplitude
            .exact
            .iter()
            .map(|(name, targets)| (name.clone(), targets.clone()))
            .collect(),
        rules: amplitude
            .rules
            .iter()
            .map(|rule| Rule {
                pattern: rule.rust_pattern.clone(),
                targets: rule.targets.clone(),
            })
            .collect(),
        group_properties: amplitude
            .groups
            .values()
            .filter_map(|group| {
                let props = group.event_properties.as_ref()?;
                Some(GroupProperties {
                    prefix: group.prefix.clone(),
                    when: props.when.clone(),
                    set: props.set.clone(),
                })
            })
            .collect(),
        layout: amplitude.layout.clone().unwrap_or_default(),
        policy: amplitude.policy.clone(),
    }
}

/// The widest line [`to_json`] writes a value on before it breaks it into one line per item.
const JSON_WIDTH: usize = 100;

/// `spec` as JSON: every array and object that fits in [`JSON_WIDTH`] columns on one line,
/// the others with one item per line, indented by two spaces.
///
/// One line per exact name, rule and table entry keeps a schema change a readable diff of
/// generated code, in about 30% of the lines of fully pretty JSON (667 against 2,249 lines for
/// the four FxA services).
pub fn to_json(spec: &MappingSpec) -> String {
    // A `MappingSpec` holds only structs, enums, sequences, strings, integers and booleans (no
    // maps with non-string keys, no floats): serde_json always represents it.
    let value = serde_json::to_value(spec).expect("a MappingSpec always converts to JSON");
    let mut out = String::with_capacity(4096);
    write_json(&value, 0, 0, &mut out);
    out.push('\n');
    out
}

/// Writes `value` at `indent` with `prefix` columns already used on its first line (a key).
fn write_json(value: &serde_json::Value, indent: usize, prefix: usize, out: &mut String) {
    use serde_json::Value;
    let fits = compact_len(value, JSON_WIDTH.saturating_sub(indent + prefix)).is_some();
    match value {
        Value::Array(items) if !fits && !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, indent + 2);
                write_json(item, indent + 2, 0, out);
            }
            out.push('\n');
            push_indent(out, indent);
            out.push(']');
        }
        Value::Object(fields) if !fits && !fields.is_empty() => {
            out.push('{');
            for (i, (key, field)) in fields.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, indent + 2);
                let key = Value::from(key.as_str()).to_string();
                out.push_str(&key);
                out.push_str(": ");
                write_json(field, indent + 2, key.len() + 2, out);
            }
            out.push('\n');
            push_indent(out, indent);
            out.push('}');
        }
        _ => out.push_str(&value.to_string()),
    }
}

/// The length of `value` as compact JSON, or `None` as soon as it exceeds `limit`: deciding
/// whether a value fits on a line reads at most `limit` bytes of it.
fn compact_len(value: &serde_json::Value, limit: usize) -> Option<usize> {
    use serde_json::Value;
    let len = match value {
        Value::Null => 4,
        Value::Bool(b) => 4 + usize::from(!b),
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => string_len(s, limit)?,
        Value::Array(items) => {
            let mut len = 2 + items.len().saturating_sub(1);
            for item in items {
                len += compact_len(item, limit.checked_sub(len)?)?;
            }
            len
        }
        Value::Object(fields) => {
            let mut len = 2 + fields.len().saturating_sub(1);
            for (key, field) in fields {
                len += string_len(key, limit.checked_sub(len)?)? + 1;
                len += compact_len(field, limit.checked_sub(len)?)?;
            }
            len
        }
    };
    (len <= limit).then_some(len)
}

/// The length of `text` as a JSON string, quotes included, as serde_json escapes it; `None`
/// beyond `limit`.
fn string_len(text: &str, limit: usize) -> Option<usize> {
    let mut len = 2;
    for c in text.chars() {
        len += match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        };
        if len > limit {
            return None;
        }
    }
    Some(len)
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use metricsmith_spec::Target;

    #[test]
    fn json_breaks_only_what_does_not_fit() {
        let spec = MappingSpec {
            service: "svc".into(),
            tables: vec![vec![("a".into(), "b".into())]],
            exact: (0..3)
                .map(|i| (format!("event.{i}"), vec![Target::fixed("fxa_login", "x")]))
                .collect(),
            ..MappingSpec::default()
        };
        let json = to_json(&spec);
        let back: MappingSpec = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back, spec);
        assert!(json.lines().all(|line| line.len() <= JSON_WIDTH), "{json}");
        let exact: Vec<&str> = json.lines().filter(|l| l.contains("\"event.")).collect();
        assert_eq!(exact.len(), 3, "one line per exact name:\n{json}");
        assert!(
            json.contains("  \"tables\": [[[\"a\",\"b\"]]],\n"),
            "{json}"
        );
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn compact_lengths_are_serde_jsons() {
        let value = serde_json::json!({
            "a\"b": ["x\ny", "\u{1}", "é\\", 12, -3.5, true, false, null, {}, []],
            "tab\t": {"k": "\u{8}\u{c}\r"}
        });
        let all = [value.clone(), value["a\"b"].clone(), value["tab\t"].clone()];
        for v in all {
            let text = v.to_string();
            assert_eq!(compact_len(&v, usize::MAX), Some(text.len()), "{text}");
            assert_eq!(compact_len(&v, text.len()), Some(text.len()), "{text}");
            assert_eq!(compact_len(&v, text.len() - 1), None, "{text}");
        }
    }
}
