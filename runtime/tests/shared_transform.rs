//! Spec §8.1: fxa-shared's own test mapper, built by hand as a `MappingSpec`, against the
//! cases of `test/metrics/amplitude.js`.

use metricsmith::amplitude::{
    Capture, Cond, DeviceCounts, Env, Field, GroupExpr, GroupProperties, Layout, Mapping,
    MappingSpec, Newsletter, OauthClients, Part, PropertyRule, Rule, ServiceRule, Source,
    SourceEvent, TableId, Target, Value,
};
use serde_json::Value as Json;

const NOW: i64 = 1_551_700_200_000;
const DAY: i64 = 86_400_000;

fn layout() -> Layout {
    Layout {
        fields: vec![
            Field::new("user_id", Source::data("uid")),
            Field::new("device_id", Source::data("deviceId")),
            Field::new("session_id", Source::data("flowBeginTime")),
            Field::new("app_version", Source::AppVersion),
            Field::new("language", Source::data("lang")),
            Field::new("country", Source::data("country")),
            Field::new("region", Source::data("region")),
            Field::new("os_name", Source::data("os")),
            Field::new("os_version", Source::data("osVersion")),
            Field::new("device_model", Source::data("formFactor")),
        ],
        service: Some(ServiceRule {
            data: "service".into(),
            ignore: vec!["content-server".into()],
            passthrough: vec!["sync".into()],
            unknown: "undefined_oauth".into(),
        }),
        event_properties: vec![
            Field::new("service", Source::ServiceName),
            Field::new("oauth_client_id", Source::OauthClientId),
        ],
        user_properties: vec![
            Field::new("entrypoint", Source::data("entrypoint")),
            Field::new("flow_id", Source::data("flowId")),
            Field::new("ua_browser", Source::data("browser")),
            Field::new("ua_version", Source::data("browserVersion")),
            Field::new("utm_campaign", Source::data("utm_campaign")),
            Field::new("utm_content", Source::data("utm_content")),
            Field::new("utm_medium", Source::data("utm_medium")),
            Field::new("utm_source", Source::data("utm_source")),
            Field::new("utm_term", Source::data("utm_term")),
        ],
        append: vec![
            Field::new("fxa_services_used", Source::ServiceName),
            Field::new("experiments", Source::Experiments("experiments".into())),
        ],
        device_counts: Some(DeviceCounts {
            data: "devices".into(),
            time_key: "lastAccessTime".into(),
            count: "sync_device_count".into(),
            windows: vec![
                ("sync_active_devices_day".into(), DAY),
                ("sync_active_devices_week".into(), 7 * DAY),
                ("sync_active_devices_month".into(), 28 * DAY),
            ],
        }),
        user_properties_tail: vec![],
        user_properties_last: vec![],
        newsletter: Some(Newsletter {
            name: "newsletter_state".into(),
            by_category: vec![
                ("optIn".into(), "subscribed".into()),
                ("optOut".into(), "unsubscribed".into()),
            ],
            data: "marketingOptIn".into(),
            when_true: "subscribed".into(),
            when_false: "unsubscribed".into(),
        }),
    }
}

/// fxa-shared's test mapper (spec §8.1).
fn mapping() -> Mapping {
    let rule = |pattern: &str, t: Target| Rule {
        pattern: pattern.to_owned(),
        targets: vec![t],
    };
    let cat = || Part::Capture(Capture::Category);
    let category = Value::Capture(Capture::Category);
    let spec = MappingSpec {
        service: "shared-test".into(),
        tables: vec![
            vec![
                ("app-store".into(), "store_buttons".into()),
                ("install_from".into(), "store_buttons".into()),
                ("signin_from".into(), "signin".into()),
                ("sms".into(), "sms".into()),
            ],
            vec![("verifySecondaryEmail".into(), "secondary_email".into())],
        ],
        exact: vec![
            (
                "sourceEvent1".into(),
                vec![Target::fixed("fxa_activity", "wibble")],
            ),
            (
                "sourceEvent2".into(),
                vec![Target::fixed("fxa_sms", "blee")],
            ),
        ],
        rules: vec![
            rule("3", Target::fixed("fxa_login", "targetEvent3")),
            rule(
                "^(wibble)\\.(blee)",
                Target::fixed("fxa_reg", "targetEvent4"),
            ),
            rule(
                "wobble\\.(\\w+)\\.(\\w+)",
                Target::new(
                    GroupExpr::Fixed("fxa_login".into()),
                    vec![
                        cat(),
                        Part::Text(".".into()),
                        Part::Capture(Capture::Target),
                    ],
                ),
            ),
            rule(
                "(sms)\\.(\\w+)",
                Target::fixed("fxa_connect_device", "cadEvent"),
            ),
            rule(
                "(verifySecondaryEmail)\\.(\\w+)",
                Target::fixed("fxa_email", "emailEvent"),
            ),
            rule(
                "disconnect\\.(\\w+)\\.(\\w+)",
                Target::fixed("fxa_pref", "disconnect_device"),
            ),
            rule(
                "newsletter\\.(\\w+)\\.(\\w+)",
                Target::fixed("fxa_pref", "newsletterEvent"),
            ),
        ],
        group_properties: vec![
            GroupProperties {
                prefix: "fxa_connect_device".into(),
                when: vec![Cond::Truthy(Value::Lookup {
                    table: TableId(0),
                    key: Capture::Category,
                })],
                set: vec![
                    PropertyRule {
                        name: "connect_device_flow".into(),
                        value: Value::Lookup {
                            table: TableId(0),
                            key: Capture::Category,
                        },
                        when: vec![],
                    },
                    PropertyRule {
                        name: "connect_device_os".into(),
                        value: Value::Capture(Capture::Target),
                        when: vec![Cond::Truthy(Value::Capture(Capture::Target))],
                    },
                ],
            },
            GroupProperties {
                prefix: "fxa_email".into(),
                when: vec![Cond::Truthy(Value::Lookup {
                    table: TableId(1),
                    key: Capture::Category,
                })],
                set: vec![
                    PropertyRule {
                        name: "email_type".into(),
                        value: Value::Lookup {
                            table: TableId(1),
                            key: Capture::Category,
                        },
                        when: vec![],
                    },
                    PropertyRule {
                        name: "email_provider".into(),
                        value: Value::Data("emailDomain".into()),
                        when: vec![],
                    },
                    PropertyRule {
                        name: "email_sender".into(),
                        value: Value::Data("emailSender".into()),
                        when: vec![],
                    },
                    PropertyRule {
                        name: "email_service".into(),
                        value: Value::Data("emailService".into()),
                        when: vec![],
                    },
                    PropertyRule {
                        name: "email_template".into(),
                        value: category.clone(),
                        when: vec![Cond::Truthy(Value::Data("templateVersion".into()))],
                    },
                    PropertyRule {
                        name: "email_version".into(),
                        value: Value::Data("templateVersion".into()),
                        when: vec![Cond::Truthy(Value::Data("templateVersion".into()))],
                    },
                ],
            },
            GroupProperties {
                prefix: "fxa_pref".into(),
                when: vec![
                    Cond::EventIs("disconnect_device".into()),
                    Cond::Truthy(category.clone()),
                ],
                set: vec![PropertyRule {
                    name: "reason".into(),
                    value: category,
                    when: vec![],
                }],
            },
        ],
        layout: layout(),
        policy: Default::default(),
    };
    Mapping::new(spec).expect("the test mapper compiles")
}

/// The cases of fxa-shared's test, shared with the YAML version of this mapper in tests/.
#[test]
fn hand_built_test_mapper_reproduces_fxa_shared_tests() {
    let mapping = mapping();
    let clients: OauthClients = [("foo", "bar"), ("baz", "qux")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: NOW,
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/schemas/shared-test.cases.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut count = 0;
    for line in text.lines() {
        let case: Json = serde_json::from_str(line).unwrap();
        let event = case["event"].as_object().unwrap();
        let source = SourceEvent {
            name: event.get("type"),
            time: event.get("time"),
        };
        let got: Vec<Json> = match case.get("data") {
            Some(Json::Object(data)) => mapping
                .transform(source, data, &env)
                .into_iter()
                .map(|e| Json::Object(e.event))
                .collect(),
            _ => Vec::new(),
        };
        // Key order matters: compare the serialized text.
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&case["output"]).unwrap(),
            "{}",
            case["id"]
        );
        count += 1;
    }
    assert_eq!(count, 15);
}
