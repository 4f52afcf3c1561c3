//! Field-level changes: services, events, families, properties, kinds, mozlog, tables, groups,
//! governance; then each service's mapping changes from [`super::mapping`].

use std::collections::{BTreeMap, BTreeSet};

use super::mapping::{self, Definition, MappingChange};
use super::names::{Automaton, Size};
use super::{Change, ChangeCode, Severity};
use crate::model::{
    Event, Family, FlowKind, Governance, Location, Model, Property, PropertyType, Service,
};

fn change(
    code: ChangeCode,
    severity: Severity,
    path: String,
    message: String,
    old: Option<String>,
    new: Option<String>,
    location: Option<Location>,
) -> Change {
    Change {
        code,
        severity,
        path,
        message,
        old,
        new,
        location,
        mapping: None,
        allowed: None,
    }
}

/// The entry file of a service, line 1.
fn entry(service: &Service) -> Option<Location> {
    service.files.first().map(|file| Location {
        file: file.clone(),
        line: 1,
        column: 1,
    })
}

pub(super) fn models(old: &Model, new: &Model, out: &mut Vec<Change>) {
    for (name, o) in &old.services {
        match new.services.get(name) {
            Some(n) => services(o, n, out),
            None => out.push(change(
                ChangeCode::ServiceRemoved,
                Severity::Breaking,
                name.clone(),
                format!("service `{name}` was removed"),
                Some(name.clone()),
                None,
                entry(o),
            )),
        }
    }
    for (name, n) in &new.services {
        if !old.services.contains_key(name) {
            out.push(change(
                ChangeCode::ServiceAdded,
                Severity::Compatible,
                name.clone(),
                format!("service `{name}` was added"),
                None,
                Some(name.clone()),
                entry(n),
            ));
        }
    }
}

fn services(old: &Service, new: &Service, out: &mut Vec<Change>) {
    let s = &new.name;
    if old.description != new.description {
        out.push(change(
            ChangeCode::DescriptionChanged,
            Severity::Info,
            format!("{s}.description"),
            "the service's description changed".into(),
            old.description.clone(),
            new.description.clone(),
            entry(new),
        ));
    }
    let logger = |m: &Option<crate::model::Mozlog>| {
        m.as_ref()
            .map(|m| format!("{} ({:?})", m.logger, m.stream).to_lowercase())
    };
    if old.mozlog != new.mozlog {
        out.push(change(
            ChangeCode::MozlogChanged,
            Severity::Breaking,
            format!("{s}.mozlog"),
            "the service's mozlog logger or stream changed: log readers look for the old one"
                .into(),
            logger(&old.mozlog),
            logger(&new.mozlog),
            entry(new),
        ));
    }
    events(old, new, out);
    families(old, new, out);
    amplitude(old, new, out);
}

fn events(old: &Service, new: &Service, out: &mut Vec<Change>) {
    let s = &new.name;
    let removed: Vec<&str> = old
        .events
        .keys()
        .filter(|k| !new.events.contains_key(*k))
        .map(String::as_str)
        .collect();
    let added: Vec<&str> = new
        .events
        .keys()
        .filter(|k| !old.events.contains_key(*k))
        .map(String::as_str)
        .collect();
    let mut renamed: BTreeMap<&str, &str> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for &r in &removed {
        let free = added.iter().copied().filter(|a| !taken.contains(a));
        if let Some(a) = crate::suggest::did_you_mean(r, free) {
            taken.insert(a);
            renamed.insert(r, a);
        }
    }
    for (name, o) in &old.events {
        let path = format!("{s}.events.{name}");
        match new.events.get(name) {
            Some(n) => event(&path, o, n, out),
            None => match renamed.get(name.as_str()) {
                Some(to) => out.push(change(
                    ChangeCode::EventRenamed,
                    Severity::Breaking,
                    path,
                    format!(
                        "event `{name}` was removed and `{to}` added: renamed? Consumers of `{name}` see no more events"
                    ),
                    Some(name.clone()),
                    Some((*to).to_owned()),
                    Some(new.events[*to].location.clone()),
                )),
                None => out.push(change(
                    ChangeCode::EventRemoved,
                    Severity::Breaking,
                    path,
                    format!("event `{name}` was removed"),
                    Some(name.clone()),
                    None,
                    Some(o.location.clone()),
                )),
            },
        }
    }
    for name in added {
        if taken.contains(name) {
            continue;
        }
        let n = &new.events[name];
        out.push(change(
            ChangeCode::EventAdded,
            Severity::Compatible,
            format!("{s}.events.{name}"),
            format!("event `{name}` was added"),
            None,
            Some(name.to_owned()),
            Some(n.location.clone()),
        ));
    }
}

fn flow(kind: FlowKind) -> &'static str {
    match kind {
        FlowKind::Required => "flow",
        FlowKind::Optional => "optional-flow",
        FlowKind::None => "not-flow",
    }
}

/// What an event and a family share.
struct Shape<'a> {
    kinds: crate::model::Kinds,
    not_flow_for_services: &'a [String],
    description: &'a str,
    properties: &'a [Property],
    governance: &'a Governance,
    logger: &'a Option<String>,
    location: &'a Location,
}

impl<'a> From<&'a Event> for Shape<'a> {
    fn from(e: &'a Event) -> Self {
        Shape {
            kinds: e.kinds,
            not_flow_for_services: &e.not_flow_for_services,
            description: &e.description,
            properties: &e.properties,
            governance: &e.governance,
            logger: &e.logger,
            location: &e.location,
        }
    }
}

impl<'a> From<&'a Family> for Shape<'a> {
    fn from(f: &'a Family) -> Self {
        Shape {
            kinds: f.kinds,
            not_flow_for_services: &[],
            description: &f.description,
            properties: &f.properties,
            governance: &f.governance,
            logger: &f.logger,
            location: &f.location,
        }
    }
}

fn event(path: &str, old: &Event, new: &Event, out: &mut Vec<Change>) {
    shape(path, old.into(), new.into(), out);
}

fn shape(path: &str, old: Shape<'_>, new: Shape<'_>, out: &mut Vec<Change>) {
    let loc = || Some(new.location.clone());
    for (kind, a, b) in [
        ("activity", old.kinds.activity, new.kinds.activity),
        ("email", old.kinds.email, new.kinds.email),
    ] {
        if a != b {
            let (code, severity, message) = if a {
                (
                    ChangeCode::KindRemoved,
                    Severity::Breaking,
                    format!("no longer an {kind} event: its {kind}Event lines stop"),
                )
            } else {
                (
                    ChangeCode::KindAdded,
                    Severity::Compatible,
                    format!("now also an {kind} event"),
                )
            };
            out.push(change(
                code,
                severity,
                format!("{path}.kinds.{kind}"),
                message,
                Some(a.to_string()),
                Some(b.to_string()),
                loc(),
            ));
        }
    }
    // Required < Optional < None in declaration order: a larger value is a flow event less often.
    if old.kinds.flow != new.kinds.flow {
        let narrowed = new.kinds.flow > old.kinds.flow;
        out.push(change(
            if narrowed {
                ChangeCode::FlowNarrowed
            } else {
                ChangeCode::FlowWidened
            },
            if narrowed {
                Severity::Breaking
            } else {
                Severity::Compatible
            },
            format!("{path}.kinds.flow"),
            format!(
                "flow kind `{}` became `{}`",
                flow(old.kinds.flow),
                flow(new.kinds.flow)
            ),
            Some(flow(old.kinds.flow).into()),
            Some(flow(new.kinds.flow).into()),
            loc(),
        ));
    }
    if old.not_flow_for_services != new.not_flow_for_services {
        let narrowed = new
            .not_flow_for_services
            .iter()
            .any(|s| !old.not_flow_for_services.contains(s));
        out.push(change(
            if narrowed {
                ChangeCode::FlowNarrowed
            } else {
                ChangeCode::FlowWidened
            },
            if narrowed {
                Severity::Breaking
            } else {
                Severity::Compatible
            },
            format!("{path}.not_flow_for_services"),
            "the services for which it is not a flow event changed".into(),
            Some(old.not_flow_for_services.join(", ")),
            Some(new.not_flow_for_services.join(", ")),
            loc(),
        ));
    }
    if old.description != new.description {
        out.push(change(
            ChangeCode::DescriptionChanged,
            Severity::Info,
            format!("{path}.description"),
            "the description changed".into(),
            Some(old.description.to_owned()),
            Some(new.description.to_owned()),
            loc(),
        ));
    }
    if old.logger != new.logger {
        out.push(change(
            ChangeCode::MozlogChanged,
            Severity::Breaking,
            format!("{path}.logger"),
            "the mozlog logger suffix changed: log readers look for the old one".into(),
            old.logger.clone(),
            new.logger.clone(),
            loc(),
        ));
    }
    governance(path, old.governance, new.governance, new.location, out);
    properties(
        &format!("{path}.properties"),
        old.properties,
        new.properties,
        new.location,
        out,
    );
}

fn governance(
    path: &str,
    old: &Governance,
    new: &Governance,
    at: &Location,
    out: &mut Vec<Change>,
) {
    let list = |v: &[String]| v.join(", ");
    let fields = [
        ("owners", list(&old.owners), list(&new.owners)),
        ("bugs", list(&old.bugs), list(&new.bugs)),
        (
            "data_reviews",
            list(&old.data_reviews),
            list(&new.data_reviews),
        ),
        (
            "expires",
            old.expires.map(|e| e.to_string()).unwrap_or_default(),
            new.expires.map(|e| e.to_string()).unwrap_or_default(),
        ),
        (
            "version",
            old.version.map(|v| v.to_string()).unwrap_or_default(),
            new.version.map(|v| v.to_string()).unwrap_or_default(),
        ),
    ];
    for (field, a, b) in fields {
        if a != b {
            out.push(change(
                ChangeCode::GovernanceChanged,
                Severity::Info,
                format!("{path}.{field}"),
                format!("{field} changed"),
                (!a.is_empty()).then_some(a),
                (!b.is_empty()).then_some(b),
                Some(at.clone()),
            ));
        }
    }
}

fn properties(
    path: &str,
    old: &[Property],
    new: &[Property],
    at: &Location,
    out: &mut Vec<Change>,
) {
    let loc = || Some(at.clone());
    for o in old {
        let p = format!("{path}.{}", o.name);
        let Some(n) = new.iter().find(|n| n.name == o.name) else {
            out.push(change(
                ChangeCode::PropertyRemoved,
                Severity::Breaking,
                p,
                format!("property `{}` was removed", o.name),
                Some(type_name(&o.ty)),
                None,
                loc(),
            ));
            continue;
        };
        if o.required != n.required {
            let (code, severity, message) = if n.required {
                (
                    ChangeCode::PropertyRequired,
                    Severity::Breaking,
                    "now required: producers must send it",
                )
            } else {
                (
                    ChangeCode::PropertyOptional,
                    Severity::Compatible,
                    "now optional",
                )
            };
            out.push(change(
                code,
                severity,
                format!("{p}.required"),
                format!("property `{}` is {message}", o.name),
                Some(o.required.to_string()),
                Some(n.required.to_string()),
                loc(),
            ));
        }
        if o.sensitivity != n.sensitivity {
            out.push(change(
                ChangeCode::SensitivityChanged,
                Severity::Info,
                format!("{p}.sensitivity"),
                format!("the data category of `{}` changed", o.name),
                Some(format!("{:?}", o.sensitivity).to_lowercase()),
                Some(format!("{:?}", n.sensitivity).to_lowercase()),
                loc(),
            ));
        }
        if o.description != n.description {
            out.push(change(
                ChangeCode::DescriptionChanged,
                Severity::Info,
                format!("{p}.description"),
                format!("the description of `{}` changed", o.name),
                o.description.clone(),
                n.description.clone(),
                loc(),
            ));
        }
        types(&p, &o.ty, &n.ty, at, out);
    }
    for n in new {
        if !old.iter().any(|o| o.name == n.name) {
            let (code, severity) = if n.required {
                (ChangeCode::PropertyAddedRequired, Severity::Breaking)
            } else {
                (ChangeCode::PropertyAdded, Severity::Compatible)
            };
            out.push(change(
                code,
                severity,
                format!("{path}.{}", n.name),
                format!(
                    "{} property `{}` was added",
                    if n.required { "required" } else { "optional" },
                    n.name
                ),
                None,
                Some(type_name(&n.ty)),
                loc(),
            ));
        }
    }
}

fn type_name(ty: &PropertyType) -> String {
    match ty {
        PropertyType::String { .. } => "string".into(),
        PropertyType::Hex { .. } => "hex".into(),
        PropertyType::Integer { .. } => "integer".into(),
        PropertyType::Boolean => "boolean".into(),
        PropertyType::Enum { .. } => "enum".into(),
        PropertyType::List { items } => format!("list of {}", type_name(items)),
    }
}

fn show<T: ToString>(v: Option<T>) -> Option<String> {
    Some(v.map_or_else(|| "none".to_owned(), |v| v.to_string()))
}

fn types(path: &str, old: &PropertyType, new: &PropertyType, at: &Location, out: &mut Vec<Change>) {
    let mut push = |code: ChangeCode, field: &str, message: String, a, b| {
        let severity = match code {
            ChangeCode::PatternWidened
            | ChangeCode::LengthWidened
            | ChangeCode::RangeWidened
            | ChangeCode::EnumValueAdded => Severity::Compatible,
            _ => Severity::Breaking,
        };
        out.push(change(
            code,
            severity,
            format!("{path}.{field}"),
            message,
            a,
            b,
            Some(at.clone()),
        ));
    };
    match (old, new) {
        (
            PropertyType::String {
                pattern: pa,
                max_length: la,
            },
            PropertyType::String {
                pattern: pb,
                max_length: lb,
            },
        ) => {
            let js = |p: &Option<crate::model::Pattern>| p.as_ref().map(|p| p.js.clone());
            let rust = |p: &Option<crate::model::Pattern>| {
                p.as_ref()
                    .map_or_else(|| String::from(""), |p| p.rust.clone())
            };
            if js(pa) != js(pb) {
                match pattern_order(&rust(pa), &rust(pb)) {
                    Some(Order::Same) => {}
                    Some(Order::Narrower) => push(
                        ChangeCode::PatternNarrowed,
                        "pattern",
                        "the pattern accepts fewer values".into(),
                        js(pa),
                        js(pb),
                    ),
                    Some(Order::Wider) => push(
                        ChangeCode::PatternWidened,
                        "pattern",
                        "the pattern accepts more values".into(),
                        js(pa),
                        js(pb),
                    ),
                    Some(Order::Other) | None => push(
                        ChangeCode::PatternChanged,
                        "pattern",
                        "the pattern accepts other values".into(),
                        js(pa),
                        js(pb),
                    ),
                }
            }
            if la != lb {
                let narrowed = match (la, lb) {
                    (None, Some(_)) => true,
                    (Some(a), Some(b)) => b < a,
                    _ => false,
                };
                push(
                    if narrowed {
                        ChangeCode::LengthNarrowed
                    } else {
                        ChangeCode::LengthWidened
                    },
                    "max_length",
                    "the maximum length changed".into(),
                    show(*la),
                    show(*lb),
                );
            }
        }
        (PropertyType::Hex { length: a }, PropertyType::Hex { length: b }) => {
            if a != b {
                push(
                    if b.is_none() {
                        ChangeCode::LengthWidened
                    } else {
                        ChangeCode::LengthNarrowed
                    },
                    "length",
                    "the exact length changed".into(),
                    show(*a),
                    show(*b),
                );
            }
        }
        (
            PropertyType::Integer {
                min: mina,
                max: maxa,
            },
            PropertyType::Integer {
                min: minb,
                max: maxb,
            },
        ) => {
            let lo = |v: Option<i64>| v.unwrap_or(i64::MIN);
            let hi = |v: Option<i64>| v.unwrap_or(i64::MAX);
            for (field, a, b, narrowed) in [
                ("min", *mina, *minb, lo(*minb) > lo(*mina)),
                ("max", *maxa, *maxb, hi(*maxb) < hi(*maxa)),
            ] {
                if a != b {
                    push(
                        if narrowed {
                            ChangeCode::RangeNarrowed
                        } else {
                            ChangeCode::RangeWidened
                        },
                        field,
                        format!("the {field}imum changed"),
                        show(a),
                        show(b),
                    );
                }
            }
        }
        (PropertyType::Enum { values: a }, PropertyType::Enum { values: b }) => {
            for v in a.iter().filter(|v| !b.iter().any(|w| w.value == v.value)) {
                push(
                    ChangeCode::EnumValueRemoved,
                    &format!("values.{}", v.value),
                    format!("enum value `{}` was removed", v.value),
                    Some(v.value.clone()),
                    None,
                );
            }
            for v in b.iter().filter(|v| !a.iter().any(|w| w.value == v.value)) {
                push(
                    ChangeCode::EnumValueAdded,
                    &format!("values.{}", v.value),
                    format!("enum value `{}` was added", v.value),
                    None,
                    Some(v.value.clone()),
                );
            }
        }
        (PropertyType::Boolean, PropertyType::Boolean) => {}
        (PropertyType::List { items: a }, PropertyType::List { items: b }) => {
            types(&format!("{path}.items"), a, b, at, out);
        }
        _ => push(
            ChangeCode::TypeChanged,
            "type",
            format!(
                "the type changed from {} to {}",
                type_name(old),
                type_name(new)
            ),
            Some(type_name(old)),
            Some(type_name(new)),
        ),
    }
}

enum Order {
    Same,
    Narrower,
    Wider,
    Other,
}

/// How the values new pattern accepts relate to the old one's, decided on one automaton of
/// both (an empty pattern accepts everything); `None` when the automaton is too large.
fn pattern_order(old: &str, new: &str) -> Option<Order> {
    let automaton = Automaton::new(&[old.to_owned(), new.to_owned()]).ok()?;
    let (mut only_old, mut only_new) = (false, false);
    for s in 0..automaton.states() {
        match automaton.matches(s) {
            [0] => only_old = true,
            [1] => only_new = true,
            _ => {}
        }
    }
    Some(match (only_old, only_new) {
        (false, false) => Order::Same,
        (true, false) => Order::Narrower,
        (false, true) => Order::Wider,
        (true, true) => Order::Other,
    })
}

fn families(old: &Service, new: &Service, out: &mut Vec<Change>) {
    let s = &new.name;
    for (id, o) in &old.families {
        let path = format!("{s}.families.{id}");
        let Some(n) = new.families.get(id) else {
            out.push(change(
                ChangeCode::FamilyRemoved,
                Severity::Breaking,
                path,
                format!("family `{id}` ({}) was removed", o.name),
                Some(o.name.clone()),
                None,
                Some(o.location.clone()),
            ));
            continue;
        };
        if o.name != n.name {
            out.push(change(
                ChangeCode::FamilyNameChanged,
                Severity::Breaking,
                format!("{path}.name"),
                "the family's name template changed: its events get other names".into(),
                Some(o.name.clone()),
                Some(n.name.clone()),
                Some(n.location.clone()),
            ));
        }
        properties(
            &format!("{path}.parameters"),
            &o.parameters,
            &n.parameters,
            &n.location,
            out,
        );
        shape(&path, o.into(), n.into(), out);
    }
    for (id, n) in &new.families {
        if !old.families.contains_key(id) {
            out.push(change(
                ChangeCode::FamilyAdded,
                Severity::Compatible,
                format!("{s}.families.{id}"),
                format!("family `{id}` ({}) was added", n.name),
                None,
                Some(n.name.clone()),
                Some(n.location.clone()),
            ));
        }
    }
}

fn amplitude(old: &Service, new: &Service, out: &mut Vec<Change>) {
    let s = &new.name;
    let (a, b) = (&old.amplitude, &new.amplitude);
    // Tables and groups: what changed in them; their effect on events is a mapping change.
    for t in &a.tables {
        let path = format!("{s}.amplitude.tables.{}", t.name);
        let Some(u) = b.tables.iter().find(|u| u.name == t.name) else {
            out.push(change(
                ChangeCode::TableRemoved,
                Severity::Info,
                path,
                format!("table `{}` was removed", t.name),
                Some(t.name.clone()),
                None,
                entry(new),
            ));
            continue;
        };
        let before: BTreeMap<&str, &str> = t
            .entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let after: BTreeMap<&str, &str> = u
            .entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let keys: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
        for key in keys {
            let (x, y) = (before.get(key), after.get(key));
            let (code, message) = match (x, y) {
                (Some(x), Some(y)) if x == y => continue,
                (Some(_), Some(_)) => (ChangeCode::TableEntryChanged, "maps to another value"),
                (Some(_), None) => (ChangeCode::TableEntryRemoved, "was removed"),
                (None, Some(_)) => (ChangeCode::TableEntryAdded, "was added"),
                (None, None) => continue,
            };
            out.push(change(
                code,
                Severity::Info,
                format!("{path}.entries.{key}"),
                format!("key `{key}` of table `{}` {message}", t.name),
                x.map(|v| (*v).to_owned()),
                y.map(|v| (*v).to_owned()),
                entry(new),
            ));
        }
    }
    for u in &b.tables {
        if !a.tables.iter().any(|t| t.name == u.name) {
            out.push(change(
                ChangeCode::TableAdded,
                Severity::Info,
                format!("{s}.amplitude.tables.{}", u.name),
                format!("table `{}` was added", u.name),
                None,
                Some(u.name.clone()),
                entry(new),
            ));
        }
    }
    let keys: BTreeSet<&String> = a.groups.keys().chain(b.groups.keys()).collect();
    for key in keys {
        let (x, y) = (a.groups.get(key), b.groups.get(key));
        let differs = match (x, y) {
            (Some(x), Some(y)) => {
                x.prefix != y.prefix
                    || x.event_properties.as_ref().map(|p| (&p.when, &p.set))
                        != y.event_properties.as_ref().map(|p| (&p.when, &p.set))
            }
            _ => true,
        };
        if differs {
            out.push(change(
                ChangeCode::GroupChanged,
                Severity::Info,
                format!("{s}.amplitude.groups.{key}"),
                format!("group `{key}` changed (its prefix or event properties)"),
                x.map(|g| g.prefix.clone()),
                y.map(|g| g.prefix.clone()),
                entry(new),
            ));
        }
    }
    match mapping::diff(old, new) {
        Err(err) => out.push(change(
            ChangeCode::MappingTooLarge,
            Severity::Breaking,
            format!("{s}.amplitude"),
            format!("the mappings could not be compared: {}", err.0),
            None,
            None,
            entry(new),
        )),
        Ok(diff) => {
            if diff.layout_changed {
                out.push(change(
                    ChangeCode::LayoutChanged,
                    Severity::Breaking,
                    format!("{s}.amplitude.layout"),
                    "the layout changed: every amplitude event of the service may change shape"
                        .into(),
                    None,
                    None,
                    entry(new),
                ));
            }
            for m in diff.changes {
                out.push(mapping_change(old, new, m));
            }
        }
    }
}

fn describe(service: &Service, d: &Definition) -> String {
    match d {
        Definition::Rewrite(name) => format!("the rewrite of `{name}`"),
        Definition::Exact(name) => format!("the exact entry `{name}`"),
        Definition::Rule(i) => match service.amplitude.rules.get(*i) {
            Some(r) => format!("rule {i} `{}`", r.js_pattern),
            None => format!("rule {i}"),
        },
        Definition::None => "nothing".into(),
    }
}

fn mapping_change(old: &Service, new: &Service, m: MappingChange) -> Change {
    let s = &new.name;
    let path = match (&m.new, &m.old) {
        (Definition::Rewrite(n), _) | (_, Definition::Rewrite(n)) => {
            format!("{s}.amplitude.rewrites.{n}")
        }
        (Definition::Exact(n), _) | (_, Definition::Exact(n)) => {
            format!("{s}.amplitude.exact.{n}")
        }
        (Definition::Rule(j), _) => format!("{s}.amplitude.rules.{j}"),
        (_, Definition::Rule(i)) => format!("{s}.amplitude.rules.{i}"),
        (Definition::None, Definition::None) => format!("{s}.amplitude"),
    };
    let location = match (&m.new, &m.old) {
        (Definition::Rule(j), _) => new.amplitude.rules.get(*j).map(|r| r.location.clone()),
        (_, Definition::Rule(i)) => old.amplitude.rules.get(*i).map(|r| r.location.clone()),
        (Definition::Exact(n) | Definition::Rewrite(n), _)
        | (_, Definition::Exact(n) | Definition::Rewrite(n)) => new
            .events
            .get(n)
            .map(|e| e.location.clone())
            .or_else(|| entry(new)),
        _ => entry(new),
    };
    let dropped = m
        .examples
        .iter()
        .all(|e| e.new.is_empty() && !e.old.is_empty());
    let produced = m
        .examples
        .iter()
        .all(|e| e.old.is_empty() && !e.new.is_empty());
    let (code, severity, what) = if !m.examples.is_empty() && produced {
        (
            ChangeCode::MappingProduced,
            Severity::Compatible,
            "now produce amplitude events",
        )
    } else if !m.examples.is_empty() && dropped {
        (
            ChangeCode::MappingDropped,
            Severity::Breaking,
            "no longer produce amplitude events",
        )
    } else {
        (
            ChangeCode::MappingChanged,
            Severity::Breaking,
            "map differently (event type, group or event properties)",
        )
    };
    let what = if m.names.size == Size::Finite(1) {
        match code {
            ChangeCode::MappingProduced => "now produces amplitude events",
            ChangeCode::MappingDropped => "no longer produces amplitude events",
            _ => "maps differently (event type, group or event properties)",
        }
    } else {
        what
    };
    let count = match m.names.size {
        Size::Finite(1) => "1 name".to_owned(),
        Size::Finite(n) => format!("{n} names"),
        Size::Infinite => "infinitely many names".to_owned(),
    };
    let message = format!(
        "{count} {what}: mapped by {} before, by {} now{}",
        describe(old, &m.old),
        describe(new, &m.new),
        if m.exact {
            ""
        } else {
            " (not exact: the set may hold names whose different captures make both rules produce the same events)"
        }
    );
    Change {
        code,
        severity,
        path,
        message,
        old: Some(describe(old, &m.old)),
        new: Some(describe(new, &m.new)),
        location,
        mapping: Some(m),
        allowed: None,
    }
}
