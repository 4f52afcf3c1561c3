//! The data bags of the amplitude transform, read in place: the body's own entries and the
//! few keys derived from the request (user agent, location), without copying the body into a
//! new map.

use std::collections::HashMap;

use metricsmith::js;
use metricsmith::view::Bag;
use serde_json::{Map, Value};

/// Keys derived from the request, in the order FxA set them; a later entry wins.
pub(crate) type Added = Vec<(&'static str, Value)>;

fn last<'a>(added: &'a [(&'static str, Value)], key: &str) -> Option<&'a Value> {
    added.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The content server's bag: the body without falsy values and `"none"`, then the added
/// keys over it (`{...pruned(metrics), ...added}`), indexed once per request: the transform
/// reads about twenty keys per event, and the body holds more keys than a scan suits.
#[derive(Debug)]
pub(crate) struct ContentBag<'a> {
    index: HashMap<&'a str, &'a Value, foldhash::fast::FixedState>,
}

impl<'a> ContentBag<'a> {
    pub(crate) fn new(metrics: &'a Map<String, Value>, added: &'a [(&'static str, Value)]) -> Self {
        let mut index = HashMap::with_capacity_and_hasher(
            metrics.len() + added.len(),
            foldhash::fast::FixedState::default(),
        );
        for (key, value) in metrics {
            if js::truthy(value) && value.as_str() != Some("none") {
                index.insert(key.as_str(), value);
            }
        }
        for (key, value) in added {
            index.insert(*key, value);
        }
        Self { index }
    }
}

impl<'a> Bag<'a> for &'a ContentBag<'a> {
    type Value = &'a Value;

    fn get(self, key: &str) -> Option<&'a Value> {
        self.index.get(key).copied()
    }
}

/// The payments server's bag: the added keys, then the posted `data` over them
/// (`{...added, ...data}`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentsBag<'a> {
    pub(crate) posted: Option<&'a Map<String, Value>>,
    pub(crate) added: &'a [(&'static str, Value)],
}

impl<'a> Bag<'a> for PaymentsBag<'a> {
    type Value = &'a Value;

    fn get(self, key: &str) -> Option<&'a Value> {
        self.posted
            .and_then(|posted| Bag::get(posted, key))
            .or_else(|| last(self.added, key))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_bag_prunes_the_body_and_lets_added_keys_win() {
        let metrics = json!({"a": 1, "b": 0, "c": "none", "d": "", "os": "body", "e": false});
        let metrics = metrics.as_object().expect("an object");
        let added = vec![
            ("os", json!("Linux")),
            ("region", json!("x")),
            ("region", json!("y")),
        ];
        let bag = ContentBag::new(metrics, &added);
        let bag = &bag;
        let cases = [
            ("a", Some(json!(1))),
            ("b", None),
            ("c", None),
            ("d", None),
            ("e", None),
            ("os", Some(json!("Linux"))),
            ("region", Some(json!("y"))),
            ("missing", None),
        ];
        for (key, expected) in cases {
            assert_eq!(bag.get(key).cloned(), expected, "{key}");
        }
    }

    #[test]
    fn payments_bag_lets_posted_data_win_falsy_or_not() {
        let posted = json!({"version": "", "planId": "p"});
        let added = vec![("version", json!("1.148.4")), ("os", json!("Linux"))];
        let bag = PaymentsBag {
            posted: posted.as_object(),
            added: &added,
        };
        let cases = [
            ("version", Some(json!(""))),
            ("planId", Some(json!("p"))),
            ("os", Some(json!("Linux"))),
            ("missing", None),
        ];
        for (key, expected) in cases {
            assert_eq!(bag.get(key).cloned(), expected, "{key}");
        }
        let without = PaymentsBag {
            posted: None,
            added: &added,
        };
        assert_eq!(without.get("version").cloned(), Some(json!("1.148.4")));
    }
}
