//! The validated model's Amplitude part as the runtime's `MappingSpec`, value by value.
//!
//! The model mirrors the runtime types (codegen cannot depend on the runtime, which re-exports
//! the proc-macro), so this conversion is mechanical; the Rust backend emits the same values
//! as tokens for generated crates.

use metricsmith::amplitude as rt;
use metricsmith_codegen::model;

/// The runtime spec of one service's mapping.
pub fn mapping_spec(service: &model::Service) -> rt::MappingSpec {
    let amplitude = &service.amplitude;
    rt::MappingSpec {
        service: service.name.clone(),
        tables: amplitude.tables.iter().map(|t| t.entries.clone()).collect(),
        exact: amplitude
            .exact
            .iter()
            .map(|(name, targets)| (name.clone(), targets.iter().map(target).collect()))
            .collect(),
        rules: amplitude
            .rules
            .iter()
            .map(|rule| rt::Rule {
                pattern: rule.rust_pattern.clone(),
                targets: rule.targets.iter().map(target).collect(),
            })
            .collect(),
        group_properties: amplitude
            .groups
            .values()
            .filter_map(|group| {
                let props = group.event_properties.as_ref()?;
                Some(rt::GroupProperties {
                    prefix: group.prefix.clone(),
                    when: props.when.iter().map(cond).collect(),
                    set: props
                        .set
                        .iter()
                        .map(|rule| rt::PropertyRule {
                            name: rule.name.clone(),
                            value: value(&rule.value),
                            when: rule.when.iter().map(cond).collect(),
                        })
                        .collect(),
                })
            })
            .collect(),
        layout: amplitude.layout.as_ref().map(layout).unwrap_or_default(),
        policy: rt::Policy {
            time_falls_back_to_now: amplitude.policy.time_falls_back_to_now,
            require_user_or_device: amplitude.policy.require_user_or_device,
            rewrites: amplitude
                .policy
                .rewrites
                .iter()
                .map(|r| rt::Rewrite {
                    event: r.event.clone(),
                    to: r
                        .to
                        .iter()
                        .map(|p| match p {
                            model::RewritePart::Text(t) => rt::RewritePart::Text(t.clone()),
                            model::RewritePart::Data(k) => rt::RewritePart::Data(k.clone()),
                        })
                        .collect(),
                })
                .collect(),
        },
    }
}

fn capture(c: model::Capture) -> rt::Capture {
    match c {
        model::Capture::Category => rt::Capture::Category,
        model::Capture::Target => rt::Capture::Target,
    }
}

fn target(t: &model::Target) -> rt::Target {
    rt::Target {
        group: match &t.group {
            model::GroupExpr::Fixed(prefix) => rt::GroupExpr::Fixed(prefix.clone()),
            model::GroupExpr::Lookup { table, key } => rt::GroupExpr::Lookup {
                table: rt::TableId(table.0),
                key: capture(*key),
            },
        },
        event: t
            .event
            .iter()
            .map(|p| match p {
                model::Part::Text(s) => rt::Part::Text(s.clone()),
                model::Part::Capture(c) => rt::Part::Capture(capture(*c)),
            })
            .collect(),
        when: t.when.iter().map(cond).collect(),
        time_offset: t.time_offset,
    }
}

fn value(v: &model::Value) -> rt::Value {
    match v {
        model::Value::Literal(s) => rt::Value::Literal(s.clone()),
        model::Value::Capture(c) => rt::Value::Capture(capture(*c)),
        model::Value::Data(k) => rt::Value::Data(k.clone()),
        model::Value::Lookup { table, key } => rt::Value::Lookup {
            table: rt::TableId(table.0),
            key: capture(*key),
        },
        model::Value::LookupData { table, key } => rt::Value::LookupData {
            table: rt::TableId(table.0),
            key: key.clone(),
        },
    }
}

fn cond(c: &model::Cond) -> rt::Cond {
    match c {
        model::Cond::Truthy(v) => rt::Cond::Truthy(value(v)),
        model::Cond::EventIs(name) => rt::Cond::EventIs(name.clone()),
    }
}

fn source(s: &model::Source) -> rt::Source {
    match s {
        model::Source::Data(k) => rt::Source::Data(k.clone()),
        model::Source::AppVersion => rt::Source::AppVersion,
        model::Source::ServiceName => rt::Source::ServiceName,
        model::Source::OauthClientId => rt::Source::OauthClientId,
        model::Source::Experiments(k) => rt::Source::Experiments(k.clone()),
        model::Source::NonEmptyArray(k) => rt::Source::NonEmptyArray(k.clone()),
        model::Source::Literal(s) => rt::Source::Literal(s.clone()),
    }
}

fn fields(fields: &[model::Field]) -> Vec<rt::Field> {
    fields
        .iter()
        .map(|f| rt::Field {
            name: f.name.clone(),
            source: source(&f.source),
        })
        .collect()
}

fn layout(l: &model::Layout) -> rt::Layout {
    rt::Layout {
        fields: fields(&l.fields),
        service: l.service.as_ref().map(|s| rt::ServiceRule {
            data: s.data.clone(),
            ignore: s.ignore.clone(),
            passthrough: s.passthrough.clone(),
            unknown: s.unknown.clone(),
        }),
        event_properties: fields(&l.event_properties),
        user_properties: fields(&l.user_properties),
        append: fields(&l.append),
        device_counts: l.device_counts.as_ref().map(|d| rt::DeviceCounts {
            data: d.data.clone(),
            time_key: d.time_key.clone(),
            count: d.count.clone(),
            windows: d.windows.clone(),
        }),
        user_properties_tail: fields(&l.user_properties_tail),
        newsletter: l.newsletter.as_ref().map(|n| rt::Newsletter {
            name: n.name.clone(),
            by_category: n.by_category.clone(),
            data: n.data.clone(),
            when_true: n.when_true.clone(),
            when_false: n.when_false.clone(),
        }),
    }
}
