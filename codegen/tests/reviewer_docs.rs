//! What reviewers read in the generated docs of schema/fxa (issue 13): the layout and policy,
//! governance once, paths relative to the schema root, the sensitivity legend, the pointer to
//! `metricsmith map`, and patterns whose `|` renders as `|` on GitHub.

use metricsmith_codegen::Builder;

fn pages() -> metricsmith_codegen::Generated {
    let fxa = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/fxa");
    Builder::new()
        .schema(fxa)
        .code(false)
        .docs(true)
        .generate()
        .expect("schema/fxa is valid")
}

#[test]
fn the_layout_and_policy_say_what_amplitude_receives_and_what_is_dropped() {
    let generated = pages();
    let page = generated
        .file("auth-server.md")
        .expect("a page per service");
    assert!(page.contains("\n## Layout and policy\n"), "{page}");
    for row in [
        "| `user_id` | `data.uid` |",
        "| `device_id` | `data.deviceId` |",
        "| `session_id` | `data.flowBeginTime` |",
        "| `language` | `data.lang` |",
        "| `user_properties.flow_id` | `data.flowId` |",
        "the devices in `data.devices` whose `lastAccessTime` is within the last 7 days",
        "an event with neither a `user_id` nor a `device_id` is not sent (`require: user_or_device`)",
        "`flow.complete` is renamed to `flow.complete.{data.flowType}` before it is mapped.",
    ] {
        assert!(page.contains(row), "missing {row:?}");
    }
}

#[test]
fn governance_is_shown_once_unless_a_definition_differs() {
    let generated = pages();
    let page = generated
        .file("oauth-server.md")
        .expect("a page per service");
    assert_eq!(page.matches("| Owners |").count(), 1, "{page}");
    assert!(page.contains("Unless a definition below says otherwise:"));
}

#[test]
fn paths_are_relative_to_the_schema_root() {
    let generated = pages();
    for file in &generated.files {
        assert!(
            !file.contents.contains("| Defined at | `/") && !file.contents.contains("schema/fxa/"),
            "{} names a path from the command line",
            file.path
        );
    }
    let page = generated
        .file("auth-server.md")
        .expect("a page per service");
    assert!(page.contains("| Defined at | `auth-server.yaml:"));
}

#[test]
fn pipes_in_patterns_are_escaped_once() {
    let generated = pages();
    let page = generated
        .file("oauth-server.md")
        .expect("a page per service");
    assert!(
        page.contains("matching `^(?:sync\\|content-server\\|[0-9a-f]{16})$`"),
        "{page}"
    );
    assert!(!page.contains("\\\\|"), "{page}");
}

#[test]
fn the_legend_and_the_map_pointer_are_on_every_service_page() {
    let generated = pages();
    for service in [
        "auth-server",
        "content-server",
        "oauth-server",
        "payments-server",
    ] {
        let page = generated
            .file(&format!("{service}.md"))
            .expect("a page per service");
        assert!(page.contains(
            "1 technical, 2 interaction, 3 stored content or identifiers, 4 highly sensitive"
        ));
        assert!(page.contains(&format!("`metricsmith map --schema <dir>/{service}.yaml`")));
    }
}

#[test]
fn an_event_shows_its_group_properties_and_why_a_matching_rule_gives_nothing() {
    let generated = pages();
    let auth = generated
        .file("auth-server.md")
        .expect("a page per service");
    assert!(
        auth.contains(
            "| Amplitude | nothing ([rule 2](auth-server-rules.md#rule-2)): `email_types` has no entry `confirmation` |"
        ),
        "{auth}"
    );
    let content = generated
        .file("content-server.md")
        .expect("a page per service");
    assert!(
        content.contains("| Group properties | [`connectDevice`](#amplitude-groups): when "),
        "{content}"
    );
}

#[test]
fn family_examples_are_real_and_every_enum_value_is_shown() {
    let generated = pages();
    let content = generated
        .file("content-server.md")
        .expect("a page per service");
    // `view` comes from the declared `flow.signin-totp-code.engage`, not a made-up `a`.
    assert!(
        content.contains("| Example | `flow.signin-totp-code.forgot-password` |"),
        "{content}"
    );
    assert!(content.contains("| Example | `flow.reset-password.submit` |"));
    assert!(content.contains("Each value of `arm`:"));
    assert!(content.contains(
        "| `experiment.treatment.passwordStrength.a` | nothing (no exact name or rule matches) |"
    ));
    assert!(content.contains(
        "| `experiment.designF.passwordStrength.a` | `fxa_reg - password_a` ([rule 1](content-server-rules.md#rule-1)) |"
    ));
}

#[test]
fn a_family_not_sent_on_purpose_says_so() {
    let generated = pages();
    let page = generated
        .file("auth-server.md")
        .expect("a page per service");
    let section = page
        .split("### `account.reminder.{reminder}`")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("the family has a section");
    assert!(
        section
            .contains("| Amplitude of the example | not sent, on purpose (`amplitude: false`) |"),
        "{section}"
    );
    assert!(
        section
            .contains("| `account.reminder.third` | not sent, on purpose (`amplitude: false`) |"),
        "{section}"
    );
    // A family that a rule maps shows the rule.
    assert!(page.contains(
        "| Amplitude of the example | `fxa_login - complete` ([rule 3](auth-server-rules.md#rule-3)) |"
    ));
}
