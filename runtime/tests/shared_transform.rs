//! Spec §8.1: fxa-shared's own test mapper, built by hand as a `MappingSpec`, against the
//! cases of `test/metrics/amplitude.js`.

use metricsmith::amplitude::{
    Capture, Cond, DeviceCounts, Env, Field, GroupExpr, GroupProperties, Layout, Mapping,
    MappingSpec, Newsletter, OauthClients, Part, PropertyRule, Rule, ServiceRule, Source,
    SourceEvent, TableId, Target, Value,
};
use serde_json::{Map, Value as Json, json};

const NOW: i64 = 1_551_700_200_000;
const DAY: i64 = 86_400_000;

fn target(group: &str, event: Vec<Part>) -> Target {
    Target {
        group: GroupExpr::Fixed(group.to_owned()),
        event,
        when: vec![],
        time_offset: None,
    }
}

fn text(s: &str) -> Vec<Part> {
    vec![Part::Text(s.to_owned())]
}

fn field(name: &str, source: Source) -> Field {
    Field {
        name: name.to_owned(),
        source,
    }
}

fn data(key: &str) -> Source {
    Source::Data(key.to_owned())
}

fn layout() -> Layout {
    Layout {
        fields: vec![
            field("user_id", data("uid")),
            field("device_id", data("deviceId")),
            field("session_id", data("flowBeginTime")),
            field("app_version", Source::AppVersion),
            field("language", data("lang")),
            field("country", data("country")),
            field("region", data("region")),
            field("os_name", data("os")),
            field("os_version", data("osVersion")),
            field("device_model", data("formFactor")),
        ],
        service: Some(ServiceRule {
            data: "service".into(),
            ignore: vec!["content-server".into()],
            passthrough: vec!["sync".into()],
            unknown: "undefined_oauth".into(),
        }),
        event_properties: vec![
            field("service", Source::ServiceName),
            field("oauth_client_id", Source::OauthClientId),
        ],
        user_properties: vec![
            field("entrypoint", data("entrypoint")),
            field("flow_id", data("flowId")),
            field("ua_browser", data("browser")),
            field("ua_version", data("browserVersion")),
            field("utm_campaign", data("utm_campaign")),
            field("utm_content", data("utm_content")),
            field("utm_medium", data("utm_medium")),
            field("utm_source", data("utm_source")),
            field("utm_term", data("utm_term")),
        ],
        append: vec![
            field("fxa_services_used", Source::ServiceName),
            field("experiments", Source::Experiments("experiments".into())),
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
            ("sourceEvent1".into(), vec![target("fxa_activity", text("wibble"))]),
            ("sourceEvent2".into(), vec![target("fxa_sms", text("blee"))]),
        ],
        rules: vec![
            rule("3", target("fxa_login", text("targetEvent3"))),
            rule("^(wibble)\\.(blee)", target("fxa_reg", text("targetEvent4"))),
            rule(
                "wobble\\.(\\w+)\\.(\\w+)",
                target(
                    "fxa_login",
                    vec![cat(), Part::Text(".".into()), Part::Capture(Capture::Target)],
                ),
            ),
            rule("(sms)\\.(\\w+)", target("fxa_connect_device", text("cadEvent"))),
            rule(
                "(verifySecondaryEmail)\\.(\\w+)",
                target("fxa_email", text("emailEvent")),
            ),
            rule(
                "disconnect\\.(\\w+)\\.(\\w+)",
                target("fxa_pref", text("disconnect_device")),
            ),
            rule(
                "newsletter\\.(\\w+)\\.(\\w+)",
                target("fxa_pref", text("newsletterEvent")),
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

#[track_caller]
fn check(event: Json, data: Option<Json>, want: Option<Json>) {
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
    let source = SourceEvent {
        name: event.get("type"),
        time: event.get("time"),
    };
    let bag: Map<String, Json> = match data {
        Some(Json::Object(m)) => m,
        _ => Map::new(),
    };
    let got = mapping.transform(source, &bag, &env);
    match want {
        None => assert!(got.is_empty(), "expected nothing, got {got:?}"),
        Some(want) => {
            assert_eq!(got.len(), 1, "{got:?}");
            // Key order matters: compare the serialized text.
            assert_eq!(
                serde_json::to_string(&got[0].event).unwrap(),
                serde_json::to_string(&want).unwrap()
            );
        }
    }
}

#[test]
fn s01_simple_event_with_every_field() {
    let devices = json!([
        {"lastAccessTime": NOW - DAY + 1000},
        {"lastAccessTime": NOW - DAY - 1},
        {"lastAccessTime": NOW - 7 * DAY + 1000},
        {"lastAccessTime": NOW - 7 * DAY - 1},
        {"lastAccessTime": NOW - 28 * DAY + 1000},
        {"lastAccessTime": NOW - 28 * DAY - 1},
    ]);
    check(
        json!({"type":"sourceEvent2","time":42}),
        Some(
            json!({"browser":"a","browserVersion":"b","country":"c","deviceId":"d","devices":devices,"emailDomain":"e","entrypoint":"f","experiments":[{"choice":"g","group":"h"},{"choice":"iI","group":"jJ-J"}],"flowBeginTime":"k","flowId":"l","formFactor":"m","lang":"n","marketingOptIn":"o","os":"p","osVersion":"q","region":"r","service":"baz","templateVersion":"s","uid":"t","utm_campaign":"u","utm_content":"v","utm_medium":"w","utm_source":"x","utm_term":"y"}),
        ),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_sms - blee","time":42,"user_id":"t","device_id":"d","session_id":"k","language":"n","country":"c","region":"r","os_name":"p","os_version":"q","device_model":"m","event_properties":{"service":"qux","oauth_client_id":"baz"},"user_properties":{"entrypoint":"f","flow_id":"l","ua_browser":"a","ua_version":"b","utm_campaign":"u","utm_content":"v","utm_medium":"w","utm_source":"x","utm_term":"y","$append":{"fxa_services_used":"qux","experiments":["g_h","i_i_j_j_j"]},"sync_device_count":6,"sync_active_devices_day":1,"sync_active_devices_week":3,"sync_active_devices_month":5}}),
        ),
    );
}

#[test]
fn s02_unanchored_pattern_without_groups() {
    check(
        json!({"type":"sourceEvent3","time":1}),
        Some(json!({"deviceId":"a","flowBeginTime":"b","flowId":"c","uid":"d"})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_login - targetEvent3","time":1,"user_id":"d","device_id":"a","session_id":"b","event_properties":{},"user_properties":{"flow_id":"c"}}),
        ),
    );
}

#[test]
fn s03_to_s11_rules_and_services() {
    check(
        json!({"type":"wibble.blee"}),
        Some(json!({})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_reg - targetEvent4","event_properties":{},"user_properties":{}}),
        ),
    );
    check(
        json!({"type":"wobble.glick.gluck"}),
        Some(json!({})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_login - glick.gluck","event_properties":{},"user_properties":{}}),
        ),
    );
    check(
        json!({"type":"sms.ios"}),
        Some(json!({})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_connect_device - cadEvent","event_properties":{"connect_device_flow":"sms","connect_device_os":"ios"},"user_properties":{}}),
        ),
    );
    check(
        json!({"type":"verifySecondaryEmail.wibble"}),
        Some(
            json!({"emailDomain":"foo","emailSender":"ses","emailService":"fxa-email-service","templateVersion":"bar"}),
        ),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_email - emailEvent","event_properties":{"email_type":"secondary_email","email_provider":"foo","email_sender":"ses","email_service":"fxa-email-service","email_template":"verifySecondaryEmail","email_version":"bar"},"user_properties":{}}),
        ),
    );
    check(
        json!({"type":"disconnect.wibble.blee"}),
        Some(json!({})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_pref - disconnect_device","event_properties":{"reason":"wibble"},"user_properties":{}}),
        ),
    );
    check(
        json!({"type":"newsletter.optIn.wibble"}),
        Some(json!({})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_pref - newsletterEvent","event_properties":{},"user_properties":{"newsletter_state":"subscribed"}}),
        ),
    );
    check(
        json!({"type":"wibble.blee"}),
        Some(json!({"service":"gribble"})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_reg - targetEvent4","event_properties":{"service":"undefined_oauth","oauth_client_id":"gribble"},"user_properties":{"$append":{"fxa_services_used":"undefined_oauth"}}}),
        ),
    );
    check(
        json!({"type":"wibble.blee"}),
        Some(json!({"service":"sync"})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_reg - targetEvent4","event_properties":{"service":"sync"},"user_properties":{"$append":{"fxa_services_used":"sync"}}}),
        ),
    );
    check(
        json!({"type":"wibble.blee"}),
        Some(json!({"service":"content-server"})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_reg - targetEvent4","event_properties":{},"user_properties":{}}),
        ),
    );
}

#[test]
fn extra_cases_prune_and_drop() {
    check(
        json!({"type":"wibble.bleep","time":5}),
        Some(json!({"marketingOptIn":false,"uid":"u"})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_reg - targetEvent4","time":5,"user_id":"u","event_properties":{},"user_properties":{"newsletter_state":"unsubscribed"}}),
        ),
    );
    check(
        json!({"type":"sourceEvent1","time":5}),
        Some(json!({"uid":"u","experiments":[],"lang":"","country":null,"os":0})),
        Some(
            json!({"op":"amplitudeEvent","event_type":"fxa_activity - wibble","time":5,"user_id":"u","event_properties":{},"user_properties":{}}),
        ),
    );
    check(json!({"type":"nothing.here"}), Some(json!({})), None);
}
