//! The rule lookup against the naive loop, and the byte writer against the map transform.

use proptest::prelude::*;
use regex::Regex;
use serde_json::{Map, Value as Json, json};

use super::transform::Plan;
use super::*;
use crate::mozlog::{self, Record, Severity};

fn rules_only(patterns: &[String]) -> Mapping {
    let rules = patterns
        .iter()
        .map(|pattern| Rule {
            pattern: pattern.clone(),
            targets: vec![Target::new(
                GroupExpr::Fixed("g".to_owned()),
                vec![Part::text("e")],
            )],
        })
        .collect();
    let spec = MappingSpec {
        rules,
        ..MappingSpec::default()
    };
    match Mapping::new(spec) {
        Ok(mapping) => mapping,
        Err(err) => panic!("{err}"),
    }
}

/// Patterns from pieces that overlap a lot, anchored or not, some with anchors inside an
/// alternation (which must not count as anchored).
fn pattern() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "a", "b", "ab", "a+", "b*", ".", "(a|b)", "[ab]{2}", "x?", r"\.", "(a)(b)?",
    ]);
    let whole = prop::sample::select(vec!["^a|b", "(?:^|x)a", "b$|^x", "(?m)^b", ""]);
    prop_oneof![
        4 => (any::<bool>(), prop::collection::vec(piece, 1..4), any::<bool>()).prop_map(
            |(start, pieces, end)| {
                format!(
                    "{}{}{}",
                    if start { "^" } else { "" },
                    pieces.concat(),
                    if end { "$" } else { "" }
                )
            }
        ),
        1 => whole.prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn resolve_finds_the_first_rule_that_matches_anywhere(
        patterns in prop::collection::vec(pattern(), 1..12),
        names in prop::collection::vec("[abx.\n]{0,8}", 1..8),
    ) {
        let mapping = rules_only(&patterns);
        let regexes: Vec<Regex> = patterns
            .iter()
            .map(|p| Regex::new(p))
            .collect::<Result<_, _>>()
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        for name in &names {
            let naive = regexes.iter().position(|r| r.is_match(name)).map(Matched::Rule);
            prop_assert_eq!(mapping.resolve(name), naive, "{:?} on {:?}", patterns, name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn captures_are_those_of_the_regex_crate(
        patterns in prop::collection::vec(pattern(), 1..4),
        name in "[abx.\n]{0,8}",
    ) {
        let mapping = rules_only(&patterns);
        for (rule, pattern) in patterns.iter().enumerate() {
            let regex = Regex::new(pattern).map_err(|err| TestCaseError::fail(err.to_string()))?;
            let want = regex.captures(&name).map_or_else(Default::default, |caps| {
                let len = caps.len();
                transform::Captures {
                    category: if len >= 2 { caps.get(1).map(|m| m.as_str()) } else { None },
                    target: if len == 3 { caps.get(2).map(|m| m.as_str()) } else { None },
                }
            });
            prop_assert_eq!(mapping.captures(rule, &name), want, "{:?} on {:?}", pattern, name);
        }
    }
}

#[test]
fn resolve_prefers_the_lower_index_over_the_leftmost_match() {
    let mapping = rules_only(&["b".to_owned(), "^a".to_owned(), "a".to_owned()]);
    assert_eq!(mapping.resolve("ab"), Some(Matched::Rule(0)));
    assert_eq!(mapping.resolve("ax"), Some(Matched::Rule(1)));
    assert_eq!(mapping.resolve("xa"), Some(Matched::Rule(2)));
    assert_eq!(mapping.resolve("x"), None);
}

/// A layout with every kind of source, repeated keys among the group properties of one
/// group, and the auth logger's policy.
fn mapping() -> Mapping {
    let layout = Layout {
        fields: vec![
            Field::new("user_id", Source::data("uid")),
            Field::new("device_id", Source::data("deviceId")),
            Field::new("session_id", Source::data("flowBeginTime")),
            Field::new("app_version", Source::AppVersion),
            Field::new("language", Source::data("lang")),
            Field::new("entrypoint_list", Source::NonEmptyArray("list".to_owned())),
            Field::new("literal", Source::Literal("lit\"eral".to_owned())),
        ],
        service: Some(ServiceRule {
            data: "service".to_owned(),
            ignore: vec!["content-server".to_owned()],
            passthrough: vec!["sync".to_owned()],
            unknown: "undefined_oauth".to_owned(),
        }),
        event_properties: vec![
            Field::new("service", Source::ServiceName),
            Field::new("oauth_client_id", Source::OauthClientId),
        ],
        user_properties: vec![
            Field::new("flow_id", Source::data("flowId")),
            Field::new("ua_browser", Source::data("browser")),
        ],
        append: vec![
            Field::new("fxa_services_used", Source::ServiceName),
            Field::new("experiments", Source::Experiments("experiments".to_owned())),
        ],
        device_counts: Some(DeviceCounts {
            data: "devices".to_owned(),
            time_key: "lastAccessTime".to_owned(),
            count: "sync_device_count".to_owned(),
            windows: vec![("sync_active_devices_day".to_owned(), 86_400_000)],
        }),
        user_properties_tail: vec![Field::new("sync_engines", Source::data("syncEngines"))],
        newsletter: Some(Newsletter {
            name: "newsletter_state".to_owned(),
            by_category: vec![("optIn".to_owned(), "subscribed".to_owned())],
            data: "marketingOptIn".to_owned(),
            when_true: "subscribed".to_owned(),
            when_false: "unsubscribed".to_owned(),
        }),
        user_properties_last: vec![Field::new(
            "newsletters",
            Source::SnakeCaseItems("newsletters".to_owned()),
        )],
    };
    let property = |name: &str, value: Value| PropertyRule {
        name: name.to_owned(),
        value,
        when: Vec::new(),
    };
    let spec = MappingSpec {
        service: "test".to_owned(),
        tables: vec![vec![("sms".to_owned(), "fxa_sms".to_owned())]],
        exact: vec![
            (
                "account.login".to_owned(),
                vec![Target::new(
                    GroupExpr::Fixed("fxa_login".to_owned()),
                    vec![Part::text("success")],
                )],
            ),
            (
                "twice".to_owned(),
                vec![
                    Target::new(
                        GroupExpr::Fixed("fxa_reg".to_owned()),
                        vec![Part::text("one")],
                    ),
                    Target {
                        time_offset: Some(1),
                        ..Target::new(
                            GroupExpr::Fixed("fxa_reg".to_owned()),
                            vec![Part::text("two")],
                        )
                    },
                ],
            ),
        ],
        rules: vec![Rule {
            pattern: r"^screen\.(\w+)(?:\.(\w+))?$".to_owned(),
            targets: vec![Target::new(
                GroupExpr::Lookup {
                    table: TableId(0),
                    key: Capture::Category,
                },
                vec![Part::text("view_"), Part::Capture(Capture::Target)],
            )],
        }],
        group_properties: vec![GroupProperties {
            prefix: "fxa_sms".to_owned(),
            when: Vec::new(),
            set: vec![
                property("service", Value::Literal("overridden".to_owned())),
                property("where", Value::Capture(Capture::Target)),
                property("raw", Value::Data("raw".to_owned())),
            ],
        }],
        layout,
        policy: Policy {
            time_falls_back_to_now: true,
            require_user_or_device: true,
            rewrites: Vec::new(),
        },
    };
    match Mapping::new(spec) {
        Ok(mapping) => mapping,
        Err(err) => panic!("{err}"),
    }
}

fn bags() -> Vec<Map<String, Json>> {
    let bags = [
        json!({}),
        json!({"uid": "u", "deviceId": "", "flowBeginTime": 1.5e21, "lang": "de\n\u{1}",
               "service": "sync", "raw": {"a": [null, 1.0, "x\"y"]}, "list": [1],
               "devices": [{"lastAccessTime": 1_551_700_000_000_i64}, 3], "marketingOptIn": false}),
        json!({"uid": 0, "deviceId": "d", "service": "0123", "flowId": false,
               "experiments": [{"choice": "FirstExp", "group": "Group-Two"}, {"choice": 1}],
               "syncEngines": ["bookmarks"], "raw": null, "browser": "Firefox\\65",
               "newsletters": ["firefox-accounts-journey", 5, "testPilot"]}),
        json!({"uid": "u", "service": 17, "lang": "fr", "list": [], "flowBeginTime": -0.0}),
    ];
    bags.into_iter()
        .filter_map(|bag| match bag {
            Json::Object(map) => Some(map),
            _ => None,
        })
        .collect()
}

#[test]
fn transform_to_writes_the_logged_events_of_transform() {
    let mapping = mapping();
    let clients = OauthClients::from([("0123".to_owned(), "amo".to_owned())]);
    let env = Env {
        oauth_clients: &clients,
        app_version: Some("134"),
        now_ms: 1_551_700_200_000,
    };
    let record = Record {
        timestamp_ms: env.now_ms,
        logger: "test",
        type_name: "amplitudeEvent",
        hostname: Some("host"),
        severity: Severity::Info,
        pid: 7,
        fields: None,
    };
    let names = [
        json!("account.login"),
        json!("twice"),
        json!("screen.sms.here"),
        json!("screen.sms"),
        json!("screen.other.x"),
        json!("nothing"),
    ];
    let times = [
        json!(1_551_700_123_456_i64),
        json!("t"),
        json!(0),
        json!(null),
    ];
    let mut out = Vec::new();
    let mut checked = 0;
    for bag in bags() {
        for name in &names {
            for time in &times {
                let event = SourceEvent {
                    name: Some(name),
                    time: Some(time),
                };
                let logged: Vec<Map<String, Json>> = mapping
                    .transform(event, &bag, &env)
                    .into_iter()
                    .filter(|e| e.logged)
                    .map(|e| e.event)
                    .collect();
                let json = Json::Array(logged.iter().cloned().map(Json::Object).collect());
                out.clear();
                let count = mapping.transform_to(event, &bag, &env, Encoding::Json, &mut out);
                assert_eq!(count, logged.len());
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    mozlog::to_js_json(&json),
                    "{name} {time} {bag:?}"
                );

                let lines: Vec<String> = logged
                    .iter()
                    .map(|event| {
                        let line = mozlog::format_line(&Record {
                            fields: Some(event),
                            ..record
                        });
                        line.trim_end().to_owned()
                    })
                    .collect();
                out.clear();
                mapping.transform_to(event, &bag, &env, Encoding::Mozlog(record), &mut out);
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    format!("[{}]", lines.join(",")),
                    "{name} {time} {bag:?}"
                );

                // One event at a time: each `Fields` object is what the mozlog line holds.
                let fields: Vec<String> = logged
                    .iter()
                    .map(|event| {
                        let line = mozlog::format_line(&Record {
                            fields: Some(event),
                            ..record
                        });
                        let at = line.find(",\"Fields\":").expect("a line with fields");
                        line[at + ",\"Fields\":".len()..line.len() - 2].to_owned()
                    })
                    .collect();
                out.clear();
                let mut ends = Vec::new();
                let count = mapping.transform_view_each_to(
                    event.name,
                    event.time,
                    &bag,
                    &env,
                    Encoding::Fields,
                    &mut out,
                    |out| ends.push(out.len()),
                );
                assert_eq!(count, logged.len());
                let mut start = 0;
                let written: Vec<String> = ends
                    .iter()
                    .map(|&end| {
                        let text = String::from_utf8_lossy(&out[start..end]).into_owned();
                        start = end;
                        text
                    })
                    .collect();
                assert_eq!(written, fields, "{name} {time} {bag:?}");
                assert_eq!(start, out.len(), "nothing after the last event");
                checked += logged.len();
            }
        }
    }
    // The cases reach the group with repeated keys, both policies and every source.
    assert!(checked > 20, "{checked}");
}

#[test]
fn transform_view_to_on_a_parsed_line_writes_what_transform_to_writes() {
    use crate::line::Doc;
    use crate::view::JsonRef;

    let mapping = mapping();
    let clients = OauthClients::from([("0123".to_owned(), "amo".to_owned())]);
    let env = Env {
        oauth_clients: &clients,
        app_version: Some("134"),
        now_ms: 1_551_700_200_000,
    };
    let record = Record {
        timestamp_ms: env.now_ms,
        logger: "test",
        type_name: "amplitudeEvent",
        hostname: None,
        severity: Severity::Info,
        pid: 7,
        fields: None,
    };
    let names = [
        json!("account.login"),
        json!("twice"),
        json!("screen.sms.here"),
        json!("screen.other.x"),
        json!(["screen", "sms"]),
        json!(0),
    ];
    let times = [json!(1_551_700_123_456_i64), json!("t"), json!(null)];
    let (mut doc, mut owned, mut viewed) = (Doc::new(), Vec::new(), Vec::new());
    let mut checked = 0;
    for bag in bags() {
        for name in &names {
            for time in &times {
                let event = json!({"type": name, "time": time});
                let bag_text = serde_json::to_string(&bag).unwrap_or_default();
                // Repeated keys: the first position and the last value count, in both paths.
                let inner = bag_text.get(1..bag_text.len() - 1).unwrap_or_default();
                let inner = if inner.is_empty() {
                    String::new()
                } else {
                    format!("{inner},")
                };
                let repeated = format!(
                    r#"{{"uid":"shadowed","lang":"first","raw":"shadowed",{inner}"lang":"xx","uid":"last"}}"#
                );
                for data in [bag_text, repeated] {
                    let text = format!(r#"{{"event":{event},"data":{data}}}"#);
                    let value: Json = serde_json::from_str(&text).unwrap_or_default();
                    let parsed = doc
                        .parse(&text)
                        .unwrap_or_else(|err| panic!("{err}: {text}"));
                    let root = parsed.root();
                    let (Some(view_event), Some(view_data)) = (root.get("event"), root.get("data"))
                    else {
                        panic!("{text}")
                    };
                    let source = SourceEvent {
                        name: value["event"].get("type"),
                        time: value["event"].get("time"),
                    };
                    let Some(owned_data) = value["data"].as_object() else {
                        panic!("{text}")
                    };
                    for encoding in [Encoding::Json, Encoding::Mozlog(record)] {
                        owned.clear();
                        viewed.clear();
                        let want =
                            mapping.transform_to(source, owned_data, &env, encoding, &mut owned);
                        let got = mapping.transform_view_to(
                            view_event.get("type"),
                            view_event.get("time"),
                            view_data,
                            &env,
                            encoding,
                            &mut viewed,
                        );
                        assert_eq!(got, want, "{text}");
                        assert_eq!(
                            String::from_utf8_lossy(&viewed),
                            String::from_utf8_lossy(&owned),
                            "{text}"
                        );
                        checked += got;
                    }
                }
            }
        }
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn a_spec_survives_a_json_round_trip() {
    let spec = mapping().spec().clone();
    for text in [
        serde_json::to_string(&spec),
        serde_json::to_string_pretty(&spec),
    ] {
        let text = text.unwrap_or_else(|err| panic!("{err}"));
        match spec_from_json(&text) {
            Ok(read) => assert_eq!(read, spec),
            Err(err) => panic!("{err}"),
        }
        match Mapping::from_json(&text) {
            Ok(mapping) => assert_eq!(mapping.spec(), &spec),
            Err(err) => panic!("{err}"),
        }
    }
}

#[test]
fn table_ids_are_plain_numbers_in_json() {
    let value = serde_json::to_value(Value::Lookup {
        table: TableId(3),
        key: Capture::Category,
    });
    assert_eq!(
        value.ok(),
        Some(json!({"Lookup": {"table": 3, "key": "Category"}}))
    );
}

#[test]
fn json_errors_carry_the_message_and_location() {
    let cases = [
        // Not JSON: a bracket closes nothing.
        (
            "{\n  \"service\": \"x\",\n  \"tables\": ]\n}",
            "expected value",
            3,
            13,
        ),
        // JSON, but not a spec: a field has the wrong type.
        (
            "{\n  \"service\": 7\n}",
            "invalid type: integer `7`, expected a string",
            2,
            14,
        ),
        // JSON, but not a spec: a field is missing.
        ("{\"service\": \"x\"}", "missing field `tables`", 1, 16),
    ];
    for (text, expected_message, expected_line, expected_column) in cases {
        match spec_from_json(text) {
            Err(MappingError::Json {
                message,
                line,
                column,
            }) => {
                assert_eq!(
                    (message.as_str(), line, column),
                    (expected_message, expected_line, expected_column),
                    "{text:?}"
                );
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    let err = Mapping::from_json("[").err().map(|err| err.to_string());
    assert_eq!(
        err.as_deref(),
        Some("invalid mapping spec JSON at line 1 column 1: EOF while parsing a list")
    );
}

#[test]
fn snake_case_items_come_last_with_their_string_items_snake_cased() {
    let mapping = mapping();
    let clients = OauthClients::new();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: 0,
    };
    let data = match json!({"newsletters": ["firefox-accounts-journey", 5, "testPilot"],
                           "marketingOptIn": true})
    {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    let (name, time) = (json!("screen.sms"), json!(1));
    let event = SourceEvent {
        name: Some(&name),
        time: Some(&time),
    };
    let events = mapping.transform(event, &data, &env);
    assert!(!events.is_empty(), "the test mapping maps screen.sms");
    for produced in events {
        let user = &produced.event["user_properties"];
        let keys: Vec<&String> = user
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.last().map(|k| k.as_str()), Some("newsletters"));
        assert_eq!(
            user["newsletters"],
            json!(["firefox_accounts_journey", "test_pilot"])
        );
    }
}

#[test]
fn device_windows_count_the_same_however_many_windows_there_are() {
    // Up to four windows are counted in one pass over the devices, more in one pass each.
    let windows = |count: usize| {
        let mut spec = mapping().spec().clone();
        if let Some(counts) = spec.layout.device_counts.as_mut() {
            counts.windows = (0..count)
                .map(|i| (format!("w{i}"), 1_000 * (i as i64 + 1)))
                .collect();
        }
        match Mapping::new(spec) {
            Ok(mapping) => mapping,
            Err(err) => panic!("{err}"),
        }
    };
    let clients = OauthClients::new();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: 10_000,
    };
    let data = match json!({"uid": "u", "devices": [
        {"lastAccessTime": 9_500}, {"lastAccessTime": 8_000}, {"lastAccessTime": 7_001},
        {"lastAccessTime": "9999"}, {"other": 1}, 3, {"lastAccessTime": 4_000}]})
    {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    let (name, time) = (json!("account.login"), json!(1));
    let event = SourceEvent {
        name: Some(&name),
        time: Some(&time),
    };
    // Devices seen at or after now - window: 9,500 and "9999" (a number to JavaScript's `>=`).
    let want = [2, 3, 4, 4, 4, 5, 5];
    for count in [1, 4, 5, 7] {
        let events = windows(count).transform(event, &data, &env);
        let user = &events[0].event["user_properties"];
        assert_eq!(user["sync_device_count"], json!(7));
        for (i, n) in want.iter().take(count).enumerate() {
            assert_eq!(user[format!("w{i}")], json!(n), "window {i} of {count}");
        }
    }
}

#[test]
fn remembered_rule_hits_give_what_a_fresh_search_gives() {
    // The same names through one mapping, then through a second mapping with other rules on
    // the same thread, then again through the first: each answer is that of its own mapping.
    let first = rules_only(&[r"^screen\.(\w+)(?:\.(\w+))?$".to_owned(), r"^x".to_owned()]);
    let second = rules_only(&[r"^screen\.(\w+)$".to_owned()]);
    let names = [
        "screen.signin.x",
        "screen.signin",
        "xscreen.a",
        "nothing",
        "screen.a.b",
    ];
    fn expect<'n>(mapping: &Mapping, name: &'n str) -> Option<(usize, Captures<'n>)> {
        mapping.resolve(name).and_then(|m| match m {
            Matched::Rule(rule) => Some((rule, mapping.captures(rule, name))),
            Matched::Exact(_) => None,
        })
    }
    for _ in 0..2 {
        for mapping in [&first, &second, &first] {
            for name in names {
                let hit = mapping
                    .rule_hit(name)
                    .map(|(rule, h)| (rule, h.captures(name)));
                assert_eq!(hit, expect(mapping, name), "{name}");
            }
        }
    }
    assert_eq!(
        first
            .rule_hit("screen.signin.x")
            .map(|(_, h)| h.captures("screen.signin.x")),
        Some(Captures {
            category: Some("signin"),
            target: Some("x"),
        })
    );
}

#[test]
fn data_keys_read_from_slots_or_by_lookup_give_the_same_values() {
    use crate::line::Doc;
    use crate::view::JsonRef;

    // A layout reading `count` data keys as user properties: up to MAX_SLOTS keys are read
    // from slots filled in one walk over the bag, more by one lookup each.
    let with_keys = |count: usize| {
        let mut spec = mapping().spec().clone();
        spec.layout.user_properties = (0..count)
            .map(|i| Field::new(&format!("p{i}"), Source::data(&format!("k{i}"))))
            .collect();
        match Mapping::new(spec) {
            Ok(mapping) => mapping,
            Err(err) => panic!("{err}"),
        }
    };
    let clients = OauthClients::new();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: 0,
    };
    for count in [3, MAX_SLOTS - 4, MAX_SLOTS + 8] {
        let mapping = with_keys(count);
        // Every key once, then k1 again (its last value counts), and a key no field reads.
        let mut line = String::from(r#"{"name":"account.login","data":{"uid":"u","#);
        for i in 0..count {
            line.push_str(&format!(r#""k{i}":"v{i}","#));
        }
        line.push_str(r#""k1":"again","other":1}}"#);
        let mut doc = Doc::new();
        let parsed = match doc.parse(&line) {
            Ok(parsed) => parsed,
            Err(err) => panic!("{err}"),
        };
        let root = parsed.root();
        let Some(data) = root.get("data") else {
            panic!("no data in {line}");
        };
        let mut out = Vec::new();
        let written =
            mapping.transform_view_to(root.get("name"), None, data, &env, Encoding::Json, &mut out);
        assert_eq!(written, 1, "{count} keys");
        let events: Json = match serde_json::from_slice(&out) {
            Ok(events) => events,
            Err(err) => panic!("{err}"),
        };
        let user = &events[0]["user_properties"];
        for i in 0..count {
            let want = if i == 1 {
                "again".to_owned()
            } else {
                format!("v{i}")
            };
            assert_eq!(user[format!("p{i}")], json!(want), "{count} keys, p{i}");
        }
    }
}

#[test]
fn plan_slots_find_exactly_their_keys_at_every_length() {
    // Keys of 0 to 40 bytes, and for each a near miss: one byte changed at each position, one
    // byte more and one less. A slot is found for the layout's keys and for nothing else.
    let keys: Vec<String> = (0..=24)
        .map(|n| (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect())
        .chain(["x".repeat(33), "y".repeat(40)])
        .collect();
    let layout = Layout {
        user_properties: keys
            .iter()
            .enumerate()
            .take(MAX_SLOTS)
            .map(|(i, key)| Field::new(&format!("p{i}"), Source::data(key)))
            .collect(),
        ..Layout::default()
    };
    let plan = Plan::new(&layout, &[]);
    let read: Vec<&String> = keys.iter().take(MAX_SLOTS).collect();
    for (i, key) in read.iter().enumerate() {
        assert_eq!(plan.slot(key).map(usize::from), Some(i), "{key:?}");
        let bytes = key.as_bytes();
        for at in 0..bytes.len() {
            let mut near = bytes.to_vec();
            near[at] ^= 0x20;
            let near = String::from_utf8(near).unwrap_or_default();
            if !read.iter().any(|k| **k == near) {
                assert_eq!(plan.slot(&near), None, "{near:?} for {key:?}");
            }
        }
        for near in [
            format!("{key}a"),
            format!("a{key}"),
            key.chars().skip(1).collect(),
        ] {
            if !read.iter().any(|k| **k == near) {
                assert_eq!(plan.slot(&near), None, "{near:?} for {key:?}");
            }
        }
    }
}

#[test]
fn group_property_keys_get_the_slots_the_layout_leaves() {
    let group = GroupProperties {
        prefix: "g".to_owned(),
        when: vec![Cond::Truthy(Value::Data("when".to_owned()))],
        set: vec![PropertyRule {
            name: "p".to_owned(),
            value: Value::LookupData {
                table: TableId(0),
                key: "extra".to_owned(),
            },
            when: Vec::new(),
        }],
    };
    let layout_of = |n: usize| Layout {
        user_properties: (0..n)
            .map(|i| Field::new(&format!("p{i}"), Source::data(&format!("k{i}"))))
            .collect(),
        ..Layout::default()
    };
    let slot = |plan: &Plan, key: &str| plan.slot(key).map(usize::from);
    // Room left: the group's keys follow the layout's.
    let plan = Plan::new(&layout_of(2), std::slice::from_ref(&group));
    assert_eq!(
        ["k0", "k1", "when", "extra"].map(|k| slot(&plan, k)),
        [Some(0), Some(1), Some(2), Some(3)]
    );
    // One slot left: the first group key takes it; the other is read by lookup.
    let plan = Plan::new(&layout_of(MAX_SLOTS - 1), std::slice::from_ref(&group));
    assert_eq!(slot(&plan, "when"), Some(MAX_SLOTS - 1));
    assert_eq!(slot(&plan, "extra"), None);
    // A full layout keeps every slot.
    let plan = Plan::new(&layout_of(MAX_SLOTS), std::slice::from_ref(&group));
    for i in 0..MAX_SLOTS {
        assert_eq!(slot(&plan, &format!("k{i}")), Some(i));
    }
    assert_eq!((slot(&plan, "when"), slot(&plan, "extra")), (None, None));
}
