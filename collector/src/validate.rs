//! The declared body, checked as Joi (celebrate, `abortEarly`) checked FxA's: fields in schema
//! order, the first failure reported with its path, Joi's conversions in `convert` mode, and
//! undeclared keys stripped, rejected or kept.

use metricsmith::line::{self, Doc};
use metricsmith::view::{self, Bag, JsonRef};
use metricsmith_codegen::model::{
    Limit, NumberShape, ObjectShape, Shape, StringShape, UnknownKeys, ValueRule,
};
use regex::Regex;
use serde_json::Value;

use crate::body::Overlay;

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

    /// Validates `root` (the parsed body) and returns what Joi's conversions and stripping
    /// change in it, for the handlers' [`View`](crate::body::View).
    pub(crate) fn validate(&self, root: line::Value<'_>) -> Result<Overlay, Failure> {
        let label = "value".to_owned();
        let mut overlay = Overlay::default();
        let mut checker = Checker {
            schema: self,
            overlay: &mut overlay,
        };
        checker
            .object(root, &self.body, &label)
            .map_err(|leaf| Failure {
                path: leaf.path,
                message: leaf.message,
            })?;
        overlay.finish();
        Ok(overlay)
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

struct Checker<'s, 'o> {
    schema: &'s Schema,
    /// Where the conversions go (the values themselves are never changed).
    overlay: &'o mut Overlay,
}

impl Checker<'_, '_> {
    fn object(
        &mut self,
        value: line::Value<'_>,
        shape: &CompiledObject,
        label: &str,
    ) -> Result<(), Leaf> {
        if let Some(parsed) = self.parse_text(value, true, |checker, object| {
            checker.members(object, shape)
        }) {
            return parsed;
        }
        if !matches!(value.kind(), view::Kind::Object) {
            return Err(leaf(format!("\"{label}\" must be an object")));
        }
        self.members(value, shape)
    }

    /// The members of an object: the declared ones in schema order, then the undeclared
    /// ones.
    fn members(&mut self, object: line::Value<'_>, shape: &CompiledObject) -> Result<(), Leaf> {
        let Some(fields) = &shape.fields else {
            return Ok(());
        };
        let mut present = 0;
        for field in fields {
            // A repeated key has its last value, as in serde_json's map.
            let Some(child) = JsonRef::get(object, &field.name) else {
                if field.required {
                    return Err(child_failure(
                        &field.name,
                        leaf(format!("\"{}\" is required", field.name)),
                    ));
                }
                continue;
            };
            present += 1;
            self.rule(child, &field.rule, &field.name)
                .map_err(|inner| child_failure(&field.name, inner))?;
        }
        // As many members as declared keys present: each member is one of them (the usual
        // case, which needs no look at the keys).
        let mut members = 0;
        Bag::pairs(object, |_, _| members += 1);
        if members == present {
            return Ok(());
        }
        let declared = |key: &str| fields.iter().any(|f| f.name == key);
        match shape.unknown_keys {
            UnknownKeys::Keep => {}
            UnknownKeys::Strip => {
                // Every occurrence of a repeated key, so that no reader finds an earlier one.
                let overlay = &mut *self.overlay;
                Bag::pairs(object, |key, value| {
                    if !declared(key) {
                        overlay.strip(value.id());
                    }
                });
            }
            UnknownKeys::Reject => {
                if let Some((key, _)) = object.entries().find(|(k, _)| !declared(k)) {
                    return Err(child_failure(
                        key,
                        leaf(format!("\"{key}\" is not allowed")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Joi's `convert` for objects and arrays: a string holding JSON of the right kind (an
    /// object when `object`, else an array) is parsed, checked with `check` in a document of
    /// its own and takes the string's place as an owned value (a rare case, which needs no
    /// speed). `None` when the value is no such string.
    fn parse_text(
        &mut self,
        value: line::Value<'_>,
        object: bool,
        check: impl FnOnce(&mut Checker<'_, '_>, line::Value<'_>) -> Result<(), Leaf>,
    ) -> Option<Result<(), Leaf>> {
        if !self.schema.convert {
            return None;
        }
        let view::Kind::String(text) = value.kind() else {
            return None;
        };
        let mut doc = Doc::new();
        let parsed = doc.parse(text).ok()?;
        let root = parsed.root();
        let fits = match root.kind() {
            view::Kind::Object => object,
            view::Kind::Array => !object,
            _ => false,
        };
        if !fits {
            return None;
        }
        let mut overlay = Overlay::default();
        let mut checker = Checker {
            schema: self.schema,
            overlay: &mut overlay,
        };
        if let Err(failure) = check(&mut checker, root) {
            return Some(Err(failure));
        }
        overlay.finish();
        let tree = overlay.view(root).to_json();
        self.overlay.patch(value.id(), tree);
        Some(Ok(()))
    }

    fn rule(
        &mut self,
        value: line::Value<'_>,
        rule: &CompiledRule,
        label: &str,
    ) -> Result<(), Leaf> {
        match value.kind() {
            view::Kind::String(s) if rule.allow.iter().any(|a| a == s) => return Ok(()),
            view::Kind::Null if rule.nullable => return Ok(()),
            _ => {}
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
        &mut self,
        value: line::Value<'_>,
        items: &CompiledRule,
        max_items: Option<u64>,
        label: &str,
    ) -> Result<(), Leaf> {
        let own = |checker: &mut Checker<'_, '_>, array: line::Value<'_>| {
            checker.items(array, items, max_items, label)
        };
        if let Some(parsed) = self.parse_text(value, false, own) {
            return parsed;
        }
        if !matches!(value.kind(), view::Kind::Array) {
            return Err(leaf(format!("\"{label}\" must be an array")));
        }
        self.items(value, items, max_items, label)
    }

    fn items(
        &mut self,
        array: line::Value<'_>,
        items: &CompiledRule,
        max_items: Option<u64>,
        label: &str,
    ) -> Result<(), Leaf> {
        let mut position = Position::default();
        for (index, item) in array.items().enumerate() {
            if let Err(mut inner) = self.rule(item, items, position.of(index)) {
                inner.path.insert(0, index.to_string());
                inner.message = format!(
                    "\"{label}\" at position {index} fails because [{}]",
                    inner.message
                );
                return Err(inner);
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
        Ok(())
    }

    fn boolean(&mut self, value: line::Value<'_>, label: &str) -> Result<(), Leaf> {
        match value.kind() {
            view::Kind::Bool(_) => Ok(()),
            view::Kind::String(s) if self.schema.convert => match s.to_lowercase().as_str() {
                "true" => self.converted(value, Value::Bool(true)),
                "false" => self.converted(value, Value::Bool(false)),
                _ => Err(leaf(format!("\"{label}\" must be a boolean"))),
            },
            _ => Err(leaf(format!("\"{label}\" must be a boolean"))),
        }
    }

    fn converted(&mut self, value: line::Value<'_>, to: Value) -> Result<(), Leaf> {
        self.overlay.patch(value.id(), to);
        Ok(())
    }

    fn number(
        &mut self,
        value: line::Value<'_>,
        shape: &NumberShape,
        integer: bool,
        label: &str,
    ) -> Result<(), Leaf> {
        let not_a_number = || leaf(format!("\"{label}\" must be a number"));
        let (x, converted) = match value.kind() {
            view::Kind::Number(n) => (n.as_f64(), None),
            view::Kind::String(s) if self.schema.convert => {
                // joi 10: `parseFloat(value)`, kept only when `isFinite(value)` (Number()).
                let parsed = metricsmith_enrich::locale::parse_float(s);
                let whole = metricsmith::js::string_to_number(s);
                if parsed.is_nan() || !whole.is_finite() {
                    return Err(not_a_number());
                }
                (parsed, Some(metricsmith::js::number_value(parsed)))
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
        match converted {
            Some(to) => self.converted(value, to),
            None => Ok(()),
        }
    }
}

/// An array index as text, for the label of an item, without an allocation per item.
#[derive(Default)]
struct Position {
    digits: [u8; 20],
}

impl Position {
    fn of(&mut self, index: usize) -> &str {
        let mut at = self.digits.len();
        let mut rest = index;
        loop {
            at -= 1;
            if let Some(digit) = self.digits.get_mut(at) {
                // A digit, 0 to 9.
                *digit = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || at == 0 {
                break;
            }
        }
        self.digits
            .get(at..)
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or("")
    }
}

fn string(
    value: line::Value<'_>,
    shape: &StringShape,
    regex: Option<&Regex>,
    label: &str,
) -> Result<(), Leaf> {
    let view::Kind::String(s) = value.kind() else {
        return Err(leaf(format!("\"{label}\" must be a string")));
    };
    if !shape.values.is_empty() {
        if shape.values.iter().any(|v| v == s) {
            return Ok(());
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
    Ok(())
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
