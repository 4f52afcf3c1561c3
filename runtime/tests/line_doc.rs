//! The line parser against serde_json: the same lines accepted, the same values read, the
//! same errors.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use metricsmith::line::Doc;
use metricsmith::view::JsonRef;
use proptest::prelude::*;
use serde_json::{Value, json};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "-?[1-9][0-9]{15,40}(\\.[0-9]{1,30})?([eE][-+]?[0-9]{1,3})?"
            .prop_filter_map("in range", |t| serde_json::from_str::<Value>(&t).ok()),
        any::<String>().prop_map(Value::String),
        "[a-c\"\\\\\n\u{2028}\u{0}]{0,6}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-c\"\\\\]{0,3}", inner), 0..14)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The JSON text of `value` with escapes serde_json would not write: `\/`, `\u0061`, and a
/// surrogate pair for every non-BMP character, so strings take the unescaping path.
fn escaped(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            'a' => out.push_str("\\u0061"),
            '/' => out.push_str("\\/"),
            c if (c as u32) > 0xFFFF => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Every member of every object is found by `get`, with serde_json's value, and a key that is
/// not there is not found.
fn check_gets<'a>(view: impl JsonRef<'a>, want: &Value) -> Result<(), TestCaseError> {
    match want {
        Value::Object(map) => {
            for (key, value) in map {
                let got = view.get(key);
                prop_assert!(got.is_some(), "{key:?} missing in {want}");
                if let Some(got) = got {
                    check_gets(got, value)?;
                }
            }
            prop_assert!(view.get("zz-absent").is_none());
        }
        Value::Array(items) => {
            prop_assert_eq!(view.len(), items.len());
            for (got, want) in view.items().zip(items) {
                check_gets(got, want)?;
            }
        }
        other => prop_assert_eq!(&view.to_json(), other),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parsed_lines_read_as_serde_json_reads_them(value in value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        for (mut doc, text) in [
            (Doc::new(), text.clone()),
            (Doc::new(), escaped(&text)),
            (Doc::unindexed(), text.clone()),
        ] {
            let want: Result<Value, _> = serde_json::from_str(&text);
            // Valid JSON never needs serde_json's help.
            prop_assert_eq!(doc.reads_fast(&text), want.is_ok(), "{}", text);
            match (doc.parse(&text), want) {
                (Ok(parsed), Ok(want)) => {
                    prop_assert_eq!(parsed.root().to_json(), want.clone());
                    check_gets(parsed.root(), &want)?;
                }
                (Err(got), Err(want)) => prop_assert_eq!(got.to_string(), want.to_string()),
                (got, want) => prop_assert!(false, "{text}: {got:?} against {want:?}"),
            }
        }
    }

    #[test]
    fn large_objects_with_repeated_keys_read_as_serde_json_reads_them(
        members in prop::collection::vec(("[a-l]{1,2}", leaf()), 0..40),
    ) {
        // Written by hand: a map cannot hold the repeated keys.
        let text = format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect::<Vec<_>>()
                .join(",")
        );
        let want: Value = serde_json::from_str(&text).unwrap();
        // With key indexes and without (then lookups and repeats are found by scans).
        for mut doc in [Doc::new(), Doc::unindexed()] {
            prop_assert!(doc.reads_fast(&text));
            let parsed = doc.parse(&text).unwrap();
            prop_assert_eq!(parsed.root().to_json(), want.clone());
            check_gets(parsed.root(), &want)?;
        }
    }

    #[test]
    fn broken_lines_fail_as_serde_json_fails(value in value(), cut in any::<prop::sample::Index>(), junk in "[\\]\\[{}:,\"\\\\ 0-9a-z]{1,3}") {
        let text = serde_json::to_string(&value).unwrap();
        let at = cut.index(text.len() + 1);
        let Some(broken) = text.get(..at).map(|head| format!("{head}{junk}{}", &text[at..])) else {
            return Ok(());
        };
        let mut doc = Doc::new();
        let want: Result<Value, _> = serde_json::from_str(&broken);
        prop_assert_eq!(doc.reads_fast(&broken), want.is_ok(), "{}", broken);
        match (doc.parse(&broken), want) {
            (Ok(parsed), Ok(want)) => prop_assert_eq!(parsed.root().to_json(), want),
            (Err(got), Err(want)) => prop_assert_eq!(got.to_string(), want.to_string()),
            (got, want) => prop_assert!(false, "{broken}: {got:?} against {want:?}"),
        }
    }
}

#[test]
fn repeated_keys_keep_the_first_position_and_the_last_value() {
    let text = r#"{"b":1,"a":2,"b":{"x":1,"x":[3]},"c":null}"#;
    let mut doc = Doc::new();
    let parsed = doc.parse(text).unwrap();
    let want: Value = serde_json::from_str(text).unwrap();
    assert_eq!(parsed.root().to_json(), want);
    let keys: Vec<&str> = parsed.root().entries().map(|(k, _)| k).collect();
    assert_eq!(keys, ["b", "a", "c"]);
    assert_eq!(
        parsed
            .root()
            .get("b")
            .and_then(|b| b.get("x"))
            .map(|x| x.to_json()),
        Some(json!([3]))
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut doc = Doc::new();
    let err = doc.parse(&text).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("recursion limit exceeded at line 1 column 128")
    );
}

#[test]
fn one_doc_parses_line_after_line() {
    let mut doc = Doc::new();
    for (text, want) in [
        (r#"{"a":"x\"y"}"#, json!({"a": "x\"y"})),
        ("[1,2.5,-3]", json!([1, 2.5, -3])),
        (r#""\ud83d\ude00""#, json!("\u{1F600}")),
        ("not json", Value::Null),
        ("7  ", json!(7)),
    ] {
        match doc.parse(text) {
            Ok(parsed) => assert_eq!(parsed.root().to_json(), want, "{text}"),
            Err(_) => assert_eq!(want, Value::Null, "{text}"),
        }
    }
}

#[test]
fn numbers_strings_and_literals_read_as_serde_json_reads_them() {
    let cases = [
        "0",
        "-0",
        "-0.0",
        "1",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e400",
        "-1e400",
        "1e-400",
        "1.5e21",
        "0.1",
        "1E+2",
        "1e-2",
        "01",
        "1.",
        ".5",
        "1e",
        "1e+",
        "-",
        "+1",
        "2.2250738585072011e-308",
        "9007199254740993",
        "0.30000000000000004",
        "17976931348623157e292",
        "1797693134862315800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        r#""\ud800""#,
        r#""\udc00""#,
        r#""\ud800\u0041""#,
        r#""\ud800x""#,
        r#""\ud83d\ude00""#,
        r#""\u00e9\/\b\f\n\r\t\"\\""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        "\"a\u{1}b\"",
        "\"\u{7f}\"",
        "\"caf\u{e9} \u{1F600}\"",
        r#""""#,
        "null",
        "nul",
        "true",
        "truex",
        "false",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:1}",
        "[1 2]",
        " [ 1 , { \"a\" : [ ] } ] ",
        "{ \"a\" :1 , \"b\":[ 1 ,2 ] ,\"c\" : { } }",
        "{\n\"a\"\n:\n1\n,\n\"b\"\t:\r\"x\"\n}",
        "[ ]",
        "{ }",
        "{ ,}",
        "[ ,1]",
        "{\"a\":1 ,}",
        "{ \"a\" : }",
        "[]",
        "{}",
        "\t\r\n7\n",
        "7 8",
        "",
        " ",
    ];
    let mut doc = Doc::new();
    for text in cases {
        let want: Result<Value, _> = serde_json::from_str(text);
        assert_eq!(doc.reads_fast(text), want.is_ok(), "{text}");
        match (doc.parse(text), want) {
            (Ok(parsed), Ok(want)) => {
                let got = parsed.root().to_json();
                assert_eq!(got, want, "{text}");
                // The same kind of number, not only an equal one.
                assert_eq!(
                    (got.is_u64(), got.is_i64(), got.is_f64()),
                    (want.is_u64(), want.is_i64(), want.is_f64()),
                    "{text}"
                );
            }
            (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string(), "{text}"),
            (got, want) => panic!("{text}: {got:?} against {want:?}"),
        }
    }
}

#[test]
fn the_fast_parser_nests_exactly_as_deep_as_serde_json() {
    let mut doc = Doc::new();
    for depth in [1, 126, 127, 128, 129] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        for text in [arrays, objects] {
            let want = serde_json::from_str::<Value>(&text).is_ok();
            assert_eq!(want, depth <= 127, "serde_json at depth {depth}");
            assert_eq!(doc.reads_fast(&text), want, "{text}");
            assert_eq!(doc.parse(&text).is_ok(), want, "{text}");
        }
    }
}
