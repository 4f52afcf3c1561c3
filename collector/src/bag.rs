//! The data bags of the amplitude transform, read in place: the body's own entries and the
//! few keys derived from the request (user agent, location), without copying the body into a
//! new map.

use metricsmith::js;
use metricsmith::view::{Bag, JsonRef, Kind};
use serde_json::Value;

use crate::body::View;

/// Keys derived from the request, in the order FxA set them; a later entry wins.
pub(crate) type Added = Vec<(&'static str, Value)>;

fn last<'a>(added: &'a [(&'static str, Value)], key: &str) -> Option<View<'a>> {
    added
        .iter()
        .rev()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| View::Owned(v))
}

/// The content server's bag: the body without falsy values and `"none"`, then the added
/// keys over it (`{...pruned(metrics), ...added}`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentBag<'a> {
    /// The body, an object.
    pub(crate) metrics: View<'a>,
    /// Its members that the bag keeps ([`pruned`]): the transform walks them once per event.
    pub(crate) pruned: &'a [(&'a str, View<'a>)],
    pub(crate) added: &'a [(&'static str, Value)],
}

/// The members of `metrics` that the content server keeps in its bag, in order.
pub(crate) fn pruned<'a>(metrics: View<'a>) -> Vec<(&'a str, View<'a>)> {
    let mut pruned = Vec::with_capacity(32);
    metrics.for_each_entry(|key, value| {
        if kept(value) {
            pruned.push((key, value));
        }
    });
    pruned
}

/// Whether the content server keeps a body value in its bag.
fn kept(value: View<'_>) -> bool {
    match value.kind() {
        Kind::String(s) => !s.is_empty() && s != "none",
        _ => js::truthy(value),
    }
}

impl<'a> Bag<'a> for ContentBag<'a> {
    type Value = View<'a>;

    fn get(self, key: &str) -> Option<View<'a>> {
        if let Some(value) = last(self.added, key) {
            return Some(value);
        }
        JsonRef::get(self.metrics, key).filter(|v| kept(*v))
    }

    fn pairs(self, mut f: impl FnMut(&'a str, View<'a>)) {
        // Each key once, with its last value: a repeated key whose last value is pruned is
        // not in the bag at all.
        for &(key, value) in self.pruned {
            f(key, value);
        }
        for (key, value) in self.added {
            f(key, View::Owned(value));
        }
    }
}

/// The payments server's bag: the added keys, then the posted `data` over them
/// (`{...added, ...data}`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentsBag<'a> {
    /// The posted `data`, when it is an object.
    pub(crate) posted: Option<View<'a>>,
    pub(crate) added: &'a [(&'static str, Value)],
}

impl<'a> Bag<'a> for PaymentsBag<'a> {
    type Value = View<'a>;

    fn get(self, key: &str) -> Option<View<'a>> {
        self.posted
            .and_then(|posted| JsonRef::get(posted, key))
            .or_else(|| last(self.added, key))
    }

    fn pairs(self, mut f: impl FnMut(&'a str, View<'a>)) {
        for (key, value) in self.added {
            f(key, View::Owned(value));
        }
        if let Some(posted) = self.posted {
            posted.for_each_entry(f);
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
        let metrics = View::Owned(&metrics);
        let pruned = pruned(metrics);
        let added = vec![
            ("os", json!("Linux")),
            ("region", json!("x")),
            ("region", json!("y")),
        ];
        let bag = ContentBag {
            metrics,
            pruned: &pruned,
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
            assert_eq!(bag.get(key).map(JsonRef::to_json), expected, "{key}");
        }
        assert_pairs_agree(bag, &["a", "os", "region"]);
    }

    /// Every key `pairs` gives ends with the value of `get`, and `keys` are those it gives.
    #[track_caller]
    fn assert_pairs_agree<'a>(bag: impl Bag<'a, Value = View<'a>>, keys: &[&str]) {
        let mut seen: Vec<(&str, View<'a>)> = Vec::new();
        bag.pairs(
            |key, value| match seen.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => seen.push((key, value)),
            },
        );
        let got: Vec<&str> = seen.iter().map(|(k, _)| *k).collect();
        assert_eq!(got, keys);
        for (key, value) in seen {
            assert_eq!(
                bag.get(key).map(JsonRef::to_json),
                Some(value.to_json()),
                "{key}"
            );
        }
    }

    #[test]
    fn payments_bag_lets_posted_data_win_falsy_or_not() {
        let posted = json!({"version": "", "planId": "p"});
        let added = vec![("version", json!("1.148.4")), ("os", json!("Linux"))];
        let bag = PaymentsBag {
            posted: Some(View::Owned(&posted)),
            added: &added,
        };
        let cases = [
            ("version", Some(json!(""))),
            ("planId", Some(json!("p"))),
            ("os", Some(json!("Linux"))),
            ("missing", None),
        ];
        for (key, expected) in cases {
            assert_eq!(bag.get(key).map(JsonRef::to_json), expected, "{key}");
        }
        assert_pairs_agree(bag, &["version", "os", "planId"]);
        let without = PaymentsBag {
            posted: None,
            added: &added,
        };
        assert_eq!(
            without.get("version").map(JsonRef::to_json),
            Some(json!("1.148.4"))
        );
    }
}
