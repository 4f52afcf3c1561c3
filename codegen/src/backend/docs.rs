//! Reviewer docs: Markdown written straight into one `String` per page.
//!
//! Every decision is made in Rust: what an event, a family or a rule's example maps to and which
//! rules overlap were computed once by lowering (the generated tests show the same facts); how
//! a type or a target reads is decided here.
//! Each page and each section of a page has one `write_*` function that writes its lines in
//! order, so the code reads like the Markdown it produces; [`tidy`] then takes care of blank
//! lines and trailing whitespace.

use std::fmt::{self, Display, Write as _};

use serde::ser::{SerializeMap as _, Serializer as _};
use serde_json::Map;

use crate::model::{
    Cond, Event, EventExample, Family, FlowKind, Governance, GroupExpr, Kinds, MappedBy, Model,
    Outcome, Part, Property, PropertyType, Resolved, Rule, Sensitivity, Service, Target, Value,
};

/// Trims trailing whitespace from every line, keeps at most one blank line in a row and ends the
/// text with exactly one newline.
///
/// Pages are written with a blank line before and after each block, as reads best in the code;
/// free text with blank lines or trailing spaces of its own (descriptions) goes through the same
/// rules, so it cannot break the layout.
fn tidy(text: String) -> String {
    // Most pages need no change: they are only scanned, and copied from the first line that
    // needs one.
    let mut copy: Option<String> = None;
    let mut blank = false;
    let mut start = 0usize;
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let trimmed = body.trim_end();
        let skip = trimmed.is_empty() && blank;
        blank = trimmed.is_empty();
        if copy.is_none() && (skip || trimmed.len() != body.len()) {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start]);
            copy = Some(out);
        }
        if let Some(out) = &mut copy
            && !skip
        {
            out.push_str(trimmed);
            out.push('\n');
        }
        start += line.len();
    }
    let mut out = copy.unwrap_or(text);
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
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

// ---- values in cells --------------------------------------------------------------------------

/// Text with `|` escaped, so it stays in its table cell.
struct Escaped<'a>(&'a str);

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.contains('|') {
            return f.write_str(self.0);
        }
        let mut parts = self.0.split('|');
        f.write_str(parts.next().unwrap_or_default())?;
        for part in parts {
            f.write_str("\\|")?;
            f.write_str(part)?;
        }
        Ok(())
    }
}

/// Text for a Markdown table cell: one line, pipes escaped.
struct Cell<'a>(&'a str);

impl Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_one_line(self.0) {
            return Escaped(self.0).fmt(f);
        }
        for (i, word) in self.0.split_whitespace().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            Escaped(word).fmt(f)?;
        }
        Ok(())
    }
}

/// Whether `text` is already one line of words with single spaces between them, as most
/// descriptions are: ASCII, no whitespace but single spaces, none at either end.
fn is_one_line(text: &str) -> bool {
    let mut after_space = true;
    for b in text.bytes() {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            b if b.is_ascii_graphic() => after_space = false,
            _ => return false,
        }
    }
    !after_space || text.is_empty()
}

/// A code span for a table cell.
struct Code<'a>(&'a str);

impl Display for Code<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", Escaped(self.0))
    }
}

/// The id of a heading's anchor, e.g. `event-account-login`: ASCII letters and digits in lower
/// case, every other character a `-`.
struct Anchor<'a>(&'static str, &'a str);

impl Display for Anchor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)?;
        f.write_char('-')?;
        // Names are mostly lower case already: write the runs that stay as they are whole.
        let mut rest = self.1;
        while !rest.is_empty() {
            let kept = rest
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                .count();
            f.write_str(&rest[..kept])?;
            rest = &rest[kept..];
            if let Some(c) = rest.chars().next() {
                f.write_char(if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                })?;
                rest = &rest[c.len_utf8()..];
            }
        }
        Ok(())
    }
}

/// A link to rule `i` (0-based), shown with its 1-based number.
struct RuleLink(usize);

impl Display for RuleLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rules are numbered from 1 for people, as FxA's docs numbered them.
        let number = self.0 + 1;
        write!(f, "[{number}](#rule-{number})")
    }
}

/// Items written with a separator between them.
struct Join<I>(I, &'static str);

impl<I> Display for Join<I>
where
    I: Iterator + Clone,
    I::Item: Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            item.fmt(f)?;
        }
        Ok(())
    }
}

struct KindsText<'a>(&'a Kinds);

impl Display for KindsText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = self.0;
        let flow = match kinds.flow {
            FlowKind::Required => Some("flow"),
            FlowKind::Optional => Some("optional flow"),
            FlowKind::None => None,
        };
        let names = [
            kinds.activity.then_some("activity"),
            flow,
            kinds.email.then_some("email"),
        ];
        let names = names.into_iter().flatten();
        if names.clone().next().is_none() {
            return f.write_str("amplitude only");
        }
        Join(names, ", ").fmt(f)
    }
}

/// Links (`<https://..>`) or plain cells, one per line of the cell.
struct Links<'a>(&'a [String]);

impl Display for Links<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (n, item) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str("<br>")?;
            }
            if item.starts_with("http") {
                f.write_char('<')?;
                f.write_str(item)?;
                f.write_char('>')?;
            } else {
                Cell(item).fmt(f)?;
            }
        }
        Ok(())
    }
}

/// How a property type reads in a table.
pub fn type_text(ty: &PropertyType) -> String {
    TypeText(ty).to_string()
}

struct TypeText<'a>(&'a PropertyType);

impl Display for TypeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PropertyType::String {
                pattern,
                max_length,
            } => {
                f.write_str("string")?;
                if let Some(max) = max_length {
                    write!(f, " (at most {max} characters)")?;
                }
                if let Some(p) = pattern {
                    write!(f, " matching {}", Code(&p.js))?;
                }
                Ok(())
            }
            PropertyType::Hex { length: Some(n) } => write!(f, "hex, {n} characters"),
            PropertyType::Hex { length: None } => f.write_str("hex"),
            PropertyType::Integer {
                min: None,
                max: None,
            } => f.write_str("integer"),
            PropertyType::Integer { min, max } => {
                f.write_str("integer ")?;
                if let Some(min) = min {
                    write!(f, "{min}")?;
                }
                f.write_str("..=")?;
                if let Some(max) = max {
                    write!(f, "{max}")?;
                }
                Ok(())
            }
            PropertyType::Boolean => f.write_str("boolean"),
            PropertyType::Enum { values } => {
                write!(
                    f,
                    "one of {}",
                    Join(values.iter().map(|v| Code(&v.value)), ", ")
                )
            }
            PropertyType::List { items } => write!(f, "list of {}", TypeText(items)),
        }
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

/// The amplitude `event_type`s an example produces, or `nothing`.
struct EventTypes<'a>(&'a [String]);

impl Display for EventTypes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("nothing");
        }
        Join(self.0.iter().map(|t| Code(t)), ", ").fmt(f)
    }
}

/// What an example name produces (lowering evaluated it), as a cell.
fn amplitude_text(service: &Service, name: &str, outcome: &Outcome) -> Result<String, fmt::Error> {
    let mut out = String::new();
    // A policy rewrite depends on data the example does not have: say what it does.
    let rewrite = service
        .amplitude
        .policy
        .rewrites
        .iter()
        .find(|r| r.event == name);
    if let Some(rewrite) = rewrite {
        let template = rewrite_template(&rewrite.to);
        write!(
            out,
            "rewritten to {} before mapping; without that data, {} gives ",
            Code(&template),
            Code(&outcome.name)
        )?;
    }
    write!(out, "{}", EventTypes(&outcome.event_types))?;
    match outcome.resolved {
        Resolved::Exact => out.push_str(" (exact name)"),
        Resolved::Rule(i) => write!(out, " ([rule {}]({}#rule-{0}))", i + 1, rules_page(service))?,
        Resolved::None => out.push_str(" (no exact name or rule matches)"),
    }
    if rewrite.is_none() && outcome.name != name {
        write!(out, ", as {}", Code(&outcome.name))?;
    }
    Ok(out)
}

/// The example as one mozlog-style JSON object: the event name first, then its data.
/// A property named `event` takes the name's place, as inserting the data after the name into
/// one JSON object does.
fn json_line(name: &str, data: &Map<String, serde_json::Value>) -> Result<String, fmt::Error> {
    let write = |line: &mut Vec<u8>| -> serde_json::Result<()> {
        let mut serializer = serde_json::Serializer::new(line);
        let mut object = serializer.serialize_map(Some(data.len() + 1))?;
        match data.get("event") {
            Some(event) => object.serialize_entry("event", event)?,
            None => object.serialize_entry("event", name)?,
        }
        for (key, value) in data.iter().filter(|(key, _)| *key != "event") {
            object.serialize_entry(key, value)?;
        }
        object.end()
    };
    let mut line = Vec::with_capacity(128);
    write(&mut line).map_err(|_| fmt::Error)?;
    String::from_utf8(line).map_err(|_| fmt::Error)
}

/// What an event's or a family's example produces, and its example line.
#[derive(Debug)]
struct Example {
    /// The example's event name (a family's name with example parameters).
    name: String,
    amplitude: String,
    json: String,
    /// The event properties its groups add, one group a line.
    groups: Vec<String>,
}

fn example(service: &Service, example: &EventExample) -> Result<Example, fmt::Error> {
    let mut amplitude = amplitude_text(service, &example.name, &example.outcome)?;
    if let (Resolved::Rule(i), true) = (
        example.outcome.resolved,
        example.outcome.event_types.is_empty(),
    ) && let Some(why) = why_nothing(service, i, &example.outcome.name, &example.data)
    {
        write!(amplitude, ": {why}")?;
    }
    let groups = group_properties_of(service, &example.outcome.event_types);
    Ok(Example {
        name: example.name.clone(),
        amplitude,
        json: json_line(&example.name, &example.data)?,
        groups,
    })
}

/// Why rule `index`, which matches `name`, produces nothing for it: the table lookups its
/// group and `when` make that miss, and the data its `when` reads that is absent.
fn why_nothing(
    service: &Service,
    index: usize,
    name: &str,
    data: &Map<String, serde_json::Value>,
) -> Option<String> {
    use crate::model::Capture;
    let amplitude = &service.amplitude;
    let rule = amplitude.rules.get(index)?;
    let captures = amplitude.compiled.regex(index)?.captures(name)?;
    let capture = |c: Capture| {
        let n = captures.len();
        match c {
            Capture::Category if n >= 2 => captures.get(1).map(|m| m.as_str()),
            Capture::Target if n == 3 => captures.get(2).map(|m| m.as_str()),
            _ => None,
        }
    };
    let misses = |table: usize, key: Capture| -> Option<String> {
        let t = amplitude.tables.get(table)?;
        let value = capture(key).unwrap_or("");
        (!t.entries.iter().any(|(k, _)| k == value))
            .then(|| format!("{} has no entry {}", Code(&t.name), Code(value)))
    };
    let mut reasons = Vec::new();
    for target in &rule.targets {
        if let GroupExpr::Lookup { table, key } = &target.group {
            reasons.extend(misses(table.0, *key));
        }
        for cond in &target.when {
            match cond {
                Cond::Truthy(Value::Lookup { table, key }) => reasons.extend(misses(table.0, *key)),
                Cond::Truthy(Value::Data(key)) if !data.contains_key(key) => {
                    reasons.push(format!("its `when` needs {}", Code(&format!("data.{key}"))));
                }
                _ => {}
            }
        }
    }
    reasons.dedup();
    (!reasons.is_empty()).then(|| reasons.join(", "))
}

/// The event properties that the groups of these amplitude events add, one group a line.
fn group_properties_of(service: &Service, event_types: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen = Vec::new();
    for event_type in event_types {
        let Some((prefix, _)) = event_type.split_once(" - ") else {
            continue;
        };
        let group = service
            .amplitude
            .groups
            .values()
            .find(|g| g.prefix == prefix);
        if let Some(g) = group
            && !seen.contains(&g.key)
            && let Some(props) = &g.event_properties
        {
            seen.push(g.key.clone());
            lines.push(format!(
                "[{}](#amplitude-groups): {}",
                Code(&g.key),
                group_properties(service, props)
            ));
        }
    }
    lines
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
                Anchor("table", &t.name)
            )
        })
        .unwrap_or_else(|| format!("table {id}"))
}

fn value_text(service: &Service, v: &Value) -> String {
    match v {
        Value::Literal(t) => Code(&format!("{t:?}")).to_string(),
        Value::Capture(c) => format!("`{}`", capture_name(*c)),
        Value::Data(k) => Code(&format!("data.{k}")).to_string(),
        Value::Lookup { table, key } => {
            format!("{}[`{}`]", table_name(service, table.0), capture_name(*key))
        }
        Value::LookupData { table, key } => {
            format!("{}[`data.{key}`]", table_name(service, table.0))
        }
    }
}

pub(crate) fn capture_name(c: crate::model::Capture) -> &'static str {
    match c {
        crate::model::Capture::Category => "category",
        crate::model::Capture::Target => "target",
    }
}

fn cond_text(service: &Service, c: &Cond) -> String {
    match c {
        Cond::Truthy(v) => value_text(service, v),
        Cond::EventIs(e) => format!("event is {}", Code(e)),
    }
}

fn conds_text(service: &Service, conds: &[Cond]) -> String {
    Join(conds.iter().map(|c| cond_text(service, c)), " and ").to_string()
}

/// A target's group and event name as text: `fxa_login` or `<view_groups[category]>`, and
/// `engage` or `<target>` (the user templates show the same).
pub(crate) fn group_and_event(service: &Service, t: &Target) -> (String, String) {
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
            Part::SnakeCapture(c) => format!("<snake_case({})>", capture_name(*c)),
        })
        .collect();
    (group, event)
}

/// What a target produces, e.g. `fxa_login - success` or `<view_groups[category]> - engage`.
fn target_text(service: &Service, t: &Target) -> String {
    let (group, event) = group_and_event(service, t);
    let mut s = Code(&format!("{group} - {event}")).to_string();
    if !t.when.is_empty() {
        s.push_str(" when ");
        s.push_str(&conds_text(service, &t.when));
    }
    if let Some(offset) = t.time_offset {
        s.push_str(&format!(" (time {offset:+} ms)"));
    }
    s
}

fn targets_text(service: &Service, targets: &[Target]) -> String {
    Join(targets.iter().map(|t| target_text(service, t)), ", then ").to_string()
}

fn source_name(service: &Service) -> String {
    service
        .files
        .first()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| service.name.clone())
}

// ---- the service page -------------------------------------------------------------------------

/// The pages of one service: `<service>.md` and `<service>-rules.md`, with their contents.
///
/// # Errors
/// A formatting error, which writing to a `String` never returns (kept for the driver).
pub fn render_service(service: &Service) -> Result<Vec<(String, String)>, String> {
    let service_md = write_service_page(service).map_err(|e| e.to_string())?;
    let rules_md = write_rules_page(service).map_err(|e| e.to_string())?;
    Ok(vec![
        (service_page(service), service_md),
        (rules_page(service), rules_md),
    ])
}

/// About the length of a service page, so its text is rarely copied as it grows.
fn service_page_len(service: &Service) -> usize {
    let properties: usize = (service.events.values().map(|e| e.properties.len()))
        .chain(service.families.values().map(|f| f.properties.len()))
        .sum();
    4096 + 800 * (service.events.len() + service.families.len())
        + 160 * properties
        + 100 * service.amplitude.exact.len()
}

/// What the docs say of an event or family that says `amplitude: false`.
const NOT_SENT: &str = "not sent, on purpose (`amplitude: false`)";

fn write_service_page(service: &Service) -> Result<String, fmt::Error> {
    let amplitude = &service.amplitude;
    // The events table and each event's section both show what its example maps to.
    let examples = service
        .events
        .values()
        .map(|e| {
            let mut example = example(service, &e.example)?;
            if e.amplitude == Some(MappedBy::Excluded) {
                example.amplitude = NOT_SENT.to_owned();
            }
            Ok(example)
        })
        .collect::<Result<Vec<_>, fmt::Error>>()?;
    let mut p = String::with_capacity(service_page_len(service));
    write!(
        p,
        "# {name}\n\
         \n\
         Generated by metricsmith from `{source}`; do not edit.\n\
         \n\
         {description}\n\
         \n\
         - [Events](#events) ({events})\n\
         - [Event families](#event-families) ({families})\n\
         - [Amplitude groups](#amplitude-groups) and [tables](#lookup-tables)\n\
         - [Mapping rules]({rules_page}) ({rules}) and [exact names](#exact-names) ({exact})\n\
         - [What Amplitude receives: layout and policy](#layout-and-policy)\n\
         - [JSON Schema of the amplitude events]({json_schema})\n\
         \n\
         Sensitivity, in the property tables, is Mozilla's data collection category: \
         1 technical, 2 interaction, 3 stored content or identifiers, 4 highly sensitive.\n\
         To see what real log lines of this service become, run them through \
         `metricsmith map --schema <dir>/{entry}` (JSON Lines in, the amplitude events out).\n",
        name = service.name,
        source = source_name(service),
        description = service.description.as_deref().unwrap_or("").trim(),
        events = service.events.len(),
        families = service.families.len(),
        rules_page = rules_page(service),
        rules = amplitude.rules.len(),
        exact = amplitude.exact.len(),
        json_schema = schema_file(service),
        entry = service
            .files
            .first()
            .map_or_else(|| service.name.clone(), |f| relative_to_root(Some(f), f)),
    )?;
    if let Some(m) = &service.mozlog {
        let stream = match m.stream {
            crate::model::Stream::Stdout => "stdout",
            crate::model::Stream::Stderr => "stderr",
        };
        write!(
            p,
            "\nLines go to the mozlog logger `{}` on {stream}.\n",
            m.logger
        )?;
    }
    write_defaults(&mut p, service)?;
    write_events(&mut p, service, &examples)?;
    write_families(&mut p, service)?;
    write_groups(&mut p, service)?;
    write_tables(&mut p, service)?;
    write_exact(&mut p, service)?;
    write_layout(&mut p, service)?;
    Ok(tidy(p))
}

/// A time window in the largest unit that divides it (`7 days`, `12 hours`, `500 ms`).
struct Duration(i64);

impl Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, &str); 4] = [
            (86_400_000, "day"),
            (3_600_000, "hour"),
            (60_000, "minute"),
            (1_000, "second"),
        ];
        for (size, unit) in UNITS {
            if self.0 != 0 && self.0 % size == 0 {
                let n = self.0 / size;
                return write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" });
            }
        }
        write!(f, "{} ms", self.0)
    }
}

/// The `Group properties` rows of an event or family table, if its groups add any.
struct GroupRows<'a>(&'a [String]);

impl Display for GroupRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        writeln!(f, "| Group properties | {} |", self.0.join("<br>"))
    }
}

/// Where a layout value comes from, in words.
struct SourceText<'a>(&'a crate::model::Source);

impl Display for SourceText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::model::Source;
        match self.0 {
            Source::Data(key) => write!(f, "{}", Code(&format!("data.{key}"))),
            Source::AppVersion => f.write_str("the configured app version"),
            Source::ServiceName => f.write_str("the service name (see below)"),
            Source::OauthClientId => f.write_str("the OAuth client id (see below)"),
            Source::Experiments(key) => write!(
                f,
                "each `{{choice, group}}` of {} as `choice_group`",
                Code(&format!("data.{key}"))
            ),
            Source::NonEmptyArray(key) => write!(
                f,
                "{} when it is a non-empty list",
                Code(&format!("data.{key}"))
            ),
            Source::SnakeCaseItems(key) => write!(
                f,
                "the string items of {} in snake case, when it is a non-empty list",
                Code(&format!("data.{key}"))
            ),
            Source::Literal(text) => write!(f, "the text {}", Code(text)),
        }
    }
}

/// The privacy-relevant part: which data becomes which Amplitude field, and which events are
/// dropped and why.
fn write_layout(p: &mut String, service: &Service) -> fmt::Result {
    let amplitude = &service.amplitude;
    p.push_str("\n## Layout and policy\n\n");
    let Some(layout) = &amplitude.layout else {
        p.push_str(
            "This service declares no layout: its amplitude events carry no user or device.\n",
        );
        return Ok(());
    };
    p.push_str(
        "What every amplitude event of this service carries, and where it comes from; a field whose source is empty is left out.\n",
    );
    let sections: [(&str, &[crate::model::Field]); 5] = [
        ("", &layout.fields),
        ("event_properties.", &layout.event_properties),
        ("user_properties.", &layout.user_properties),
        ("user_properties.$append.", &layout.append),
        ("user_properties.", &layout.user_properties_tail),
    ];
    p.push_str("\n| Amplitude field | From |\n|---|---|\n");
    for (prefix, fields) in sections {
        for field in fields {
            writeln!(
                p,
                "| {} | {} |",
                Code(&format!("{prefix}{}", field.name)),
                SourceText(&field.source)
            )?;
        }
    }
    if let Some(counts) = &layout.device_counts {
        writeln!(
            p,
            "| {} | the number of devices in {} |",
            Code(&format!("user_properties.{}", counts.count)),
            Code(&format!("data.{}", counts.data))
        )?;
        for (name, ms) in &counts.windows {
            writeln!(
                p,
                "| {} | the devices in {} whose {} is within the last {} |",
                Code(&format!("user_properties.{name}")),
                Code(&format!("data.{}", counts.data)),
                Code(&counts.time_key),
                Duration(*ms)
            )?;
        }
    }
    if let Some(n) = &layout.newsletter {
        writeln!(
            p,
            "| {} | {} or {} from {}, or by the event's category |",
            Code(&format!("user_properties.{}", n.name)),
            Code(&n.when_true),
            Code(&n.when_false),
            Code(&format!("data.{}", n.data))
        )?;
    }
    let fields: Vec<&str> = layout.fields.iter().map(|f| f.name.as_str()).collect();
    for (field, what) in [("user_id", "the user"), ("device_id", "the device")] {
        if !fields.contains(&field) {
            writeln!(
                p,
                "\nNo event carries {what}: the layout sets no {}.",
                Code(field)
            )?;
        }
    }
    if let Some(rule) = &layout.service {
        writeln!(
            p,
            "\nThe service name and OAuth client id come from {}: {} give neither, {} are their own name, any other value is an OAuth client id, named by the configured OAuth clients or {}.",
            Code(&format!("data.{}", rule.data)),
            Join(rule.ignore.iter().map(|v| Code(v)), ", "),
            Join(rule.passthrough.iter().map(|v| Code(v)), ", "),
            Code(&rule.unknown)
        )?;
    }
    let policy = &amplitude.policy;
    p.push_str("\nDropped events:\n\n");
    p.push_str("- an event whose name no exact name or rule maps, or whose rule's `when` fails, is not sent;\n");
    if policy.require_user_or_device {
        p.push_str("- an event with neither a `user_id` nor a `device_id` is not sent (`require: user_or_device`);\n");
    }
    p.push_str(if policy.time_falls_back_to_now {
        "- an event without a time is sent with the time it is mapped at (`time: event_or_now`).\n"
    } else {
        "- an event without a time is sent without one.\n"
    });
    for rewrite in &policy.rewrites {
        let to = rewrite_template(&rewrite.to);
        writeln!(
            p,
            "\n{} is renamed to {} before it is mapped.",
            Code(&rewrite.event),
            Code(&to)
        )?;
    }
    Ok(())
}

fn write_events(p: &mut String, service: &Service, examples: &[Example]) -> fmt::Result {
    p.push_str(
        "\n\
         ## Events\n\
         \n\
         | Event | Kinds | Amplitude |\n\
         |---|---|---|\n",
    );
    for (e, example) in service.events.values().zip(examples) {
        writeln!(
            p,
            "| [`{name}`](#{anchor}) | {kinds} | {amplitude} |",
            name = e.name,
            anchor = Anchor("event", &e.name),
            kinds = KindsText(&e.kinds),
            amplitude = example.amplitude,
        )?;
    }
    for (e, example) in service.events.values().zip(examples) {
        write_event(p, service, e, example)?;
    }
    Ok(())
}

fn write_event(p: &mut String, service: &Service, e: &Event, example: &Example) -> fmt::Result {
    write!(
        p,
        "\n\
         <a id=\"{anchor}\"></a>\n\
         ### `{name}`\n\
         \n\
         {description}\n\
         \n\
         | | |\n\
         |---|---|\n\
         | Kinds | {kinds} |\n\
         | Amplitude | {amplitude} |\n\
         {groups}\
         | Rust | `{rust_name}` |\n",
        anchor = Anchor("event", &e.name),
        name = e.name,
        description = e.description.trim(),
        kinds = KindsText(&e.kinds),
        amplitude = example.amplitude,
        groups = GroupRows(&example.groups),
        rust_name = e.rust_name,
    )?;
    write_definition_facts(p, service, e.logger.as_deref(), &e.governance, &e.location)?;
    write_properties(p, &e.properties)?;
    write_example(p, example)
}

/// A definition's logger, its governance where it differs from the service's defaults (shown
/// once at the top of the page), and where it is defined, relative to the schema's root.
fn write_definition_facts(
    p: &mut String,
    service: &Service,
    logger: Option<&str>,
    g: &Governance,
    location: &crate::model::Location,
) -> fmt::Result {
    if let Some(logger) = logger {
        writeln!(p, "| Logger | {} |", Code(logger))?;
    }
    let d = &service.defaults;
    if g.owners != d.owners {
        writeln!(p, "| Owners | {} |", Links(&g.owners))?;
    }
    if g.bugs != d.bugs {
        writeln!(p, "| Bugs | {} |", Links(&g.bugs))?;
    }
    if g.data_reviews != d.data_reviews {
        writeln!(p, "| Data reviews | {} |", Links(&g.data_reviews))?;
    }
    if g.expires != d.expires {
        match g.expires {
            Some(expires) => writeln!(p, "| Expires | {expires} |")?,
            None => writeln!(p, "| Expires | not set |")?,
        }
    }
    if let Some(v) = g.version {
        writeln!(p, "| Since | v{v} |")?;
    }
    writeln!(
        p,
        "| Defined at | `{}:{}` |",
        relative_to_root(
            service.files.first().map(std::path::PathBuf::as_path),
            &location.file
        ),
        location.line
    )
}

/// The service's governance defaults, which every definition that shows none has.
fn write_defaults(p: &mut String, service: &Service) -> fmt::Result {
    let d = &service.defaults;
    p.push_str("\nUnless a definition below says otherwise:\n\n| | |\n|---|---|\n");
    writeln!(p, "| Owners | {} |", Links(&d.owners))?;
    writeln!(p, "| Bugs | {} |", Links(&d.bugs))?;
    writeln!(p, "| Data reviews | {} |", Links(&d.data_reviews))?;
    match d.expires {
        Some(expires) => writeln!(p, "| Expires | {expires} |"),
        None => writeln!(p, "| Expires | not set |"),
    }
}

/// `path` relative to the directory of `entry` (the schema's root), with `/` separators, so
/// the docs do not depend on the path the command line gave.
fn relative_to_root(entry: Option<&std::path::Path>, path: &std::path::Path) -> String {
    let root = entry.and_then(std::path::Path::parent);
    let relative = root.and_then(|r| path.strip_prefix(r).ok()).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

fn write_properties(p: &mut String, properties: &[Property]) -> fmt::Result {
    if properties.is_empty() {
        return Ok(());
    }
    p.push_str(
        "\n\
         | Property | Type | Required | Sensitivity | Description |\n\
         |---|---|---|---|---|\n",
    );
    let mut ty = String::new();
    for property in properties {
        ty.clear();
        // Already escaped for a table cell: its patterns and values are written as `Code`.
        write!(ty, "{}", TypeText(&property.ty))?;
        writeln!(
            p,
            "| `{}` | {} | {} | {} | {} |",
            property.name,
            ty,
            if property.required { "yes" } else { "no" },
            sensitivity(property.sensitivity),
            Cell(property.description.as_deref().unwrap_or(""))
        )?;
    }
    Ok(())
}

fn write_example(p: &mut String, example: &Example) -> fmt::Result {
    write!(
        p,
        "\n\
         Example data of `{name}`:\n\
         \n\
         ```json\n\
         {json}\n\
         ```\n",
        name = example.name,
        json = example.json,
    )
}

fn write_families(p: &mut String, service: &Service) -> fmt::Result {
    p.push_str("\n## Event families\n");
    if service.families.is_empty() {
        p.push_str("\nNone.\n");
    }
    for f in service.families.values() {
        let mut example = example(service, &f.example)?;
        if f.amplitude == Some(MappedBy::Excluded) {
            example.amplitude = NOT_SENT.to_owned();
        }
        write_family(p, service, f, &example)?;
    }
    Ok(())
}

fn write_family(p: &mut String, service: &Service, f: &Family, example: &Example) -> fmt::Result {
    write!(
        p,
        "\n\
         <a id=\"{anchor}\"></a>\n\
         ### `{name}`\n\
         \n\
         {description}\n\
         \n\
         | | |\n\
         |---|---|\n\
         | Kinds | {kinds} |\n\
         | Example | {example} |\n\
         | Amplitude of the example | {amplitude} |\n\
         {groups}\
         | Rust | `{rust_name}::new(..)` |\n",
        anchor = Anchor("family", &f.id),
        name = f.name,
        description = f.description.trim(),
        kinds = KindsText(&f.kinds),
        example = Code(&example.name),
        amplitude = example.amplitude,
        groups = GroupRows(&example.groups),
        rust_name = f.rust_name,
    )?;
    write_definition_facts(p, service, f.logger.as_deref(), &f.governance, &f.location)?;
    p.push_str(
        "\n\
         | Parameter | Type | Sensitivity | Description |\n\
         |---|---|---|---|\n",
    );
    let mut ty = String::new();
    for parameter in &f.parameters {
        ty.clear();
        write!(ty, "{}", TypeText(&parameter.ty))?;
        writeln!(
            p,
            "| `{}` | {} | {} | {} |",
            parameter.name,
            ty,
            sensitivity(parameter.sensitivity),
            Cell(parameter.description.as_deref().unwrap_or(""))
        )?;
    }
    write_properties(p, &f.properties)?;
    write_value_examples(p, service, f)?;
    write_example(p, example)
}

/// What each value of a family's first enum parameter maps to.
fn write_value_examples(p: &mut String, service: &Service, f: &Family) -> fmt::Result {
    let Some(parameter) = f
        .parameters
        .iter()
        .find(|p| matches!(p.ty, PropertyType::Enum { .. }))
    else {
        return Ok(());
    };
    if f.value_examples.is_empty() {
        return Ok(());
    }
    write!(
        p,
        "\nEach value of {}:\n\n| Event | Amplitude |\n|---|---|\n",
        Code(&parameter.name)
    )?;
    for value in &f.value_examples {
        let amplitude = if f.amplitude == Some(MappedBy::Excluded) {
            NOT_SENT.to_owned()
        } else {
            example(service, value)?.amplitude
        };
        writeln!(p, "| {} | {} |", Code(&value.name), amplitude)?;
    }
    Ok(())
}

fn write_groups(p: &mut String, service: &Service) -> fmt::Result {
    p.push_str(
        "\n\
         ## Amplitude groups\n\
         \n\
         | Key | Prefix | Event properties | Description |\n\
         |---|---|---|---|\n",
    );
    for g in service.amplitude.groups.values() {
        let properties = match &g.event_properties {
            Some(props) => group_properties(service, props),
            None => "none".to_owned(),
        };
        writeln!(
            p,
            "| `{}` | `{}` | {properties} | {} |",
            g.key,
            g.prefix,
            Cell(&g.description)
        )?;
    }
    Ok(())
}

/// The event properties a group sets, one per line of the cell.
fn group_properties(service: &Service, props: &crate::model::GroupProperties) -> String {
    let set = Join(
        props.set.iter().map(|prop| {
            let mut text = format!("`{}` = {}", prop.name, value_text(service, &prop.value));
            if !prop.when.is_empty() {
                text.push_str(" if ");
                text.push_str(&conds_text(service, &prop.when));
            }
            text
        }),
        "<br>",
    );
    if props.when.is_empty() {
        set.to_string()
    } else {
        format!("when {}:<br>{set}", conds_text(service, &props.when))
    }
}

fn write_tables(p: &mut String, service: &Service) -> fmt::Result {
    p.push_str("\n## Lookup tables\n");
    for t in &service.amplitude.tables {
        write!(
            p,
            "\n\
             <a id=\"{anchor}\"></a>\n\
             ### `{name}`\n\
             \n\
             {description}\n\
             \n",
            anchor = Anchor("table", &t.name),
            name = t.name,
            description = t.description.trim(),
        )?;
        if t.entries.is_empty() {
            p.push_str("No entries.\n");
            continue;
        }
        let value_header = if t.values_are_groups {
            "Group prefix"
        } else {
            "Value"
        };
        writeln!(p, "| Key | {value_header} |\n|---|---|")?;
        for (k, v) in &t.entries {
            writeln!(p, "| `{k}` | `{v}` |")?;
        }
    }
    Ok(())
}

fn write_exact(p: &mut String, service: &Service) -> fmt::Result {
    p.push_str(
        "\n\
         ## Exact names\n\
         \n\
         | Source name | Amplitude events |\n\
         |---|---|\n",
    );
    for (name, targets) in &service.amplitude.exact {
        writeln!(p, "| `{name}` | {} |", targets_text(service, targets))?;
    }
    Ok(())
}

// ---- the rules page ---------------------------------------------------------------------------

/// A rule's example and what it produces, as a cell.
fn example_cell(rule: &Rule) -> String {
    match &rule.example {
        Some(example) => format!(
            "{} → {}",
            Code(&example.name),
            EventTypes(&example.outcome.event_types)
        ),
        None => "none derived".to_owned(),
    }
}

fn write_rules_page(service: &Service) -> Result<String, fmt::Error> {
    let rules = &service.amplitude.rules;
    let cells: Vec<String> = rules.iter().map(example_cell).collect();
    let mut p = String::with_capacity(2048 + 1024 * rules.len());
    write!(
        p,
        "# {name}: mapping rules\n\
         \n\
         Generated by metricsmith from `{source}`; do not edit.\n\
         \n\
         Exact names are looked up first ([list]({service_page}#exact-names)).\n\
         Every other name is tested against all rules in one pass; the first rule in this order that matches wins, and only its captures are extracted.\n\
         `category` is capture group 1 and `target` group 2 (only when the pattern has exactly two groups).\n",
        name = service.name,
        source = source_name(service),
        service_page = service_page(service),
    )?;
    if rules.is_empty() {
        p.push_str("\nThis service has no rules.\n");
    }
    p.push_str(
        "\n\
         | # | Pattern | Produces | Example |\n\
         |---:|---|---|---|\n",
    );
    for (r, cell) in rules.iter().zip(&cells) {
        writeln!(
            p,
            "| {} | `{}` | {} | {cell} |",
            RuleLink(r.index),
            Escaped(&r.js_pattern),
            targets_text(service, &r.targets),
        )?;
    }
    for (r, cell) in rules.iter().zip(&cells) {
        write_rule(&mut p, service, r, cell)?;
    }
    Ok(tidy(p))
}

fn write_rule(p: &mut String, service: &Service, r: &Rule, example_cell: &str) -> fmt::Result {
    write!(
        p,
        "\n\
         <a id=\"rule-{number}\"></a>\n\
         ## Rule {number}: `{pattern}`\n\
         \n\
         {description}\n\
         \n\
         | | |\n\
         |---|---|\n\
         | Produces | {produces} |\n",
        number = r.index + 1,
        pattern = r.js_pattern,
        description = r.description.as_deref().unwrap_or("").trim(),
        produces = targets_text(service, &r.targets),
    )?;
    if r.js_pattern != r.rust_pattern {
        writeln!(p, "| As Rust regex | {} |", Code(&r.rust_pattern))?;
    }
    writeln!(p, "| Example | {example_cell} |")?;
    // Never wins, decided on automata by the front end's analysis.
    if r.shadowed {
        if r.shadowed_by.is_empty() {
            p.push_str("| Shadowed | never wins |\n");
        } else {
            writeln!(
                p,
                "| Shadowed | never wins: every name it matches is taken by rule {} |",
                Join(r.shadowed_by.iter().map(|&i| RuleLink(i)), ", ")
            )?;
        }
    }
    // Overlaps shown by examples: earlier rules that match this rule's example, later rules
    // whose examples this rule matches (so it takes them first).
    if let Some(example) = &r.example {
        let earlier = example.matching.iter().filter(|&&i| i < r.index);
        if earlier.clone().next().is_some() {
            writeln!(
                p,
                "| Taken by earlier rules | {} also match {} |",
                Join(earlier.map(|&i| RuleLink(i)), ", "),
                Code(&example.name)
            )?;
        }
    }
    if !r.takes_from.is_empty() {
        writeln!(
            p,
            "| Takes names of later rules | matches the examples of rule {} |",
            Join(r.takes_from.iter().map(|&o| RuleLink(o)), ", ")
        )?;
    }
    if !r.exact_matched.is_empty() {
        writeln!(
            p,
            "| Exact names it also matches (exact wins) | {} |",
            Join(r.exact_matched.iter().map(|n| Code(n)), ", ")
        )?;
    }
    writeln!(
        p,
        "| Defined at | `{}:{}` |",
        relative_to_root(
            service.files.first().map(std::path::PathBuf::as_path),
            &r.location.file
        ),
        r.location.line
    )
}

// ---- the index page ---------------------------------------------------------------------------

/// The index page of every service.
///
/// # Errors
/// A formatting error, which writing to a `String` never returns (kept for the driver).
pub fn render_index(model: &Model) -> Result<String, String> {
    write_index(model).map_err(|e| e.to_string())
}

fn write_index(model: &Model) -> Result<String, fmt::Error> {
    let mut sources: Vec<String> = model.services.values().map(source_name).collect();
    sources.sort();
    let mut p = String::with_capacity(1024 + 512 * model.services.len());
    write!(
        p,
        "# Metrics services\n\
         \n\
         Generated by metricsmith from {sources}; do not edit.\n\
         \n\
         | Service | Events | Families | Rules | Description |\n\
         |---|---:|---:|---:|---|\n",
        sources = Join(sources.iter().map(|s| format!("`{s}`")), ", "),
    )?;
    for s in model.services.values() {
        writeln!(
            p,
            "| [{}]({}) | {} | {} | {} | {} |",
            s.name,
            service_page(s),
            s.events.len(),
            s.families.len(),
            s.amplitude.rules.len(),
            Cell(s.description.as_deref().unwrap_or(""))
        )?;
    }
    let collectors: Vec<_> = model
        .services
        .values()
        .filter_map(|s| Some((s, s.collector.as_ref()?)))
        .collect();
    if !collectors.is_empty() {
        p.push_str("\nWhat front ends post:\n\n");
        for (s, c) in collectors {
            writeln!(
                p,
                "- [`POST {}` of {}]({}-collector.md), and its JSON Schema `{}.collector-body.schema.json`",
                c.path, s.name, s.name, s.name
            )?;
        }
    }
    Ok(tidy(p))
}

/// A policy rewrite's target as the docs show it: its text, with `{data.KEY}` for each data part.
fn rewrite_template(to: &[crate::model::RewritePart]) -> String {
    to.iter()
        .map(|part| match part {
            crate::model::RewritePart::Text(text) => text.clone(),
            crate::model::RewritePart::Data(key) => format!("{{data.{key}}}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// How pages were tidied when they came from templates: the reference for [`tidy`].
    fn tidy_lines(text: &str) -> String {
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
        format!("{}\n", out.trim_end())
    }

    #[test]
    fn cells_are_one_line_with_escaped_pipes() {
        assert_eq!(Cell("a |\n b").to_string(), "a \\| b");
        assert_eq!(Cell("a b|c").to_string(), "a b\\|c");
        assert_eq!(Code("x|y").to_string(), "`x\\|y`");
    }

    #[test]
    fn anchors_are_slugs() {
        assert_eq!(
            Anchor("event", "account.login").to_string(),
            "event-account-login"
        );
        assert_eq!(
            Anchor("table", "View_Groups2").to_string(),
            "table-view-groups2"
        );
        assert_eq!(Anchor("family", "é.x").to_string(), "family---x");
    }

    #[test]
    fn json_lines_put_the_event_first() {
        let data = |pairs: &[(&str, serde_json::Value)]| -> Map<String, serde_json::Value> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        };
        let cases = [
            (data(&[]), r#"{"event":"a.b"}"#),
            (
                data(&[("n", 1.into()), ("s", "x\"y".into())]),
                r#"{"event":"a.b","n":1,"s":"x\"y"}"#,
            ),
            // A property named `event` keeps the first place and replaces the name.
            (
                data(&[("n", 1.into()), ("event", "e".into())]),
                r#"{"event":"e","n":1}"#,
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(json_line("a.b", &data), Ok(expected.to_owned()));
        }
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        let cases = [
            ("a\n\n\n\nb  \n\n", "a\n\nb\n"),
            ("a  \n \t\n\nb", "a\n\nb\n"),
            ("\n\na", "\na\n"),
            ("a\r\n\r\nb\r\n", "a\n\nb\n"),
            ("a\nb\n", "a\nb\n"),
            ("", "\n"),
        ];
        for (text, expected) in cases {
            assert_eq!(tidy(text.to_owned()), expected, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn tidy_matches_line_by_line_tidying(
            parts in prop::collection::vec(
                prop::sample::select(&["a", "|", " ", "\t", "\n", "\r", "\u{a0}", "\u{3000}", "é"][..]),
                0..40,
            )
        ) {
            let text = parts.concat();
            prop_assert_eq!(tidy(text.clone()), tidy_lines(&text));
        }

        #[test]
        fn anchors_map_every_character(name in "[a-zA-Z0-9._é-]{0,12}") {
            let slug: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            prop_assert_eq!(Anchor("event", &name).to_string(), format!("event-{slug}"));
        }

        #[test]
        fn cells_match_joined_words(
            parts in prop::collection::vec(
                prop::sample::select(&["a", "|", " ", "  ", "\t", "\n", "\u{a0}", "é", "`"][..]),
                0..20,
            )
        ) {
            let text = parts.concat();
            let words: Vec<&str> = text.split_whitespace().collect();
            prop_assert_eq!(Cell(&text).to_string(), words.join(" ").replace('|', "\\|"));
        }
    }
}
