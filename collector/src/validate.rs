//! The declared body, checked as Joi (celebrate, `abortEarly`) checked FxA's: fields in schema
//! order, the first failure reported with its path, Joi's conversions in `convert` mode, and
//! undeclared keys stripped, rejected or kept.

use metricsmith_codegen::model::{
    Limit, NumberShape, ObjectShape, Shape, StringShape, UnknownKeys, ValueRule,
};
use regex::Regex;
use serde_json::Value;

/// The compiled rules of a body: the model's shapes with their regexes compiled once.
#[derive(Debug)]
pub(crate) struct Schema {
    body: CompiledObject,
    convert: bool,
    max_event_offset: i64,
}

#[derive(Debug)]
struct CompiledObject {
    fields: Option<Vec<CompiledField>>,
    unknown_keys: UnknownKeys,
}

#[derive(Debug)]
struct CompiledField {
    name: String,
    required: bool,
    rule: CompiledRule,
}

#[derive(Debug)]
struct CompiledRule {
    allow: Vec<String>,
    nullable: bool,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    String(StringShape, Option<Regex>),
    Integer(NumberShape),
    Number(NumberShape),
    Boolean,
    Object(CompiledObject),
    Array(Box<CompiledRule>, Option<u64>),
}

/// A validation failure: the path of the first failing value and Joi's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The path, e.g. `["events", "1", "offset"]`; empty for the body itself.
    pub path: Vec<String>,
    /// The message in Joi 10's words, e.g. `child "broker" fails because ["broker" is required]`.
    pub message: String,
}

impl Failure {
    /// The path joined with `.`, as celebrate's `validation.keys` entry.
    pub fn key(&self) -> String {
        self.path.join(".")
    }
}

impl Schema {
    pub(crate) fn new(
        body: &ObjectShape,
        convert: bool,
        max_event_offset: i64,
    ) -> Result<Self, regex::Error> {
        Ok(Self {
            body: compile_object(body)?,
            convert,
            max_event_offset,
        })
    }

    /// Validates and converts `value` (the parsed body), returning the value handlers see.
    pub(crate) fn validate(&self, value: Value) -> Result<Value, Failure> {
        let label = "value".to_owned();
        let checker = Checker { schema: self };
        checker
            .object(value, &self.body, &label)
            .map_err(|leaf| Failure {
                path: leaf.path,
                message: leaf.message,
            })
    }
}

fn compile_object(shape: &ObjectShape) -> Result<CompiledObject, regex::Error> {
    let fields = match &shape.fields {
        Some(fields) => Some(
            fields
                .iter()
                .map(|f| {
                    Ok(CompiledField {
                        name: f.name.clone(),
                        required: f.required,
                        rule: compile_rule(&f.rule)?,
                    })
                })
                .collect::<Result<Vec<_>, regex::Error>>()?,
        ),
        None => None,
    };
    Ok(CompiledObject {
        fields,
        unknown_keys: shape.unknown_keys,
    })
}

fn compile_rule(rule: &ValueRule) -> Result<CompiledRule, regex::Error> {
    let kind = match &rule.shape {
        Shape::String(s) => {
            let regex = s
                .pattern
                .as_ref()
                .map(|p| Regex::new(&p.rust))
                .transpose()?;
            Kind::String(s.clone(), regex)
        }
        Shape::Integer(n) => Kind::Integer(n.clone()),
        Shape::Number(n) => Kind::Number(n.clone()),
        Shape::Boolean => Kind::Boolean,
        Shape::Object(o) => Kind::Object(compile_object(o)?),
        Shape::Array(array) => Kind::Array(Box::new(compile_rule(&array.items)?), array.max_items),
    };
    Ok(CompiledRule {
        allow: rule.allow.clone(),
        nullable: rule.nullable,
        kind,
    })
}

/// A failure on its way up: the path so far (innermost last) and the message so far.
struct Leaf {
    path: Vec<String>,
    message: String,
}

struct Checker<'s> {
    schema: &'s Schema,
}

impl Checker<'_> {
    fn object(&self, value: Value, shape: &CompiledObject, label: &str) -> Result<Value, Leaf> {
        let value = self.parse_text(value, |v| v.is_object());
        let Value::Object(mut object) = value else {
            return Err(leaf(format!("\"{label}\" must be an object")));
        };
        let Some(fields) = &shape.fields else {
            return Ok(Value::Object(object));
        };
        for field in fields {
            let Some(child) = object.get_mut(&field.name) else {
                if field.required {
                    return Err(child_failure(
                        &field.name,
                        leaf(format!("\"{}\" is required", field.name)),
                    ));
                }
                continue;
            };
            let taken = std::mem::take(child);
            match self.rule(taken, &field.rule, &field.name) {
                Ok(converted) => *child = converted,
                Err(inner) => return Err(child_failure(&field.name, inner)),
            }
        }
        match shape.unknown_keys {
            UnknownKeys::Keep => {}
            UnknownKeys::Strip => {
                object.retain(|key, _| fields.iter().any(|f| &f.name == key));
            }
            UnknownKeys::Reject => {
                if let Some(key) = object.keys().find(|k| fields.iter().all(|f| &f.name != *k)) {
                    let key = key.clone();
                    return Err(child_failure(
                        &key,
                        leaf(format!("\"{key}\" is not allowed")),
                    ));
                }
            }
        }
        Ok(Value::Object(object))
    }

    /// Joi's `convert` for objects and arrays: a string holding JSON of the right kind is
    /// parsed.
    fn parse_text(&self, value: Value, kind: fn(&Value) -> bool) -> Value {
        if self.schema.convert
            && let Value::String(text) = &value
            && let Ok(parsed) = serde_json::from_str::<Value>(text)
            && kind(&parsed)
        {
            return parsed;
        }
        value
    }

    fn rule(&self, value: Value, rule: &CompiledRule, label: &str) -> Result<Value, Leaf> {
        if let Value::String(s) = &value
            && rule.allow.iter().any(|a| a == s)
        {
            return Ok(value);
        }
        if value.is_null() && rule.nullable {
            return Ok(value);
        }
        match &rule.kind {
            Kind::String(shape, regex) => string(value, shape, regex.as_ref(), label),
            Kind::Integer(shape) => self.number(value, shape, true, label),
            Kind::Number(shape) => self.number(value, shape, false, label),
            Kind::Boolean => self.boolean(value, label),
            Kind::Object(shape) => self.object(value, shape, label),
            Kind::Array(items, max_items) => self.array(value, items, *max_items, label),
        }
    }

    fn array(
        &self,
        value: Value,
        items: &CompiledRule,
        max_items: Option<u64>,
        label: &str,
    ) -> Result<Value, Leaf> {
        let value = self.parse_text(value, |v| v.is_array());
        let Value::Array(mut array) = value else {
            return Err(leaf(format!("\"{label}\" must be an array")));
        };
        for (index, item) in array.iter_mut().enumerate() {
            let taken = std::mem::take(item);
            let position = index.to_string();
            match self.rule(taken, items, &position) {
                Ok(converted) => *item = converted,
                Err(mut inner) => {
                    inner.path.insert(0, position.clone());
                    inner.message = format!(
                        "\"{label}\" at position {index} fails because [{}]",
                        inner.message
                    );
                    return Err(inner);
                }
            }
        }
        // As Joi: the items first, then the array's own rules.
        if let Some(max) = max_items
            && array.len() as u64 > max
        {
            return Err(leaf(format!(
                "\"{label}\" must contain less than or equal to {max} items"
            )));
        }
        Ok(Value::Array(array))
    }

    fn boolean(&self, value: Value, label: &str) -> Result<Value, Leaf> {
        match value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if self.schema.convert => match s.to_lowercase().as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(leaf(format!("\"{label}\" must be a boolean"))),
            },
            _ => Err(leaf(format!("\"{label}\" must be a boolean"))),
        }
    }

    fn number(
        &self,
        value: Value,
        shape: &NumberShape,
        integer: bool,
        label: &str,
    ) -> Result<Value, Leaf> {
        let not_a_number = || leaf(format!("\"{label}\" must be a number"));
        let (x, value) = match value {
            Value::Number(n) => (n.as_f64().unwrap_or(f64::NAN), Value::Number(n)),
            Value::String(s) if self.schema.convert => {
                // joi 10: `parseFloat(value)`, kept only when `isFinite(value)` (Number()).
                let parsed = metricsmith_enrich::locale::parse_float(&s);
                let whole = metricsmith::js::string_to_number(&s);
                if parsed.is_nan() || !whole.is_finite() {
                    return Err(not_a_number());
                }
                (parsed, metricsmith::js::number_value(parsed))
            }
            _ => return Err(not_a_number()),
        };
        if !x.is_finite() {
            return Err(not_a_number());
        }
        // Number.isSafeInteger.
        if integer && (x.fract() != 0.0 || x.abs() > 9_007_199_254_740_991.0) {
            return Err(leaf(format!("\"{label}\" must be an integer")));
        }
        if let Some(min) = shape.min
            && x < min as f64
        {
            return Err(leaf(format!(
                "\"{label}\" must be larger than or equal to {min}"
            )));
        }
        let max = shape.max.map(|m| match m {
            Limit::Value(v) => v,
            Limit::MaxEventOffset => self.schema.max_event_offset,
        });
        if let Some(max) = max
            && x > max as f64
        {
            return Err(leaf(format!(
                "\"{label}\" must be less than or equal to {max}"
            )));
        }
        Ok(value)
    }
}

fn string(
    value: Value,
    shape: &StringShape,
    regex: Option<&Regex>,
    label: &str,
) -> Result<Value, Leaf> {
    let Value::String(s) = &value else {
        return Err(leaf(format!("\"{label}\" must be a string")));
    };
    if !shape.values.is_empty() {
        if shape.values.iter().any(|v| v == s) {
            return Ok(value);
        }
        return Err(leaf(format!(
            "\"{label}\" must be one of [{}]",
            shape.values.join(", ")
        )));
    }
    if s.is_empty() {
        return Err(leaf(format!("\"{label}\" is not allowed to be empty")));
    }
    // JavaScript lengths count UTF-16 units.
    let length = s.encode_utf16().count() as u64;
    if let Some(max) = shape.max_length
        && length > max
    {
        return Err(leaf(format!(
            "\"{label}\" length must be less than or equal to {max} characters long"
        )));
    }
    if shape.hex && !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(leaf(format!(
            "\"{label}\" must only contain hexadecimal characters"
        )));
    }
    if let Some(exact) = shape.length
        && length != exact
    {
        return Err(leaf(format!(
            "\"{label}\" length must be {exact} characters long"
        )));
    }
    if let (Some(regex), Some(pattern)) = (regex, &shape.pattern)
        && !regex.is_match(s)
    {
        return Err(leaf(format!(
            "\"{label}\" with value \"{}\" fails to match the required pattern: /{}/",
            escape_html(s),
            pattern.js
        )));
    }
    if let Some(schemes) = &shape.uri_schemes
        && !is_uri(s, schemes)
    {
        let alternatives: Vec<String> = schemes.iter().map(|s| s.replace('-', "\\-")).collect();
        return Err(leaf(format!(
            "\"{label}\" must be a valid uri with a scheme matching the {} pattern",
            alternatives.join("|")
        )));
    }
    Ok(value)
}

/// An RFC 3986 URI whose scheme is one of `schemes` (case-insensitive), as Joi's `uri()`
/// checks it: the scheme, `:`, then only characters a URI may hold, with valid
/// percent-escapes.
fn is_uri(s: &str, schemes: &[String]) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    if !schemes.iter().any(|x| x.eq_ignore_ascii_case(scheme)) {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    // `scheme:` followed by `//` needs an authority.
    !(rest.starts_with("//") && rest.len() == 2)
}

/// Hoek's `escapeHtml`, which Joi applies to the value in pattern messages.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' | '.' | ',' | '-' | '_' => out.push(c),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 256 => out.push_str(&format!("&#x{:02x};", c as u32)),
            c => out.push_str(&format!("&#{};", c as u32)),
        }
    }
    out
}

fn leaf(message: String) -> Leaf {
    Leaf {
        path: Vec::new(),
        message,
    }
}

fn child_failure(key: &str, mut inner: Leaf) -> Leaf {
    inner.path.insert(0, key.to_owned());
    inner.message = format!("child \"{key}\" fails because [{}]", inner.message);
    inner
}
