//! Reviewer docs: Markdown from tera templates embedded in the binary.
//!
//! Every decision (what an event maps to, which rules overlap, how a type reads) is made here
//! in Rust; the templates receive small view structs of ready-to-print strings and only loop.

use serde::Serialize;
use serde_json::Map;
use tera::{Context, Tera};

use super::example::{Evaluator, Resolved, example_value, render_template};
use super::tests::rule_example;
use crate::model::{
    Cond, Event, Family, FlowKind, Governance, GroupExpr, Kinds, Model, Part, Property,
    PropertyType, Sensitivity, Service, Target, Value,
};

const INDEX: &str = include_str!("templates/index.md.tera");
const SERVICE: &str = include_str!("templates/service.md.tera");
const RULES: &str = include_str!("templates/rules.md.tera");

fn tera() -> Result<Tera, String> {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    tera.add_raw_templates([
        ("index.md", INDEX),
        ("service.md", SERVICE),
        ("rules.md", RULES),
    ])
    .map_err(|e| e.to_string())?;
    Ok(tera)
}

fn render(template: &str, view: &impl Serialize) -> Result<String, String> {
    let tera = tera()?;
    let context = Context::from_serialize(view).map_err(|e| e.to_string())?;
    let text = tera.render(template, &context).map_err(|e| e.to_string())?;
    Ok(tidy(&text))
}

/// Collapses runs of blank lines and ends the file with one newline.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_end();
    format!("{trimmed}\n")
}

/// The page names of a service.
pub fn service_page(service: &Service) -> String {
    format!("{}.md", service.name)
}

fn rules_page(service: &Service) -> String {
    format!("{}-rules.md", service.name)
}

fn schema_file(service: &Service) -> String {
    format!("{}.amplitude-event.schema.json", service.name)
}

#[derive(Serialize)]
struct Row {
    k: String,
    v: String,
}

fn row(k: &str, v: impl Into<String>) -> Row {
    Row {
        k: k.to_owned(),
        v: v.into(),
    }
}

/// Text for a Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A code span for a table cell.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn anchor(prefix: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{slug}")
}

fn kinds(kinds: &Kinds) -> String {
    let mut out = Vec::new();
    if kinds.activity {
        out.push("activity");
    }
    match kinds.flow {
        FlowKind::Required => out.push("flow"),
        FlowKind::Optional => out.push("optional flow"),
        FlowKind::None => {}
    }
    if kinds.email {
        out.push("email");
    }
    if out.is_empty() {
        "amplitude only".to_owned()
    } else {
        out.join(", ")
    }
}

/// How a property type reads in a table.
pub fn type_text(ty: &PropertyType) -> String {
    match ty {
        PropertyType::String {
            pattern,
            max_length,
        } => {
            let mut s = "string".to_owned();
            if let Some(max) = max_length {
                s.push_str(&format!(" (at most {max} characters)"));
            }
            if let Some(p) = pattern {
                s.push_str(&format!(" matching {}", code(&p.js)));
            }
            s
        }
        PropertyType::Hex { length: Some(n) } => format!("hex, {n} characters"),
        PropertyType::Hex { length: None } => "hex".to_owned(),
        PropertyType::Integer { min, max } => match (min, max) {
            (None, None) => "integer".to_owned(),
            (min, max) => format!(
                "integer {}..={}",
                min.map(|n| n.to_string()).unwrap_or_default(),
                max.map(|n| n.to_string()).unwrap_or_default()
            ),
        },
        PropertyType::Boolean => "boolean".to_owned(),
        PropertyType::Enum { values } => {
            let values: Vec<String> = values.iter().map(|v| code(&v.value)).collect();
            format!("one of {}", values.join(", "))
        }
        PropertyType::List { items } => format!("list of {}", type_text(items)),
    }
}

fn sensitivity(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Technical => "1 technical",
        Sensitivity::Interaction => "2 interaction",
        Sensitivity::Identifier => "3 identifier",
        Sensitivity::Sensitive => "4 highly sensitive",
    }
}

#[derive(Serialize)]
struct PropertyView {
    name: String,
    ty: String,
    required: &'static str,
    sensitivity: &'static str,
    description: String,
}

fn property(p: &Property) -> PropertyView {
    PropertyView {
        name: p.name.clone(),
        ty: cell(&type_text(&p.ty)),
        required: if p.required { "yes" } else { "no" },
        sensitivity: sensitivity(p.sensitivity),
        description: cell(p.description.as_deref().unwrap_or("")),
    }
}

#[derive(Serialize)]
struct EventView {
    name: String,
    anchor: String,
    description: String,
    kinds: String,
    amplitude: String,
    facts: Vec<Row>,
    properties: Vec<PropertyView>,
    parameters: Vec<PropertyView>,
    example_name: String,
    example_data: String,
}

fn links(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| {
            if i.starts_with("http") {
                format!("<{i}>")
            } else {
                cell(i)
            }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn governance(rows: &mut Vec<Row>, g: &Governance) {
    rows.push(row("Owners", links(&g.owners)));
    rows.push(row("Bugs", links(&g.bugs)));
    rows.push(row("Data reviews", links(&g.data_reviews)));
    rows.push(row(
        "Expires",
        g.expires
            .map(|e| e.to_string())
            .unwrap_or_else(|| "not set".to_owned()),
    ));
    if let Some(v) = g.version {
        rows.push(row("Since", format!("v{v}")));
    }
}

/// What an example name and data produce, as a cell.
fn amplitude_text(
    service: &Service,
    eval: &Evaluator<'_>,
    name: &str,
    data: &Map<String, serde_json::Value>,
) -> String {
    let outcome = eval.evaluate(name, data);
    let types = if outcome.event_types.is_empty() {
        "nothing".to_owned()
    } else {
        outcome
            .event_types
            .iter()
            .map(|t| code(t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let how = match outcome.resolved {
        Resolved::Exact => " (exact name)".to_owned(),
        // Rules are numbered from 1 for people, as FxA's docs numbered them.
        Resolved::Rule(i) => format!(
            " ([rule {}]({}#{}))",
            i + 1,
            rules_page(service),
            anchor("rule", &(i + 1).to_string())
        ),
        Resolved::None => " (no exact name or rule matches)".to_owned(),
    };
    // A policy rewrite depends on data the example does not have: say what it does.
    let rewrite = service
        .amplitude
        .policy
        .rewrites
        .iter()
        .find(|r| r.event == name);
    match rewrite {
        Some(rewrite) => {
            let template: String = rewrite
                .to
                .iter()
                .map(|part| match part {
                    crate::model::RewritePart::Text(text) => text.clone(),
                    crate::model::RewritePart::Data(key) => format!("{{data.{key}}}"),
                })
                .collect();
            format!(
                "rewritten to {} before mapping; without that data, {} gives {types}{how}",
                code(&template),
                code(&outcome.name)
            )
        }
        None if outcome.name != name => format!("{types}{how}, as {}", code(&outcome.name)),
        None => format!("{types}{how}"),
    }
}

fn example_data(properties: &[Property]) -> Map<String, serde_json::Value> {
    properties
        .iter()
        .filter_map(|p| Some((p.name.clone(), example_value(&p.ty)?)))
        .collect()
}

fn json_line(name: &str, data: &Map<String, serde_json::Value>) -> String {
    let mut line = Map::new();
    line.insert(
        "event".to_owned(),
        serde_json::Value::String(name.to_owned()),
    );
    line.extend(data.clone());
    serde_json::Value::Object(line).to_string()
}

fn event_view(service: &Service, eval: &Evaluator<'_>, e: &Event) -> EventView {
    let data = example_data(&e.properties);
    let amplitude = amplitude_text(service, eval, &e.name, &data);
    let mut facts = vec![
        row("Kinds", kinds(&e.kinds)),
        row("Amplitude", amplitude.clone()),
        row("Rust", format!("`{}`", e.rust_name)),
    ];
    if let Some(l) = &e.logger {
        facts.push(row("Logger", code(l)));
    }
    governance(&mut facts, &e.governance);
    facts.push(row(
        "Defined at",
        format!("`{}:{}`", e.location.file.display(), e.location.line),
    ));
    EventView {
        name: e.name.clone(),
        anchor: anchor("event", &e.name),
        description: e.description.trim().to_owned(),
        kinds: kinds(&e.kinds),
        amplitude,
        facts,
        properties: e.properties.iter().map(property).collect(),
        parameters: Vec::new(),
        example_name: e.name.clone(),
        example_data: json_line(&e.name, &data),
    }
}

fn family_view(service: &Service, eval: &Evaluator<'_>, f: &Family) -> EventView {
    let data = example_data(&f.properties);
    let name = render_template(&f.name_template, &|n| {
        let p = f.parameters.iter().find(|p| p.name == n)?;
        Some(match example_value(&p.ty)? {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    })
    .unwrap_or_else(|| f.name.clone());
    let amplitude = amplitude_text(service, eval, &name, &data);
    let mut facts = vec![
        row("Kinds", kinds(&f.kinds)),
        row("Example", code(&name)),
        row("Amplitude of the example", amplitude.clone()),
        row("Rust", format!("`{}::new(..)`", f.rust_name)),
    ];
    if let Some(l) = &f.logger {
        facts.push(row("Logger", code(l)));
    }
    governance(&mut facts, &f.governance);
    facts.push(row(
        "Defined at",
        format!("`{}:{}`", f.location.file.display(), f.location.line),
    ));
    EventView {
        name: f.name.clone(),
        anchor: anchor("family", &f.id),
        description: f.description.trim().to_owned(),
        kinds: kinds(&f.kinds),
        amplitude,
        facts,
        properties: f.properties.iter().map(property).collect(),
        parameters: f.parameters.iter().map(property).collect(),
        example_name: name.clone(),
        example_data: json_line(&name, &data),
    }
}

#[derive(Serialize)]
struct GroupView {
    key: String,
    prefix: String,
    properties: String,
    description: String,
}

#[derive(Serialize)]
struct TableView {
    name: String,
    anchor: String,
    description: String,
    value_header: &'static str,
    entries: Vec<Row>,
}

#[derive(Serialize)]
struct ServiceView {
    name: String,
    source: String,
    description: String,
    mozlog: Option<String>,
    rules_page: String,
    json_schema: String,
    rule_count: usize,
    events: Vec<EventView>,
    families: Vec<EventView>,
    groups: Vec<GroupView>,
    tables: Vec<TableView>,
    exact: Vec<Row>,
}

#[derive(Serialize)]
struct RuleView {
    /// The rule's number, from 1.
    index: usize,
    anchor: String,
    pattern: String,
    pattern_cell: String,
    description: String,
    produces: String,
    example: String,
    facts: Vec<Row>,
}

#[derive(Serialize)]
struct RulesView {
    name: String,
    source: String,
    service_page: String,
    rules: Vec<RuleView>,
}

fn table_name(service: &Service, id: usize) -> String {
    service
        .amplitude
        .tables
        .get(id)
        .map(|t| {
            format!(
                "[`{}`]({}#{})",
                t.name,
                service_page(service),
                anchor("table", &t.name)
            )
        })
        .unwrap_or_else(|| format!("table {id}"))
}

fn value_text(service: &Service, v: &Value) -> String {
    match v {
        Value::Literal(t) => code(&format!("{t:?}")),
        Value::Capture(c) => format!("`{}`", capture_name(*c)),
        Value::Data(k) => code(&format!("data.{k}")),
        Value::Lookup { table, key } => {
            format!("{}[`{}`]", table_name(service, table.0), capture_name(*key))
        }
        Value::LookupData { table, key } => {
            format!("{}[`data.{key}`]", table_name(service, table.0))
        }
    }
}

fn capture_name(c: crate::model::Capture) -> &'static str {
    match c {
        crate::model::Capture::Category => "category",
        crate::model::Capture::Target => "target",
    }
}

fn cond_text(service: &Service, c: &Cond) -> String {
    match c {
        Cond::Truthy(v) => value_text(service, v),
        Cond::EventIs(e) => format!("event is {}", code(e)),
    }
}

/// What a target produces, e.g. `fxa_login - success` or `<view_groups[category]> - engage`.
fn target_text(service: &Service, t: &Target) -> String {
    let group = match &t.group {
        GroupExpr::Fixed(p) => p.clone(),
        GroupExpr::Lookup { table, key } => format!(
            "<{}[{}]>",
            service
                .amplitude
                .tables
                .get(table.0)
                .map(|t| t.name.as_str())
                .unwrap_or("?"),
            capture_name(*key)
        ),
    };
    let event: String = t
        .event
        .iter()
        .map(|p| match p {
            Part::Text(t) => t.clone(),
            Part::Capture(c) => format!("<{}>", capture_name(*c)),
        })
        .collect();
    let mut s = code(&format!("{group} - {event}"));
    if !t.when.is_empty() {
        let conds: Vec<String> = t.when.iter().map(|c| cond_text(service, c)).collect();
        s.push_str(&format!(" when {}", conds.join(" and ")));
    }
    if let Some(offset) = t.time_offset {
        s.push_str(&format!(" (time {offset:+} ms)"));
    }
    s
}

fn targets_text(service: &Service, targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| target_text(service, t))
        .collect::<Vec<_>>()
        .join(", then ")
}

/// A link to rule `i` (0-based), shown with its 1-based number.
fn rule_link(i: usize) -> String {
    let number = i + 1;
    format!("[{number}](#{})", anchor("rule", &number.to_string()))
}

fn rules_view(service: &Service, eval: &Evaluator<'_>) -> RulesView {
    let rules = &service.amplitude.rules;
    let examples: Vec<Option<String>> = rules
        .iter()
        .map(|r| rule_example(r, service, eval))
        .collect();
    // One pass of all rules over each example and each exact name, instead of one match per
    // pair of rules: `matching[i]` holds the rules that match rule i's example, `later[i]` the
    // later rules whose examples rule i matches, `exact[i]` the exact names rule i matches.
    let matching: Vec<Vec<usize>> = examples
        .iter()
        .map(|e| {
            e.as_deref()
                .map_or_else(Vec::new, |n| eval.matching_rules(n))
        })
        .collect();
    let mut later: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
    for (o, by) in matching.iter().enumerate() {
        for &i in by.iter().filter(|&&i| i < o) {
            later[i].push(o);
        }
    }
    let mut exact: Vec<Vec<&str>> = vec![Vec::new(); rules.len()];
    for name in service.amplitude.exact.keys() {
        for i in eval.matching_rules(name) {
            exact[i].push(name);
        }
    }
    let views = rules
        .iter()
        .map(|r| {
            let example = examples.get(r.index).cloned().flatten();
            let mut facts = Vec::new();
            facts.push(row("Produces", targets_text(service, &r.targets)));
            if r.js_pattern != r.rust_pattern {
                facts.push(row("As Rust regex", code(&r.rust_pattern)));
            }
            let example_cell = match &example {
                Some(name) => {
                    let outcome = eval.evaluate(name, &Map::new());
                    let types = if outcome.event_types.is_empty() {
                        "nothing".to_owned()
                    } else {
                        outcome
                            .event_types
                            .iter()
                            .map(|t| code(t))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    format!("{} → {types}", code(name))
                }
                None => "none derived".to_owned(),
            };
            facts.push(row("Example", example_cell.clone()));
            // Never wins, decided on automata by the front end's analysis.
            if r.shadowed {
                if r.shadowed_by.is_empty() {
                    facts.push(row("Shadowed", "never wins"));
                } else {
                    facts.push(row(
                        "Shadowed",
                        format!(
                            "never wins: every name it matches is taken by rule {}",
                            r.shadowed_by
                                .iter()
                                .map(|i| rule_link(*i))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            // Overlaps shown by examples: earlier rules that match this rule's example, later
            // rules whose examples this rule matches (so it takes them first).
            if let Some(name) = &example {
                let earlier: Vec<String> = matching
                    .get(r.index)
                    .into_iter()
                    .flatten()
                    .filter(|&&i| i < r.index)
                    .map(|&i| rule_link(i))
                    .collect();
                if !earlier.is_empty() {
                    facts.push(row(
                        "Taken by earlier rules",
                        format!("{} also match {}", earlier.join(", "), code(name)),
                    ));
                }
            }
            let later: Vec<String> = later
                .get(r.index)
                .into_iter()
                .flatten()
                .map(|&o| rule_link(o))
                .collect();
            if !later.is_empty() {
                facts.push(row(
                    "Takes names of later rules",
                    format!("matches the examples of rule {}", later.join(", ")),
                ));
            }
            let exact: Vec<String> = exact
                .get(r.index)
                .into_iter()
                .flatten()
                .map(|n| code(n))
                .collect();
            if !exact.is_empty() {
                facts.push(row(
                    "Exact names it also matches (exact wins)",
                    exact.join(", "),
                ));
            }
            facts.push(row(
                "Defined at",
                format!("`{}:{}`", r.location.file.display(), r.location.line),
            ));
            RuleView {
                index: r.index + 1,
                anchor: anchor("rule", &(r.index + 1).to_string()),
                pattern: r.js_pattern.clone(),
                pattern_cell: r.js_pattern.replace('|', "\\|"),
                description: r.description.as_deref().unwrap_or("").trim().to_owned(),
                produces: targets_text(service, &r.targets),
                example: example_cell,
                facts,
            }
        })
        .collect();
    RulesView {
        name: service.name.clone(),
        source: source_name(service),
        service_page: service_page(service),
        rules: views,
    }
}

fn source_name(service: &Service) -> String {
    service
        .files
        .first()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| service.name.clone())
}

/// The pages of one service: `<service>.md` and `<service>-rules.md`, with their contents.
///
/// # Errors
/// A template error (a metricsmith bug).
pub fn render_service(service: &Service) -> Result<Vec<(String, String)>, String> {
    let eval = Evaluator::new(&service.amplitude);
    let amplitude = &service.amplitude;
    let groups = amplitude
        .groups
        .values()
        .map(|g| GroupView {
            key: g.key.clone(),
            prefix: g.prefix.clone(),
            properties: match &g.event_properties {
                Some(props) => {
                    let mut s = props
                        .set
                        .iter()
                        .map(|p| {
                            let mut t = format!("`{}` = {}", p.name, value_text(service, &p.value));
                            if !p.when.is_empty() {
                                let c: Vec<String> =
                                    p.when.iter().map(|c| cond_text(service, c)).collect();
                                t.push_str(&format!(" if {}", c.join(" and ")));
                            }
                            t
                        })
                        .collect::<Vec<_>>()
                        .join("<br>");
                    if !props.when.is_empty() {
                        let c: Vec<String> =
                            props.when.iter().map(|c| cond_text(service, c)).collect();
                        s = format!("when {}:<br>{s}", c.join(" and "));
                    }
                    s
                }
                None => "none".to_owned(),
            },
            description: cell(&g.description),
        })
        .collect();
    let tables = amplitude
        .tables
        .iter()
        .map(|t| TableView {
            name: t.name.clone(),
            anchor: anchor("table", &t.name),
            description: t.description.trim().to_owned(),
            value_header: if t.values_are_groups {
                "Group prefix"
            } else {
                "Value"
            },
            entries: t.entries.iter().map(|(k, v)| row(k, v.clone())).collect(),
        })
        .collect();
    let exact = amplitude
        .exact
        .iter()
        .map(|(name, targets)| row(name, targets_text(service, targets)))
        .collect();
    let view = ServiceView {
        name: service.name.clone(),
        source: source_name(service),
        description: service
            .description
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_owned(),
        mozlog: service.mozlog.as_ref().map(|m| {
            format!(
                "`{}` on {}",
                m.logger,
                match m.stream {
                    crate::model::Stream::Stdout => "stdout",
                    crate::model::Stream::Stderr => "stderr",
                }
            )
        }),
        rules_page: rules_page(service),
        json_schema: schema_file(service),
        rule_count: amplitude.rules.len(),
        events: service
            .events
            .values()
            .map(|e| event_view(service, &eval, e))
            .collect(),
        families: service
            .families
            .values()
            .map(|f| family_view(service, &eval, f))
            .collect(),
        groups,
        tables,
        exact,
    };
    Ok(vec![
        (service_page(service), render("service.md", &view)?),
        (
            rules_page(service),
            render("rules.md", &rules_view(service, &eval))?,
        ),
    ])
}

#[derive(Serialize)]
struct IndexService {
    name: String,
    page: String,
    events: usize,
    families: usize,
    rules: usize,
    description: String,
}

#[derive(Serialize)]
struct IndexView {
    source: String,
    services: Vec<IndexService>,
}

/// The index page of every service.
///
/// # Errors
/// A template error (a metricsmith bug).
pub fn render_index(model: &Model) -> Result<String, String> {
    let services: Vec<IndexService> = model
        .services
        .values()
        .map(|s| IndexService {
            name: s.name.clone(),
            page: service_page(s),
            events: s.events.len(),
            families: s.families.len(),
            rules: s.amplitude.rules.len(),
            description: cell(s.description.as_deref().unwrap_or("")),
        })
        .collect();
    let mut sources: Vec<String> = model.services.values().map(source_name).collect();
    sources.sort();
    render(
        "index.md",
        &IndexView {
            source: sources
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            services,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_one_line_with_escaped_pipes() {
        assert_eq!(cell("a |\n b"), "a \\| b");
        assert_eq!(code("x|y"), "`x\\|y`");
    }

    #[test]
    fn anchors_are_slugs() {
        assert_eq!(anchor("event", "account.login"), "event-account-login");
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("a\n\n\n\nb  \n\n"), "a\n\nb\n");
    }
}
