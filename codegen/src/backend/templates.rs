//! User templates: every `*.tera` file of a directory rendered with tera 2 over a documented,
//! versioned view of the model ([`View`]; docs/templates.md describes it field by field).
//!
//! The view is built once, in one pass over the model, from facts that lowering computed (each
//! event's example and what it maps to, each rule's example and overlaps); templates only lay
//! them out. Every list is sorted as the model is (events by name, rules in order), and maps
//! keep their key order, so output never depends on hash order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::docs::capture_name;
use crate::diagnostic::{Code, Diagnostic, Report};
use crate::model::{
    Cond, EventExample, Expiry, Family, FlowKind, Governance, Kinds, Location, MappedBy, Model,
    Property, PropertyType, Resolved, Rule, Sensitivity, Service, Target, TemplatePart, Value,
};
use crate::source::{SourceFile, Sources, Span};

/// The version of the view: bumped with every change that could break a template (a field
/// renamed, removed or changed in meaning). Fields are only ever added within one version.
pub const VIEW_VERSION: u32 = 1;

/// Where a template's output goes: its file name without `.tera`.
pub fn output_name(template: &str) -> &str {
    template.strip_suffix(".tera").unwrap_or(template)
}

/// The `*.tera` files directly in `dir`, sorted by name, with their contents.
///
/// # Errors
/// The I/O error of the directory or of a file, with its path; a file that is not UTF-8 is
/// an [`std::io::ErrorKind::InvalidData`] error.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_owned(), e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| (dir.to_owned(), e))?.path();
        if path.extension().is_some_and(|e| e == "tera") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SourceFile::new(path, text)),
            Err(e) => Err((path, e)),
        })
        .collect()
}

/// Renders every template over the view of `model`: `(output name, text)` sorted by name.
///
/// # Errors
/// A report of every template that failed, each diagnostic at the template's line, with the
/// templates as its sources: the syntax errors of all templates, or else every rendering error.
pub fn render(model: &Model, templates: Vec<SourceFile>) -> Result<Vec<(String, String)>, Report> {
    let mut sources = Sources::new();
    let mut tera = tera::Tera::new();
    // Templates write CSV, TypeScript, Markdown: nothing is escaped unless a template asks.
    tera.autoescape_on(Vec::<&str>::new());
    tera.register_filter("csv", csv_filter);
    tera.register_filter("json", json_filter);
    let mut diagnostics = Vec::new();
    let mut names = Vec::new();
    for file in templates {
        let name = file
            .name
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.name.display().to_string());
        let result = tera.add_raw_template(&name, &file.text);
        let id = sources.add(file);
        match result {
            Ok(()) => names.push((name, id)),
            Err(err) => diagnostics.push(diagnostic(&sources, id, &err, "does not parse")),
        }
    }
    if !diagnostics.is_empty() {
        return Err(report(sources, diagnostics));
    }
    let Some(&(_, first)) = names.first() else {
        return Ok(Vec::new());
    };
    let context = match tera::Context::from_serialize(&View::new(model)) {
        Ok(context) => context,
        Err(err) => {
            // The view is plain data (strings, numbers, lists, maps): it always converts.
            let span = Span::new(first, 0..0);
            let d = Diagnostic::new(Code::Template, span, format!("the model view: {err}"));
            return Err(report(sources, vec![d]));
        }
    };
    let mut out = Vec::new();
    for (name, id) in &names {
        match tera.render(name, &context) {
            Ok(text) => out.push((output_name(name).to_owned(), text)),
            Err(err) => diagnostics.push(diagnostic(&sources, *id, &err, "fails to render")),
        }
    }
    if diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(report(sources, diagnostics))
    }
}

fn report(sources: Sources, diagnostics: Vec<Diagnostic>) -> Report {
    let mut report = Report {
        sources,
        diagnostics,
    };
    report.sort();
    report
}

/// A tera error as a diagnostic at the template's line (tera reports syntax and rendering
/// errors with a span; other errors point at the start of the template).
fn diagnostic(
    sources: &Sources,
    id: crate::source::FileId,
    err: &tera::Error,
    what: &str,
) -> Diagnostic {
    let (message, range) = match err.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => (
            report.message().to_owned(),
            Some(report.span().range.clone()),
        ),
        other => (other.to_string(), None),
    };
    let len = sources.get(id).map_or(0, |f| f.text.len());
    let range = range
        .filter(|r| r.start <= r.end && r.end <= len)
        .unwrap_or(0..0);
    let name = sources
        .get(id)
        .and_then(|f| f.name.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Diagnostic::new(
        Code::Template,
        Span::new(id, range),
        format!("template `{name}` {what}: {}", first_line(&message)),
    )
    .label("here")
    .help("the view of the model is described in docs/templates.md")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

/// `csv`: the value as one CSV field (RFC 4180): quoted when it holds a comma, a quote or a
/// line break, with quotes doubled; a list is joined with spaces first.
fn csv_filter(value: tera::Value, _: tera::Kwargs, _: &tera::State) -> String {
    let text = match value.as_array() {
        Some(items) => items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        None => value.to_string(),
    };
    csv_field(&text)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `json`: the value as JSON text (a string becomes a quoted, escaped JSON string), for
/// string literals in JSON, JavaScript or TypeScript output.
fn json_filter(value: tera::Value, _: tera::Kwargs, _: &tera::State) -> tera::TeraResult<String> {
    serde_json::to_string(&value).map_err(|e| tera::Error::message(format!("json: {e}")))
}

// ---- the view ------------------------------------------------------------------------------

/// What templates see: `view_version`, `schema_format` and `services`.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    /// [`VIEW_VERSION`].
    pub view_version: u32,
    /// The schema format version (`metricsmith: 1`).
    pub schema_format: u32,
    /// Every service, by name.
    pub services: Vec<ServiceView<'a>>,
}

impl<'a> View<'a> {
    /// The view of `model`.
    pub fn new(model: &'a Model) -> Self {
        View {
            view_version: VIEW_VERSION,
            schema_format: crate::parse::FORMAT_VERSION,
            services: model.services.values().map(ServiceView::new).collect(),
        }
    }
}

/// One service.
#[derive(Debug, Serialize)]
pub struct ServiceView<'a> {
    name: &'a str,
    description: &'a str,
    module: String,
    entry_file: String,
    files: Vec<String>,
    mozlog: Option<MozlogView<'a>>,
    events: Vec<EventView<'a>>,
    families: Vec<FamilyView<'a>>,
    groups: Vec<GroupView<'a>>,
    tables: Vec<TableView<'a>>,
    exact: Vec<ExactView<'a>>,
    rules: Vec<RuleView<'a>>,
    layout: Option<&'a crate::model::Layout>,
    policy: &'a crate::model::Policy,
    examples: Vec<WorkedExampleView<'a>>,
    amplitude_events: Vec<AmplitudeEventView<'a>>,
}

#[derive(Debug, Serialize)]
struct MozlogView<'a> {
    logger: &'a str,
    stream: &'static str,
}

#[derive(Debug, Serialize)]
struct LocationView {
    file: String,
    line: usize,
    column: usize,
}

impl LocationView {
    fn new(l: &Location) -> Self {
        LocationView {
            file: l.file.display().to_string(),
            line: l.line,
            column: l.column,
        }
    }
}

#[derive(Debug, Serialize)]
struct KindsView {
    activity: bool,
    flow: &'static str,
    email: bool,
}

impl KindsView {
    fn new(k: &Kinds) -> Self {
        KindsView {
            activity: k.activity,
            flow: match k.flow {
                FlowKind::Required => "required",
                FlowKind::Optional => "optional",
                FlowKind::None => "none",
            },
            email: k.email,
        }
    }
}

#[derive(Debug, Serialize)]
struct GovernanceView<'a> {
    owners: &'a [String],
    bugs: &'a [String],
    data_reviews: &'a [String],
    expires: Option<String>,
    expires_kind: &'static str,
    version: Option<u32>,
}

impl<'a> GovernanceView<'a> {
    fn new(g: &'a Governance) -> Self {
        GovernanceView {
            owners: &g.owners,
            bugs: &g.bugs,
            data_reviews: &g.data_reviews,
            expires: g.expires.map(|e| e.to_string()),
            expires_kind: match g.expires {
                Some(Expiry::Date(_)) => "date",
                Some(Expiry::Version(_)) => "version",
                Some(Expiry::Never) => "never",
                None => "none",
            },
            version: g.version,
        }
    }
}

#[derive(Debug, Serialize)]
struct TypeView<'a> {
    kind: &'static str,
    pattern: Option<&'a str>,
    max_length: Option<u64>,
    length: Option<u64>,
    min: Option<i64>,
    max: Option<i64>,
    values: Vec<&'a str>,
    items: Option<Box<TypeView<'a>>>,
}

impl<'a> TypeView<'a> {
    fn new(ty: &'a PropertyType) -> Self {
        let mut view = TypeView {
            kind: "",
            pattern: None,
            max_length: None,
            length: None,
            min: None,
            max: None,
            values: Vec::new(),
            items: None,
        };
        match ty {
            PropertyType::String {
                pattern,
                max_length,
            } => {
                view.kind = "string";
                view.pattern = pattern.as_ref().map(|p| p.js.as_str());
                view.max_length = *max_length;
            }
            PropertyType::Hex { length } => {
                view.kind = "hex";
                view.length = *length;
            }
            PropertyType::Integer { min, max } => {
                view.kind = "integer";
                (view.min, view.max) = (*min, *max);
            }
            PropertyType::Boolean => view.kind = "boolean",
            PropertyType::Enum { values } => {
                view.kind = "enum";
                view.values = values.iter().map(|v| v.value.as_str()).collect();
            }
            PropertyType::List { items } => {
                view.kind = "list";
                view.items = Some(Box::new(TypeView::new(items)));
            }
        }
        view
    }
}

#[derive(Debug, Serialize)]
struct PropertyView<'a> {
    name: &'a str,
    rust_name: &'a str,
    #[serde(rename = "type")]
    ty: TypeView<'a>,
    type_text: String,
    json_type: &'static str,
    required: bool,
    sensitivity: &'static str,
    sensitivity_category: u8,
    description: &'a str,
}

impl<'a> PropertyView<'a> {
    fn new(p: &'a Property) -> Self {
        let (sensitivity, sensitivity_category) = match p.sensitivity {
            Sensitivity::Technical => ("technical", 1),
            Sensitivity::Interaction => ("interaction", 2),
            Sensitivity::Identifier => ("identifier", 3),
            Sensitivity::Sensitive => ("sensitive", 4),
        };
        PropertyView {
            name: &p.name,
            rust_name: &p.rust_name,
            ty: TypeView::new(&p.ty),
            type_text: super::docs::type_text(&p.ty),
            json_type: match p.ty {
                PropertyType::String { .. }
                | PropertyType::Hex { .. }
                | PropertyType::Enum { .. } => "string",
                PropertyType::Integer { .. } => "integer",
                PropertyType::Boolean => "boolean",
                PropertyType::List { .. } => "array",
            },
            required: p.required,
            sensitivity,
            sensitivity_category,
            description: p.description.as_deref().unwrap_or(""),
        }
    }
}

/// What the mapping makes of an example.
#[derive(Debug, Serialize)]
struct ExampleView<'a> {
    name: &'a str,
    data: &'a serde_json::Map<String, serde_json::Value>,
    complete: bool,
    event_types: &'a [String],
    resolved: &'static str,
    rule: Option<usize>,
}

impl<'a> ExampleView<'a> {
    fn new(e: &'a EventExample) -> Self {
        let (resolved, rule) = resolved(e.outcome.resolved);
        ExampleView {
            name: &e.name,
            data: &e.data,
            complete: e.complete,
            event_types: &e.outcome.event_types,
            resolved,
            rule,
        }
    }
}

/// `(resolved, rule number)` of an outcome.
fn resolved(r: Resolved) -> (&'static str, Option<usize>) {
    match r {
        Resolved::Exact => ("exact", None),
        Resolved::Rule(i) => ("rule", Some(i + 1)),
        Resolved::None => ("none", None),
    }
}

#[derive(Debug, Serialize)]
struct EventView<'a> {
    name: &'a str,
    rust_name: &'a str,
    description: &'a str,
    kinds: KindsView,
    not_flow_for_services: &'a [String],
    properties: Vec<PropertyView<'a>>,
    governance: GovernanceView<'a>,
    logger: Option<&'a str>,
    location: LocationView,
    mapped_by: &'static str,
    mapped_rule: Option<usize>,
    example: ExampleView<'a>,
}

#[derive(Debug, Serialize)]
struct NamePartView<'a> {
    text: Option<&'a str>,
    parameter: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct FamilyView<'a> {
    id: &'a str,
    rust_name: &'a str,
    name: &'a str,
    name_parts: Vec<NamePartView<'a>>,
    parameters: Vec<PropertyView<'a>>,
    description: &'a str,
    kinds: KindsView,
    properties: Vec<PropertyView<'a>>,
    governance: GovernanceView<'a>,
    logger: Option<&'a str>,
    location: LocationView,
    example: ExampleView<'a>,
}

impl<'a> FamilyView<'a> {
    fn new(f: &'a Family) -> Self {
        FamilyView {
            id: &f.id,
            rust_name: &f.rust_name,
            name: &f.name,
            name_parts: f
                .name_template
                .iter()
                .map(|p| match p {
                    TemplatePart::Text(t) => NamePartView {
                        text: Some(t),
                        parameter: None,
                    },
                    TemplatePart::Parameter(n) => NamePartView {
                        text: None,
                        parameter: Some(n),
                    },
                })
                .collect(),
            parameters: f.parameters.iter().map(PropertyView::new).collect(),
            description: &f.description,
            kinds: KindsView::new(&f.kinds),
            properties: f.properties.iter().map(PropertyView::new).collect(),
            governance: GovernanceView::new(&f.governance),
            logger: f.logger.as_deref(),
            location: LocationView::new(&f.location),
            example: ExampleView::new(&f.example),
        }
    }
}

#[derive(Debug, Serialize)]
struct GroupView<'a> {
    key: &'a str,
    prefix: &'a str,
    description: &'a str,
    event_properties: Option<GroupPropertiesView<'a>>,
}

#[derive(Debug, Serialize)]
struct GroupPropertiesView<'a> {
    when: Vec<String>,
    set: Vec<SetView<'a>>,
}

#[derive(Debug, Serialize)]
struct SetView<'a> {
    name: &'a str,
    value: String,
    when: Vec<String>,
}

#[derive(Debug, Serialize)]
struct EntryView<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct TableView<'a> {
    name: &'a str,
    description: &'a str,
    values_are_groups: bool,
    entries: Vec<EntryView<'a>>,
}

#[derive(Debug, Serialize)]
struct TargetView {
    text: String,
    group: String,
    event: String,
    when: Vec<String>,
    time_offset: Option<i64>,
}

#[derive(Debug, Serialize)]
struct ExactView<'a> {
    name: &'a str,
    targets: Vec<TargetView>,
}

#[derive(Debug, Serialize)]
struct RuleExampleView<'a> {
    name: &'a str,
    event_types: &'a [String],
    resolved: &'static str,
    rule: Option<usize>,
    matching: Vec<usize>,
}

#[derive(Debug, Serialize)]
struct RuleView<'a> {
    number: usize,
    pattern: &'a str,
    rust_pattern: &'a str,
    captures: usize,
    description: &'a str,
    targets: Vec<TargetView>,
    shadowed: bool,
    shadowed_by: Vec<usize>,
    unmatchable: bool,
    example: Option<RuleExampleView<'a>>,
    takes_from: Vec<usize>,
    exact_matched: &'a [String],
    location: LocationView,
}

#[derive(Debug, Serialize)]
struct WorkedExampleView<'a> {
    description: &'a str,
    event: &'a str,
    time: Option<&'a str>,
    data: Option<&'a str>,
    expect: &'a [String],
    location: LocationView,
}

/// An amplitude `event_type` and the schema events whose examples produce it.
#[derive(Debug, Serialize)]
struct AmplitudeEventView<'a> {
    event_type: &'a str,
    sources: Vec<&'a str>,
}

fn numbers(indices: &[usize]) -> Vec<usize> {
    indices.iter().map(|i| i + 1).collect()
}

impl<'a> ServiceView<'a> {
    fn new(s: &'a Service) -> Self {
        let amplitude = &s.amplitude;
        let mut produced: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
        for e in s.events.values() {
            for t in &e.example.outcome.event_types {
                produced.entry(t).or_default().push(&e.name);
            }
        }
        for f in s.families.values() {
            for t in &f.example.outcome.event_types {
                produced.entry(t).or_default().push(&f.name);
            }
        }
        ServiceView {
            name: &s.name,
            description: s.description.as_deref().unwrap_or(""),
            module: crate::driver::module_name(s),
            entry_file: crate::driver::entry_name(s),
            files: s.files.iter().map(|f| f.display().to_string()).collect(),
            mozlog: s.mozlog.as_ref().map(|m| MozlogView {
                logger: &m.logger,
                stream: match m.stream {
                    crate::model::Stream::Stdout => "stdout",
                    crate::model::Stream::Stderr => "stderr",
                },
            }),
            events: s
                .events
                .values()
                .map(|e| {
                    let (mapped_by, mapped_rule) = match e.amplitude {
                        Some(MappedBy::Exact) => ("exact", None),
                        Some(MappedBy::Rule(i)) => ("rule", Some(i + 1)),
                        Some(MappedBy::Unmapped) => ("none", None),
                        Some(MappedBy::Excluded) => ("excluded", None),
                        None if amplitude.policy.rewrites.iter().any(|r| r.event == e.name) => {
                            ("rewritten", None)
                        }
                        None => ("none", None),
                    };
                    EventView {
                        name: &e.name,
                        rust_name: &e.rust_name,
                        description: &e.description,
                        kinds: KindsView::new(&e.kinds),
                        not_flow_for_services: &e.not_flow_for_services,
                        properties: e.properties.iter().map(PropertyView::new).collect(),
                        governance: GovernanceView::new(&e.governance),
                        logger: e.logger.as_deref(),
                        location: LocationView::new(&e.location),
                        mapped_by,
                        mapped_rule,
                        example: ExampleView::new(&e.example),
                    }
                })
                .collect(),
            families: s.families.values().map(FamilyView::new).collect(),
            groups: amplitude
                .groups
                .values()
                .map(|g| GroupView {
                    key: &g.key,
                    prefix: &g.prefix,
                    description: &g.description,
                    event_properties: g.event_properties.as_ref().map(|p| GroupPropertiesView {
                        when: p.when.iter().map(|c| cond_text(s, c)).collect(),
                        set: p
                            .set
                            .iter()
                            .map(|r| SetView {
                                name: &r.name,
                                value: value_text(s, &r.value),
                                when: r.when.iter().map(|c| cond_text(s, c)).collect(),
                            })
                            .collect(),
                    }),
                })
                .collect(),
            tables: amplitude
                .tables
                .iter()
                .map(|t| TableView {
                    name: &t.name,
                    description: &t.description,
                    values_are_groups: t.values_are_groups,
                    entries: t
                        .entries
                        .iter()
                        .map(|(key, value)| EntryView { key, value })
                        .collect(),
                })
                .collect(),
            exact: amplitude
                .exact
                .iter()
                .map(|(name, targets)| ExactView {
                    name,
                    targets: targets.iter().map(|t| target_view(s, t)).collect(),
                })
                .collect(),
            rules: amplitude.rules.iter().map(|r| rule_view(s, r)).collect(),
            layout: amplitude.layout.as_ref(),
            policy: &amplitude.policy,
            examples: amplitude
                .examples
                .iter()
                .map(|e| WorkedExampleView {
                    description: e.description.as_deref().unwrap_or(""),
                    event: &e.event,
                    time: e.time.as_deref(),
                    data: e.data.as_deref(),
                    expect: &e.expect,
                    location: LocationView::new(&e.location),
                })
                .collect(),
            amplitude_events: produced
                .into_iter()
                .map(|(event_type, sources)| AmplitudeEventView {
                    event_type,
                    sources,
                })
                .collect(),
        }
    }
}

fn rule_view<'a>(s: &'a Service, r: &'a Rule) -> RuleView<'a> {
    RuleView {
        number: r.index + 1,
        pattern: &r.js_pattern,
        rust_pattern: &r.rust_pattern,
        captures: r.captures,
        description: r.description.as_deref().unwrap_or(""),
        targets: r.targets.iter().map(|t| target_view(s, t)).collect(),
        shadowed: r.shadowed,
        shadowed_by: numbers(&r.shadowed_by),
        unmatchable: r.unmatchable,
        example: r.example.as_ref().map(|e| {
            let (resolved, rule) = resolved(e.outcome.resolved);
            RuleExampleView {
                name: &e.name,
                event_types: &e.outcome.event_types,
                resolved,
                rule,
                matching: numbers(&e.matching),
            }
        }),
        takes_from: numbers(&r.takes_from),
        exact_matched: &r.exact_matched,
        location: LocationView::new(&r.location),
    }
}

fn table_name(s: &Service, id: usize) -> String {
    s.amplitude
        .tables
        .get(id)
        .map_or_else(|| format!("table {id}"), |t| t.name.clone())
}

/// A value as plain text: `"literal"`, `category`, `data.key`, `table[category]`,
/// `table[data.key]`.
fn value_text(s: &Service, v: &Value) -> String {
    match v {
        Value::Literal(t) => format!("{t:?}"),
        Value::Capture(c) => capture_name(*c).to_owned(),
        Value::Data(k) => format!("data.{k}"),
        Value::Lookup { table, key } => {
            format!("{}[{}]", table_name(s, table.0), capture_name(*key))
        }
        Value::LookupData { table, key } => format!("{}[data.{key}]", table_name(s, table.0)),
    }
}

fn cond_text(s: &Service, c: &Cond) -> String {
    match c {
        Cond::Truthy(v) => value_text(s, v),
        Cond::EventIs(e) => format!("event is {e:?}"),
    }
}

fn target_view(s: &Service, t: &Target) -> TargetView {
    let (group, event) = super::docs::group_and_event(s, t);
    let when: Vec<String> = t.when.iter().map(|c| cond_text(s, c)).collect();
    let mut text = format!("{group} - {event}");
    if !when.is_empty() {
        let _ = write!(text, " when {}", when.join(" and "));
    }
    if let Some(offset) = t.time_offset {
        let _ = write!(text, " (time {offset:+} ms)");
    }
    TargetView {
        text,
        group,
        event,
        when,
        time_offset: t.time_offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let cases = [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(csv_field(text), want, "{text:?}");
        }
    }

    #[test]
    fn the_json_filter_writes_json() {
        let render = |v: tera::Value| {
            let mut tera = tera::Tera::new();
            tera.register_filter("json", json_filter);
            let mut context = tera::Context::new();
            context.insert("v", &v);
            tera.render_str("{{ v | json }}", &context, false)
        };
        let cases = [
            (tera::Value::from("a \"b\"\n"), r#""a \"b\"\n""#),
            (tera::Value::from(42), "42"),
            (tera::Value::from(vec!["x", "y"]), r#"["x","y"]"#),
        ];
        for (value, want) in cases {
            assert_eq!(render(value).expect("renders"), want);
        }
    }

    #[test]
    fn output_names_drop_the_tera_suffix() {
        assert_eq!(output_name("events.d.ts.tera"), "events.d.ts");
        assert_eq!(output_name("dictionary.csv.tera"), "dictionary.csv");
    }
}
