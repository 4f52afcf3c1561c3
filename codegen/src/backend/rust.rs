//! The Rust backend: one module per service, written as text (see [`super::code`]).
//!
//! The module holds:
//! - `SERVICE`, `mapping()` and `spec()`: the Amplitude mapping, kept as the JSON of its
//!   `MappingSpec` in `SPEC_JSON` and compiled once into the runtime's `Mapping` (exact names in
//!   a hash map, every rule in one `RegexSet`);
//! - one struct per event and per family, implementing `metricsmith::types::Event`;
//! - `values`: one type per distinct enum or constrained string, shared by every event that
//!   uses it.
//!
//! Per-event code is a struct, two consts and a `write_data` with one call per property: every
//! piece of shared logic is a generic function of the runtime, so the compile cost per event
//! stays small.

use std::collections::BTreeMap;

use heck::ToShoutySnakeCase;

use super::code::{Code, Expr, lit, raw_lit};
use crate::model::{
    EnumValue, Event, Family, FlowKind, Kinds, Property, PropertyType, Service, TemplatePart,
    ValueKey,
};

/// Bytes of Rust per event, to size the output buffer once (2,000 events of five typed
/// properties write 3.03 MB, 0.21 MB of it the mapping's JSON).
const BYTES_PER_EVENT: usize = 1536;

/// The Rust module of `service` without its tests: what `include!` or the `schema!` macro
/// expands to.
///
/// The items carry no inner attributes, so the result can be `include!`d inside a `mod`.
pub fn emit_service(service: &Service) -> String {
    emit_service_after(service, "", 0)
}

/// [`emit_service`] after `prefix` (the `@generated` header), in a buffer with room for
/// `room` bytes more (the tests): the driver then appends the tests without copying the
/// module into a new buffer (4.6 MB at 2,000 events).
pub(crate) fn emit_service_after(service: &Service, prefix: &str, room: usize) -> String {
    let types = ValueTypes::collect(service);
    let items = service.events.len() + service.families.len();
    let mut code = Code::with_capacity(prefix.len() + 4096 + items * BYTES_PER_EVENT + room);
    code.raw(prefix);
    code.line("/// The service name.");
    code.assign("pub const SERVICE: &str", &Expr::lit(lit(&service.name)));
    if let Some(mozlog) = &service.mozlog {
        emit_mozlog(&mut code, mozlog);
    }
    emit_mapping(&mut code, service);
    for event in service.events.values() {
        emit_event(&mut code, event, &types);
    }
    for family in service.families.values() {
        emit_family(&mut code, family, &types);
    }
    types.emit(&mut code);
    code.finish()
}

/// The schema's `mozlog:` as constants and a logger builder, so services do not repeat them.
fn emit_mozlog(code: &mut Code, mozlog: &crate::model::Mozlog) {
    let stream = match mozlog.stream {
        crate::model::Stream::Stdout => "stdout",
        crate::model::Stream::Stderr => "stderr",
    };
    code.line("/// The mozlog logger name of the service (`mozlog: logger`).");
    code.assign("pub const LOGGER: &str", &Expr::lit(lit(&mozlog.logger)));
    code.line("/// The stream the service's mozlog lines go to (`mozlog: stream`).");
    code.assign("pub const STREAM: &str", &Expr::lit(lit(stream)));
    code.line(
        "/// A mozlog logger of [`LOGGER`] writing to [`STREAM`], to finish with `.build()`.",
    );
    code.open(format_args!(
        "pub fn logger() -> ::metricsmith::mozlog::LoggerBuilder {{"
    ));
    code.fmt(format_args!(
        "::metricsmith::mozlog::Logger::builder(LOGGER).{stream}()"
    ));
    code.close("}");
}

// ---- value types ----------------------------------------------------------------------------

/// The shared value types of a service: one per distinct constraint, named after the first
/// property that uses it.
/// Lowering made sure that no two distinct constraints get one name (`E0018`), so a name is
/// never renamed here.
#[derive(Debug)]
pub(crate) struct ValueTypes<'a> {
    // Keyed by the model's own strings: looking a type up allocates nothing.
    keys: BTreeMap<ValueKey<'a>, String>,
    /// In declaration order.
    order: Vec<ValueType<'a>>,
}

#[derive(Debug)]
enum ValueType<'a> {
    Text {
        name: String,
        pattern: Option<&'a str>,
        max_length: Option<u64>,
        description: String,
    },
    Enum {
        name: String,
        values: &'a [EnumValue],
        description: String,
    },
}

impl<'a> ValueTypes<'a> {
    pub(crate) fn collect(service: &'a Service) -> Self {
        let mut types = ValueTypes {
            keys: BTreeMap::new(),
            order: Vec::new(),
        };
        for property in service.value_type_order() {
            types.add(&property.rust_name, &property.ty);
        }
        types
    }

    fn add(&mut self, base: &str, ty: &'a PropertyType) {
        let Some(key) = ty.value_key() else {
            return;
        };
        if self.keys.contains_key(&key) {
            return;
        }
        let name = crate::ident::value_type_name(base);
        match key {
            ValueKey::Text(pattern, max_length) => {
                let pattern = (!pattern.is_empty()).then_some(pattern);
                let mut description = format!("A `{base}` value");
                if let Some(max) = max_length {
                    description.push_str(&format!(" of at most {max} characters"));
                }
                if let Some(p) = &pattern {
                    description.push_str(&format!(" matching `{p}`"));
                }
                description.push('.');
                self.order.push(ValueType::Text {
                    name: name.clone(),
                    pattern,
                    max_length,
                    description,
                });
            }
            ValueKey::Enum(values) => self.order.push(ValueType::Enum {
                name: name.clone(),
                values,
                description: format!("The values of `{base}`."),
            }),
        }
        self.keys.insert(key, name);
    }

    /// The Rust type of a value of `ty` (not wrapped in `Option`).
    pub(crate) fn rust_type(&self, ty: &PropertyType) -> String {
        match ty {
            PropertyType::String { .. } | PropertyType::Enum { .. } => {
                match ty.value_key().and_then(|k| self.keys.get(&k)) {
                    Some(name) => format!("values::{name}"),
                    None => "::std::string::String".to_owned(),
                }
            }
            PropertyType::Hex { length } => {
                format!("::metricsmith::types::Hex<{}>", length.unwrap_or(0))
            }
            PropertyType::Integer {
                min: None,
                max: None,
            } => "i64".to_owned(),
            PropertyType::Integer { min, max } => format!(
                "::metricsmith::types::Int<{}, {}>",
                int_lit(min.unwrap_or(i64::MIN)),
                int_lit(max.unwrap_or(i64::MAX))
            ),
            PropertyType::Boolean => "bool".to_owned(),
            PropertyType::List { items } => {
                format!("::std::vec::Vec<{}>", self.rust_type(items))
            }
        }
    }

    /// The field type of a property.
    pub(crate) fn field_type(&self, property: &Property) -> String {
        let ty = self.rust_type(&property.ty);
        if property.required {
            ty
        } else {
            format!("::core::option::Option<{ty}>")
        }
    }

    fn emit(&self, code: &mut Code) {
        if self.order.is_empty() {
            return;
        }
        code.line("/// Value types shared by the events of this service.");
        code.open(format_args!("pub mod values {{"));
        for ty in &self.order {
            match ty {
                ValueType::Text {
                    name,
                    pattern,
                    max_length,
                    description,
                } => emit_text_type(code, name, *pattern, *max_length, description),
                ValueType::Enum {
                    name,
                    values,
                    description,
                } => emit_enum_type(code, name, values, description),
            }
        }
        code.close("}");
    }
}

fn emit_text_type(
    code: &mut Code,
    name: &str,
    pattern: Option<&str>,
    max_length: Option<u64>,
    description: &str,
) {
    code.doc(description);
    code.assign(
        &format!("pub type {name}"),
        &Expr::text(format!("::metricsmith::types::Text<{name}Rule>")),
    );
    code.fmt(format_args!("/// The constraints of [`{name}`]."));
    code.line("#[derive(Debug)]");
    code.fmt(format_args!("pub enum {name}Rule {{}}"));
    let pattern_ref = match pattern {
        Some(p) => {
            let id = format!("{}_PATTERN", name.to_shouty_snake_case());
            code.assign(
                &format!("static {id}: ::metricsmith::types::LazyRegex"),
                &Expr::call(
                    "::metricsmith::types::LazyRegex::new",
                    vec![Expr::lit(lit(p))],
                ),
            );
            Expr::call(
                "::core::option::Option::Some",
                vec![Expr::text(format!("&{id}"))],
            )
        }
        None => Expr::text("::core::option::Option::None"),
    };
    let max = match max_length {
        Some(n) => Expr::call(
            "::core::option::Option::Some",
            vec![Expr::lit(n.to_string())],
        ),
        None => Expr::text("::core::option::Option::None"),
    };
    code.open(format_args!(
        "impl ::metricsmith::types::TextRule for {name}Rule {{"
    ));
    code.assign("const MAX_LENGTH: ::core::option::Option<usize>", &max);
    code.assign(
        "const PATTERN: ::core::option::Option<&'static ::metricsmith::types::LazyRegex>",
        &pattern_ref,
    );
    code.close("}");
}

fn emit_enum_type(code: &mut Code, name: &str, values: &[EnumValue], description: &str) {
    code.doc(description);
    code.line("#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]");
    code.open(format_args!("pub enum {name} {{"));
    for v in values {
        code.fmt(format_args!("/// `{}`", v.value));
        code.fmt(format_args!("{},", v.rust_name));
    }
    code.close("}");
    code.open(format_args!("impl {name} {{"));
    code.line("/// Every value, in declared order.");
    let all = values
        .iter()
        .map(|v| Expr::text(format!("Self::{}", v.rust_name)))
        .collect();
    code.assign("pub const ALL: &'static [Self]", &Expr::array(all).by_ref());
    code.line("/// The value as it appears in event data.");
    code.open(format_args!("pub const fn as_str(self) -> &'static str {{"));
    code.open(format_args!("match self {{"));
    for v in values {
        code.arm(&format!("Self::{}", v.rust_name), &Expr::lit(lit(&v.value)));
    }
    code.close("}");
    code.close("}");
    code.close("}");
    code.open(format_args!("impl ::core::str::FromStr for {name} {{"));
    code.line("type Err = ::metricsmith::types::InvalidValue;");
    code.open(format_args!(
        "fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {{"
    ));
    code.open(format_args!("match value {{"));
    for v in values {
        code.arm(
            &lit(&v.value),
            &Expr::call(
                "::core::result::Result::Ok",
                vec![Expr::text(format!("Self::{}", v.rust_name))],
            ),
        );
    }
    let expected = values.iter().map(|v| Expr::lit(lit(&v.value))).collect();
    let error = Expr::struct_lit(
        "::metricsmith::types::InvalidValue::Enum",
        vec![
            ("expected".to_owned(), Some(Expr::array(expected).by_ref())),
            ("value".to_owned(), Some(Expr::text("value.into()"))),
        ],
    );
    code.arm("_", &Expr::call("::core::result::Result::Err", vec![error]));
    code.close("}");
    code.close("}");
    code.close("}");
    code.open(format_args!("impl ::core::fmt::Display for {name} {{"));
    code.open(format_args!(
        "fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{"
    ));
    code.line("f.write_str(self.as_str())");
    code.close("}");
    code.close("}");
    code.open(format_args!(
        "impl ::metricsmith::types::ToJson for {name} {{"
    ));
    code.open(format_args!(
        "fn to_json(&self) -> ::core::option::Option<::metricsmith::__private::serde_json::Value> {{"
    ));
    code.line("::core::option::Option::Some(self.as_str().into())");
    code.close("}");
    code.close("}");
}

/// An integer in a const generic argument: negative values need a block.
fn int_lit(n: i64) -> String {
    match n {
        i64::MIN => "{ i64::MIN }".to_owned(),
        i64::MAX => "{ i64::MAX }".to_owned(),
        n if n < 0 => format!("{{ {n} }}"),
        n => n.to_string(),
    }
}

// ---- events ---------------------------------------------------------------------------------

fn kinds_expr(kinds: &Kinds, not_flow_for_services: &[String]) -> Expr {
    // emailEvent lines are written by the mailer integration, not by the emitter.
    let Kinds { activity, flow, .. } = kinds;
    let named = match (activity, flow) {
        (true, FlowKind::None) => Some("ACTIVITY"),
        (false, FlowKind::Required) => Some("FLOW"),
        (true, FlowKind::Required) => Some("HYBRID"),
        (true, FlowKind::Optional) => Some("HYBRID_OPTIONAL"),
        (false, FlowKind::None) | (false, FlowKind::Optional) => None,
    };
    if let Some(named) = named.filter(|_| not_flow_for_services.is_empty()) {
        return Expr::text(format!("::metricsmith::emit::EventKinds::{named}"));
    }
    let flow = match flow {
        FlowKind::Required => "Required",
        FlowKind::Optional => "Optional",
        FlowKind::None => "None",
    };
    let services = not_flow_for_services
        .iter()
        .map(|s| Expr::lit(lit(s)))
        .collect();
    Expr::struct_lit(
        "::metricsmith::emit::EventKinds",
        vec![
            ("activity".to_owned(), Some(Expr::lit(activity.to_string()))),
            (
                "flow".to_owned(),
                Some(Expr::text(format!("::metricsmith::emit::FlowKind::{flow}"))),
            ),
            (
                "not_flow_for_services".to_owned(),
                Some(Expr::array(services).by_ref()),
            ),
        ],
    )
}

fn logger_expr(logger: Option<&str>) -> Expr {
    match logger {
        Some(l) => Expr::call("::core::option::Option::Some", vec![Expr::lit(lit(l))]),
        None => Expr::text("::core::option::Option::None"),
    }
}

fn emit_fields<'a>(
    code: &mut Code,
    properties: impl Iterator<Item = &'a Property>,
    types: &ValueTypes,
) {
    for p in properties {
        code.doc(p.description.as_deref().unwrap_or(&p.name));
        code.field(&format!("pub {}", p.rust_name), &types.field_type(p));
    }
}

/// The `Event` impl: kinds, logger, the name and `write_data`.
///
/// Both methods are `#[inline]`: rustc then compiles them in the crates that emit the event,
/// and not at all for events a crate never emits. Compiling every one of them in the generated
/// crate cost a seventh of its build at 2,000 events (docs/performance.md).
fn emit_event_impl(
    code: &mut Code,
    ty: &str,
    kinds: &Expr,
    logger: &Expr,
    name: &Expr,
    properties: &[Property],
) {
    code.open(format_args!("impl ::metricsmith::types::Event for {ty} {{"));
    code.assign("const KINDS: ::metricsmith::emit::EventKinds", kinds);
    code.assign("const LOGGER: ::core::option::Option<&'static str>", logger);
    code.line("#[inline]");
    code.open(format_args!(
        "fn name(&self) -> ::std::borrow::Cow<'_, str> {{"
    ));
    code.stmt(name, "");
    code.close("}");
    // The trait's default writes nothing.
    if !properties.is_empty() {
        code.line("#[inline]");
        code.open(format_args!(
            "fn write_data(&self, data: &mut ::metricsmith::types::Data) {{"
        ));
        for p in properties {
            let put = Expr::call(
                "::metricsmith::types::put",
                vec![
                    Expr::text("data"),
                    Expr::lit(lit(&p.name)),
                    Expr::text(format!("&self.{}", p.rust_name)),
                ],
            );
            code.stmt(&put, ";");
        }
        code.close("}");
    }
    code.close("}");
}

fn event_doc(code: &mut Code, description: &str, name: &str) {
    code.doc(&format!("`{name}`: {}", description.trim()));
}

fn emit_event(code: &mut Code, event: &Event, types: &ValueTypes) {
    let ty = &event.rust_name;
    event_doc(code, &event.description, &event.name);
    if event.properties.is_empty() {
        code.line("#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]");
        code.fmt(format_args!("pub struct {ty};"));
    } else {
        // Only Debug and Clone: every derive is code per event (compile cost).
        code.line("#[derive(Debug, Clone)]");
        code.open(format_args!("pub struct {ty} {{"));
        emit_fields(code, event.properties.iter(), types);
        code.close("}");
    }
    code.open(format_args!("impl {ty} {{"));
    code.line("/// The event name.");
    code.assign("pub const NAME: &'static str", &Expr::lit(lit(&event.name)));
    code.close("}");
    emit_event_impl(
        code,
        ty,
        &kinds_expr(&event.kinds, &event.not_flow_for_services),
        &logger_expr(event.logger.as_deref()),
        &Expr::call(
            "::std::borrow::Cow::Borrowed",
            vec![Expr::text("Self::NAME")],
        ),
        &event.properties,
    );
}

/// The `format!` string of a family's name template.
fn format_string(parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(t) => t.replace('{', "{{").replace('}', "}}"),
            TemplatePart::Parameter(_) => "{}".to_owned(),
        })
        .collect()
}

/// Whether constructing a value of `ty` from its argument can fail.
pub(crate) fn validated(ty: &PropertyType) -> bool {
    match ty {
        PropertyType::String { .. } => ty.value_key().is_some(),
        PropertyType::Hex { .. } => true,
        PropertyType::Integer { min, max } => min.is_some() || max.is_some(),
        PropertyType::Boolean | PropertyType::Enum { .. } => false,
        PropertyType::List { .. } => false,
    }
}

/// The constructor argument type of a family parameter and how it becomes the field value
/// (`None` when the argument is the value).
fn parameter_arg(p: &Property, types: &ValueTypes) -> (String, Option<Expr>) {
    let name = &p.rust_name;
    let new = |ty: &PropertyType| {
        Expr::qualified(&types.rust_type(ty), "new", vec![Expr::text(name.as_str())]).try_()
    };
    match &p.ty {
        ty @ (PropertyType::String { .. } | PropertyType::Hex { .. }) if validated(ty) => {
            ("&str".to_owned(), Some(new(ty)))
        }
        PropertyType::String { .. } => (
            "&str".to_owned(),
            Some(Expr::call(
                "::std::string::String::from",
                vec![Expr::text(name.as_str())],
            )),
        ),
        ty @ PropertyType::Integer { .. } if validated(ty) => ("i64".to_owned(), Some(new(ty))),
        ty => (types.rust_type(ty), None),
    }
}

fn emit_family(code: &mut Code, family: &Family, types: &ValueTypes) {
    let ty = &family.rust_name;
    event_doc(code, &family.description, &family.name);
    code.line("#[derive(Debug, Clone)]");
    code.open(format_args!("pub struct {ty} {{"));
    emit_fields(
        code,
        family.parameters.iter().chain(&family.properties),
        types,
    );
    code.close("}");

    let fallible = family.parameters.iter().any(|p| validated(&p.ty));
    let mut args = Vec::new();
    let mut inits = Vec::new();
    for p in &family.parameters {
        let (arg, init) = parameter_arg(p, types);
        args.push(format!("{}: {arg}", p.rust_name));
        inits.push((p.rust_name.clone(), init));
    }
    for p in &family.properties {
        args.push(format!("{}: {}", p.rust_name, types.field_type(p)));
        inits.push((p.rust_name.clone(), None));
    }
    code.open(format_args!("impl {ty} {{"));
    code.line("/// The name template.");
    code.assign(
        "pub const TEMPLATE: &'static str",
        &Expr::lit(lit(&family.name)),
    );
    code.fmt(format_args!(
        "/// The `{}` event of these parameters.",
        family.name
    ));
    if fallible {
        code.line("///");
        code.line("/// # Errors");
        code.line("/// A parameter that does not satisfy its type.");
    }
    // Clippy's default limit is seven.
    if args.len() > 7 {
        code.line("#[allow(clippy::too_many_arguments)]");
    }
    let ret = if fallible {
        "::core::result::Result<Self, ::metricsmith::types::InvalidValue>"
    } else {
        "Self"
    };
    code.fn_open("pub fn new", &args, ret);
    let value = Expr::struct_lit("Self", inits);
    if fallible {
        code.stmt(&Expr::call("::core::result::Result::Ok", vec![value]), "");
    } else {
        code.stmt(&value, "");
    }
    code.close("}");
    code.close("}");

    let mut format_args = vec![Expr::lit(lit(&format_string(&family.name_template)))];
    format_args.extend(family.name_template.iter().filter_map(|p| {
        match p {
            TemplatePart::Parameter(name) => family
                .parameters
                .iter()
                .find(|q| &q.name == name)
                .map(|q| Expr::text(format!("self.{}", q.rust_name))),
            TemplatePart::Text(_) => None,
        }
    }));
    let name = Expr::call(
        "::std::borrow::Cow::Owned",
        vec![Expr::call("::std::format!", format_args)],
    );
    emit_event_impl(
        code,
        ty,
        &kinds_expr(&family.kinds, &[]),
        &logger_expr(family.logger.as_deref()),
        &name,
        &family.properties,
    );
}

// ---- the mapping ----------------------------------------------------------------------------

/// The items around the mapping's JSON that do not depend on the schema (module level).
const MAPPING_STATIC: &str = "\
static MAPPING: ::std::sync::LazyLock<::std::sync::Arc<::metricsmith::amplitude::Mapping>> =
    ::std::sync::LazyLock::new(|| {
        // Fails only against a runtime of another version: the metricsmith compiler wrote
        // SPEC_JSON with serde_json from the `MappingSpec` types it shares with its runtime,
        // compiled every rule pattern with the same `regex` crate and resolved every table id.
        ::std::sync::Arc::new(
            ::metricsmith::amplitude::Mapping::from_json(SPEC_JSON).unwrap_or_else(|err| {
                ::std::panic!(
                    \"SPEC_JSON does not fit this metricsmith runtime ({err}): regenerate this \\
                     code with the metricsmith compiler of the runtime's version\"
                )
            }),
        )
    });
";

/// `mapping()`'s body, `transform()` and `spec()`, after `mapping()`'s doc comment.
const MAPPING_FUNCTIONS: &str = "\
pub fn mapping() -> &'static ::metricsmith::amplitude::Mapping {
    &MAPPING
}
/// [`mapping`] as a transform for `metricsmith::emit::Emitter`.
pub fn transform(
    oauth_clients: ::metricsmith::amplitude::OauthClients,
    app_version: ::core::option::Option<::std::string::String>,
) -> ::metricsmith::emit::MappingTransform {
    ::metricsmith::emit::MappingTransform {
        mapping: ::std::sync::Arc::clone(&MAPPING),
        oauth_clients,
        app_version,
    }
}
/// The data of [`mapping`].
pub fn spec() -> ::metricsmith::amplitude::MappingSpec {
    MAPPING.spec().clone()
}
";

/// The mapping: its data is [`spec_json`] in a string constant, read once by the runtime.
///
/// Written as Rust expressions, the same data was one large function of `String::from` and
/// `vec!` calls for rustc to type-check and optimize; a string constant is only lexed.
fn emit_mapping(code: &mut Code, service: &Service) {
    // A runtime of another spec format cannot read SPEC_JSON: the build fails with a message
    // that names both formats, instead of `mapping()` panicking at first use.
    code.line("// The runtime reads the spec format this code was written in (checked by rustc).");
    code.assign(
        "const _: ()",
        &Expr::call(
            "::metricsmith::__private::check_spec_format",
            vec![
                Expr::lit(metricsmith_spec::SPEC_FORMAT.to_string()),
                Expr::lit(lit(&crate::driver::entry_name(service))),
            ],
        ),
    );
    code.raw(MAPPING_STATIC);
    code.fmt(format_args!(
        "/// The Amplitude mapping of `{}`, compiled on first use and kept for the life of the process.",
        service.name
    ));
    code.raw(MAPPING_FUNCTIONS);
    code.line("/// The data of [`mapping`], as the JSON of `metricsmith::amplitude::MappingSpec`.");
    code.fmt(format_args!(
        "pub const SPEC_JSON: &str = {};",
        raw_lit(&spec_json(service))
    ));
}

/// The service's `MappingSpec` ([`mapping_spec`](crate::spec::mapping_spec)) as JSON, one
/// exact name, rule or table entry per line ([`to_json`](crate::spec::to_json)).
pub fn spec_json(service: &Service) -> String {
    crate::spec::to_json(&crate::spec::mapping_spec(service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_strings_escape_braces() {
        let parts = [
            TemplatePart::Text("a{".into()),
            TemplatePart::Parameter("x".into()),
            TemplatePart::Text("}.b".into()),
        ];
        assert_eq!(format_string(&parts), "a{{{}}}.b");
    }

    #[test]
    fn negative_bounds_are_blocks() {
        assert_eq!(int_lit(-3), "{ -3 }");
        assert_eq!(int_lit(7), "7");
        assert_eq!(int_lit(i64::MIN), "{ i64::MIN }");
    }
}
