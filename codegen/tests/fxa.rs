//! The reference schema checks cleanly: no error, no warning.

use metricsmith_codegen::model::{FlowKind, GroupExpr, MappedBy, Resolved};
use metricsmith_codegen::{Date, Loader, Severity};

#[test]
fn fxa_schema_has_no_errors_and_no_warnings() {
    let mut loader = Loader::new();
    loader.today(Date {
        year: 2026,
        month: 11,
        day: 29,
    });
    let checked = loader
        .load("../schema/fxa")
        .unwrap_or_else(|report| panic!("{report}"));
    let warnings: Vec<_> = checked
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .collect();
    assert!(warnings.is_empty(), "{}", checked.report);

    let services: Vec<_> = checked.model.services.keys().cloned().collect();
    assert_eq!(
        services,
        [
            "auth-server",
            "content-server",
            "oauth-server",
            "payments-server"
        ]
    );

    let auth = &checked.model.services["auth-server"];
    let login = &auth.events["account.login"];
    assert_eq!(login.rust_name, "AccountLogin");
    assert!(login.kinds.activity);
    assert_eq!(login.kinds.flow, FlowKind::Required);
    assert_eq!(login.amplitude, Some(MappedBy::Exact));
    assert_eq!(login.governance.owners, ["fxa-core@mozilla.com"]);
    assert_eq!(auth.files.len(), 5);
    assert_eq!(
        auth.amplitude.exact["account.reset"].len(),
        2,
        "the `also` target is flattened"
    );
    let complete = &auth.amplitude.rules[2];
    assert!(matches!(
        complete.targets[0].group,
        GroupExpr::Lookup { .. }
    ));
    assert_eq!(auth.amplitude.policy.rewrites.len(), 1);
    assert!(auth.amplitude.policy.require_user_or_device);

    let email = &auth.amplitude.groups["email"];
    assert_eq!(email.prefix, "fxa_email");
    assert_eq!(
        email.event_properties.as_ref().map(|p| p.set.len()),
        Some(6)
    );

    let content = &checked.model.services["content-server"];
    let view_groups = content
        .amplitude
        .tables
        .iter()
        .find(|t| t.name == "view_groups")
        .unwrap();
    assert!(
        view_groups
            .entries
            .contains(&("signin".into(), "fxa_login".into()))
    );
    assert!(content.amplitude.rules.iter().all(|r| !r.shadowed));
    let layout = content.amplitude.layout.as_ref().unwrap();
    assert_eq!(
        layout.device_counts.as_ref().unwrap().windows[1].1,
        7 * 86_400_000
    );
}

#[test]
fn lowering_computes_the_facts_backends_show_unless_turned_off() {
    let load = |facts: bool| {
        let mut loader = Loader::new();
        loader.facts(facts);
        loader
            .load("../schema/fxa")
            .unwrap_or_else(|report| panic!("{report}"))
            .model
    };
    let model = load(true);
    let auth = &model.services["auth-server"];
    // An event's example and what the mapping makes of it.
    let login = &auth.events["account.login"].example;
    assert_eq!(login.name, "account.login");
    assert!(login.complete);
    assert_eq!(login.outcome.resolved, Resolved::Exact);
    assert_eq!(login.outcome.event_types, ["fxa_login - success"]);
    assert!(login.data.contains_key("uid"), "{:?}", login.data);
    // A family's example name fills its parameters.
    let family = auth.families.values().next().expect("a family");
    assert!(
        !family.example.name.contains('{'),
        "{}",
        family.example.name
    );
    // Every rule that compiled has an example, and the rules it overlaps are consistent.
    let content = &model.services["content-server"];
    for rule in &content.amplitude.rules {
        let example = rule.example.as_ref().expect("an example");
        assert!(example.matching.contains(&rule.index), "{rule:?}");
        for &later in &rule.takes_from {
            assert!(later > rule.index);
            let theirs = content.amplitude.rules[later].example.as_ref();
            assert!(theirs.is_some_and(|e| e.matching.contains(&rule.index)));
        }
    }
    // `flow.reset-password.submit` is an exact name that rule 11 also matches.
    assert!(
        content.amplitude.rules[10]
            .exact_matched
            .contains(&"flow.reset-password.submit".to_owned())
    );

    // Turned off (`metricsmith check`), the examples stay empty.
    let model = load(false);
    let auth = &model.services["auth-server"];
    assert!(
        auth.events["account.login"]
            .example
            .outcome
            .event_types
            .is_empty()
    );
    assert!(auth.amplitude.rules.iter().all(|r| r.example.is_none()));
}
