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
        any::<String>().prop_map(Value::String),
        "[a-c\"\\\\\n\u{2028}\u{0}]{0,6}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-c\"\\\\]{0,3}", inner), 0..5)
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parsed_lines_read_as_serde_json_reads_them(value in value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let mut doc = Doc::new();
        for text in [text.clone(), escaped(&text)] {
            let want: Result<Value, _> = serde_json::from_str(&text);
            match (doc.parse(&text), want) {
                (Ok(parsed), Ok(want)) => prop_assert_eq!(parsed.root().to_json(), want),
                (Err(got), Err(want)) => prop_assert_eq!(got.to_string(), want.to_string()),
                (got, want) => prop_assert!(false, "{text}: {got:?} against {want:?}"),
            }
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
