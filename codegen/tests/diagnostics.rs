//! The diagnostics corpus: one fixture per rule under `tests/invalid/`, each rendered plain and
//! snapshotted. Run `INSTA_UPDATE=always cargo test -p metricsmith-codegen --test diagnostics`
//! after an intended change and review the `.snap` files.

use std::path::{Path, PathBuf};

use metricsmith_codegen::{Code, Date, Loader, Report, Style};

/// Each fixture and the code it must produce.
const FIXTURES: &[(&str, &str)] = &[
    ("yaml_syntax", "E0005"),
    ("unquoted_brackets_in_when", "E0005"),
    ("unknown_key", "E0007"),
    ("unknown_keys_all_reported", "E0007"),
    ("key_indented_too_far", "E0007"),
    ("invalid_value", "E0008"),
    ("shape_errors_all_reported", "E0008"),
    ("missing_format_version", "E0009"),
    ("empty_file", "E0009"),
    ("unsupported_format_version", "E0009"),
    ("missing_include", "E0010"),
    ("include_cycle", "E0011"),
    ("duplicate_event", "E0012"),
    ("duplicate_key", "E0012"),
    ("invalid_regex", "E0013"),
    ("unsupported_regex", "E0014"),
    ("unknown_group", "E0015"),
    ("unknown_table", "E0016"),
    ("unknown_property", "E0017"),
    ("ident_collision", "E0018"),
    ("value_type_collision", "E0018"),
    ("invalid_kinds", "E0019"),
    ("not_flow_for_services_on_non_flow_event", "E0019"),
    ("family_parameters", "E0020"),
    ("invalid_expression", "E0021"),
    ("capture_unavailable", "E0022"),
    ("function_not_allowed", "E0023"),
    ("table_not_groups", "E0024"),
    ("invalid_expiry", "E0025"),
    ("invalid_constraint", "E0026"),
    ("service_in_include", "E0027"),
    ("duplicate_service", "E0028"),
    ("unknown_lint", "E0029"),
    ("allow_in_wrong_place", "E0029"),
    ("exact_for_undeclared_event", "E0031"),
    ("excluded_event_mapped", "E0032"),
    ("excluded_family_mapped", "E0032"),
    ("missing_layout", "E0033"),
    ("policy_needs_device_id", "E0033"),
    ("unknown_setting", "E0034"),
    ("unknown_body_field", "E0035"),
    ("handler_needs_field", "E0036"),
    ("unknown_language", "E0037"),
    ("collector_constraint", "E0026"),
    ("collector_max_items_not_array", "E0026"),
    ("collector_unknown_key", "E0007"),
    ("not_a_file", "E0002"),
    ("missing_governance", "W0001"),
    ("expired", "W0002"),
    ("expired_default", "W0002"),
    ("naming", "W0003"),
    ("unescaped_dot", "W0004"),
    ("shadowed_rule", "W0005"),
    ("unmatchable_rule", "W0006"),
    ("unmapped_event", "W0007"),
    ("unmapped_family", "W0007"),
    ("exact_also_matched", "I0001"),
    ("analysis_too_large", "I0002"),
];

fn loader() -> Loader {
    let mut loader = Loader::new();
    loader.today(Date {
        year: 2026,
        month: 6,
        day: 1,
    });
    loader
}

fn fixture_path(name: &str) -> PathBuf {
    let dir = Path::new("tests/invalid").join(name);
    if dir.is_dir() {
        dir
    } else {
        Path::new("tests/invalid").join(format!("{name}.yaml"))
    }
}

#[track_caller]
fn check(name: &str) -> Report {
    match loader().load(fixture_path(name)) {
        Ok(checked) => checked.report,
        Err(report) => report,
    }
}

#[test]
fn every_fixture_breaks_its_rule() {
    for &(name, code) in FIXTURES {
        let report = check(name);
        assert!(
            report.diagnostics.iter().any(|d| d.code.as_str() == code),
            "{name} should produce {code}, got:\n{report}"
        );
    }
}

#[test]
fn every_code_has_a_fixture() {
    // I/O-level codes are covered by the generated hostile inputs in tests/hostile.rs, template
    // errors (which are not about a schema) by tests/templates.rs.
    let generated = ["E0001", "E0003", "E0004", "E0006", "E0030"];
    for code in Code::ALL {
        assert!(
            generated.contains(&code.as_str()) || FIXTURES.iter().any(|(_, c)| *c == code.as_str()),
            "{code} has no fixture"
        );
    }
}

#[test]
fn every_fixture_file_is_listed() {
    for entry in std::fs::read_dir("tests/invalid").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        assert!(
            FIXTURES.iter().any(|(n, _)| *n == name),
            "{} is not listed in FIXTURES",
            path.display()
        );
    }
}

#[test]
fn rendered_reports() {
    for &(name, _) in FIXTURES {
        let rendered = check(name).render(Style::Plain);
        insta::assert_snapshot!(name, rendered);
    }
}

#[test]
fn json_reports_have_positions() {
    let json = check("unknown_group").to_json();
    let first = &json["diagnostics"][0];
    assert_eq!(first["code"], "E0015");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 12);
    assert_eq!(first["column"], 28);
    assert_eq!(json["errors"], 1);
    assert_eq!(json["warnings"], 0);
}

#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string("../docs/diagnostics.md").unwrap();
    for code in Code::ALL {
        assert!(
            docs.contains(&format!("## {code}\n")),
            "docs/diagnostics.md has no section for {code}"
        );
    }
}

/// Writes `text` as a schema file of its own and checks it.
#[track_caller]
fn check_text(name: &str, text: &str) -> Report {
    let dir = std::env::temp_dir().join(format!("metricsmith-diagnostics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("the temporary directory is writable");
    let report = match loader().load(&path) {
        Ok(checked) => checked.report,
        Err(report) => report,
    };
    std::fs::remove_file(&path).expect("the file was just written");
    report
}

const HEADER: &str = "metricsmith: 1
service: fixture
defaults: {owners: [a@example.com], bugs: ['https://b/1'], data_reviews: ['https://r/1'], expires: never}
";

#[test]
fn exact_names_of_families_and_rewrites_are_declared() {
    let text = format!(
        "{HEADER}events:
  flow.complete: {{description: A flow completed., kinds: [flow], amplitude: false}}
families:
  view-submit:
    name: 'flow.{{view}}.submit'
    description: A view was submitted.
    kinds: [flow]
    parameters:
      view: {{type: string, pattern: '^[a-z-]+$'}}
  route:
    name: 'route.{{status}}'
    description: A request was answered.
    kinds: [activity, not-flow]
    parameters:
      status: {{type: integer, min: 100, max: 599}}
amplitude:
  groups:
    login: {{prefix: fxa_login, description: Sign-in.}}
  exact:
    flow.reset-password.submit: {{group: login, event: forgot_submit}}
    flow.complete.signin: {{group: login, event: complete}}
    route.200: {{group: login, event: ok}}
    flow.Reset.submit: {{group: login, event: wrong_case}}
    route.700: {{group: login, event: out_of_range}}
  layout:
    fields: {{user_id: data.uid, device_id: data.deviceId}}
  policy:
    rewrites:
      flow.complete: 'flow.complete.{{data.flowType}}'
"
    );
    let report = check_text("families_and_rewrites", &text);
    let unknown: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnknownEvent)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        unknown,
        [
            "exact mapping for `flow.Reset.submit`, which is not a declared event",
            "exact mapping for `route.700`, which is not a declared event",
        ],
        "{report}"
    );
}

#[test]
fn a_layout_without_user_or_device_is_an_error() {
    let text = format!(
        "{HEADER}events:
  account.login: {{description: The user signed in., kinds: [activity, flow]}}
amplitude:
  groups:
    login: {{prefix: fxa_login, description: Sign-in.}}
  exact:
    account.login: {{group: login, event: success}}
  layout:
    fields: {{language: data.lang}}
"
    );
    let report = check_text("layout_without_ids", &text);
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["the layout sets neither `user_id` nor `device_id`"],
        "{report}"
    );
}

#[test]
fn a_service_without_a_mapping_needs_no_layout_or_marker() {
    let text = format!(
        "{HEADER}events:
  account.login: {{description: The user signed in., kinds: [activity, flow]}}
"
    );
    let report = check_text("no_mapping", &text);
    assert!(report.diagnostics.is_empty(), "{report}");
}

#[test]
fn unmapped_event_is_allowed_on_a_family() {
    let text = format!(
        "{HEADER}events:
  account.login: {{description: The user signed in., kinds: [activity, flow]}}
families:
  route:
    name: 'route.{{status}}'
    description: A request was answered.
    kinds: [activity, not-flow]
    parameters:
      status: {{type: integer, min: 100, max: 599}}
    allow: [unmapped-event]
amplitude:
  groups:
    login: {{prefix: fxa_login, description: Sign-in.}}
  exact:
    account.login: {{group: login, event: success}}
  layout:
    fields: {{user_id: data.uid, device_id: data.deviceId}}
"
    );
    let report = check_text("family_allow", &text);
    assert!(report.diagnostics.is_empty(), "{report}");
}

/// The messages of a service with one family (`family`, its YAML indented under
/// `families:`), an exact name for `account.login` and those in `exact`, and the rules in
/// `rules`; only `W0007` and `E0032` may be reported.
#[track_caller]
fn family_coverage(family: &str, exact: &str, rules: &str) -> Vec<String> {
    let text = format!(
        "{HEADER}events:
  account.login: {{description: The user signed in., kinds: [activity, flow]}}
families:
{family}
amplitude:
  groups:
    login: {{prefix: fxa_login, description: Sign-in.}}
  exact:
    account.login: {{group: login, event: success}}
{exact}
  rules:
{rules}
  layout:
    fields: {{user_id: data.uid, device_id: data.deviceId}}
"
    );
    let report = check_text("family_coverage", &text);
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| matches!(d.code, Code::UnmappedEvent | Code::ExcludedButMapped)),
        "{report}"
    );
    report
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect()
}

#[test]
fn a_family_is_mapped_when_one_of_its_names_is() {
    let family = "  view:
    name: 'flow.{view}.view'
    description: A screen was shown.
    kinds: [activity, flow]
    parameters:
      view: {type: string, pattern: '^[a-z]+$', max_length: 10}";
    let excluded = format!("{family}\n    amplitude: false");
    let rule = |pattern: &str| format!("    - {{pattern: '{pattern}', group: login, event: x}}");
    let unmapped = "no exact name or rule maps an event of family `view` (`flow.{view}.view`)";
    let not_sent = "family `view` says its events are not sent to Amplitude, but";
    let other_rule = rule(r"^account\.x$");
    // What maps, the messages without `amplitude: false` and with it.
    let cases = [
        (
            "an exact name",
            "    flow.signin.view: {group: login, event: view}",
            other_rule.clone(),
            vec![],
            vec![format!(
                "{not_sent} an exact mapping maps `flow.signin.view`"
            )],
        ),
        (
            "an unanchored rule",
            "",
            format!("{other_rule}\n{}", rule(r"\.view$")),
            vec![],
            vec![format!("{not_sent} rule 2 maps `flow.a.view`")],
        ),
        (
            "a rule for other names",
            "",
            rule(r"^flow\.[a-z]+\.submit$"),
            vec![unmapped.to_owned()],
            vec![],
        ),
        (
            // Mapped for the warning (the automata see names of the family's shape), but no
            // error: no such name is an event of the family.
            "a rule for names that are not the family's",
            "",
            rule(r"^flow\.[0-9]+\.view$"),
            vec![],
            vec![],
        ),
    ];
    for (what, exact, rules, plain, marked) in cases {
        assert_eq!(family_coverage(family, exact, &rules), plain, "{what}");
        assert_eq!(
            family_coverage(&excluded, exact, &rules),
            marked,
            "{what}, with `amplitude: false`"
        );
    }
}

#[test]
fn a_declared_event_of_a_family_that_a_rule_maps_maps_the_family() {
    let text = format!(
        "{HEADER}events:
  flow.signin.view: {{description: The sign-in screen was shown., kinds: [activity, flow]}}
families:
  view:
    name: 'flow.{{view}}.view'
    description: A screen was shown.
    kinds: [activity, flow]
    parameters:
      view: {{type: string, pattern: '^[a-z]{{2,}}$'}}
    amplitude: false
amplitude:
  groups:
    login: {{prefix: fxa_login, description: Sign-in.}}
  rules:
    - {{pattern: '\\.view$', group: login, event: view}}
  layout:
    fields: {{user_id: data.uid, device_id: data.deviceId}}
"
    );
    let report = check_text("family_event", &text);
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    // The declared event is the name shown: `a`, the plain value, is too short, and the
    // shortest name the rule matches (`flow.a.view`) is no event of the family.
    assert_eq!(
        messages,
        [
            "family `view` says its events are not sent to Amplitude, but rule 1 maps \
             `flow.signin.view`"
        ],
        "{report}"
    );
}
