//! The data bags of the amplitude transform, read in place: the body's own entries and the
//! few keys derived from the request (user agent, location), without copying the body into a
//! new map.

use metricsmith::js;
use metricsmith::view::Bag;
use serde_json::{Map, Value};

/// Keys derived from the request, in the order FxA set them; a later entry wins.
pub(crate) type Added = Vec<(&'static str, Value)>;

fn last<'a>(added: &'a [(&'static str, Value)], key: &str) -> Option<&'a Value> {
    added.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The content server's bag: the body without falsy values and `"none"`, then the added
/// keys over it (`{...pruned(metrics), ...added}`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentBag<'a> {
    pub(crate) metrics: &'a Map<String, Value>,
    pub(crate) added: &'a [(&'static str, Value)],
}

/// Whether the content server keeps a body value in its bag.
fn kept(value: &Value) -> bool {
    js::truthy(value) && value.as_str() != Some("none")
}

impl<'a> Bag<'a> for ContentBag<'a> {
    type Value = &'a Value;

    fn get(self, key: &str) -> Option<&'a Value> {
        if let Some(value) = last(self.added, key) {
            return Some(value);
        }
        self.metrics.get(key).filter(|v| kept(v))
    }

    fn pairs(self, mut f: impl FnMut(&'a str, &'a Value)) {
        for (key, value) in self.metrics {
            if kept(value) {
                f(key, value);
            }
        }
        for (key, value) in self.added {
            f(key, value);
        }
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

    fn pairs(self, mut f: impl FnMut(&'a str, &'a Value)) {
        for (key, value) in self.added {
            f(key, value);
        }
        if let Some(posted) = self.posted {
            posted.pairs(f);
        }
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
        let bag = ContentBag {
            metrics,
            added: &added,
        };
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
        assert_pairs_agree(bag, &["a", "os", "region"]);
    }

    /// Every key `pairs` gives ends with the value of `get`, and `keys` are those it gives.
    #[track_caller]
    fn assert_pairs_agree<'a>(bag: impl Bag<'a, Value = &'a Value>, keys: &[&str]) {
        let mut seen: Vec<(&str, &Value)> = Vec::new();
        bag.pairs(
            |key, value| match seen.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => seen.push((key, value)),
            },
        );
        let got: Vec<&str> = seen.iter().map(|(k, _)| *k).collect();
        assert_eq!(got, keys);
        for (key, value) in seen {
            assert_eq!(bag.get(key), Some(value), "{key}");
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
        assert_pairs_agree(bag, &["version", "os", "planId"]);
        let without = PaymentsBag {
            posted: None,
            added: &added,
        };
        assert_eq!(without.get("version").cloned(), Some(json!("1.148.4")));
    }
}
