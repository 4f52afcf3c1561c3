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
