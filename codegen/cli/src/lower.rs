//! The validated model's Amplitude part as the runtime's `MappingSpec`.
//!
//! The model holds the runtime's own expression and layout types (crate `metricsmith-spec`),
//! so this only drops what reviewers need and the runtime does not (descriptions, locations,
//! shadowing) and attaches each group's properties to its prefix. The Rust backend emits the
//! same values as tokens for generated crates.

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
            .map(|(name, targets)| (name.clone(), targets.clone()))
            .collect(),
        rules: amplitude
            .rules
            .iter()
            .map(|rule| rt::Rule {
                pattern: rule.rust_pattern.clone(),
                targets: rule.targets.clone(),
            })
            .collect(),
        group_properties: amplitude
            .groups
            .values()
            .filter_map(|group| {
                let props = group.event_properties.as_ref()?;
                Some(rt::GroupProperties {
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
