//! The validated body, read in place: the request body parsed once into a reused
//! [`metricsmith::line::Doc`], with what validation changed kept beside it in an [`Overlay`]
//! rather than written into a tree, and the keys the content server sets on the body kept in a
//! [`Root`].
//!
//! The handlers and the data bags read the body through [`View`], which applies both; it
//! behaves as the `serde_json::Value` that validation used to convert in place would have.

use metricsmith::line;
use metricsmith::view::{JsonRef, Kind};
use serde_json::Value;

use crate::Location;

/// What validation changed in a parsed body: Joi's conversions, and the members of objects
/// whose undeclared keys it stripped.
///
/// Values are named by their [`line::Value::id`]; both lists are sorted once validation ends.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// The converted values: a string converted to a number or a boolean, or a string of JSON
    /// text parsed (and checked) into an object or an array, which is rare enough to be owned.
    patches: Vec<(u32, Value)>,
    /// The values of stripped members (every occurrence of a repeated key).
    stripped: Vec<u32>,
}

impl Overlay {
    /// Records that the value `id` reads as `value`.
    pub(crate) fn patch(&mut self, id: u32, value: Value) {
        self.patches.push((id, value));
    }

    /// Records that the member whose value is `id` is stripped.
    pub(crate) fn strip(&mut self, id: u32) {
        self.stripped.push(id);
    }

    /// Sorts the notes for lookups; validation calls it once it is done.
    pub(crate) fn finish(&mut self) {
        self.patches.sort_by_key(|(id, _)| *id);
        self.stripped.sort_unstable();
    }

    /// Whether validation changed nothing.
    fn is_empty(&self) -> bool {
        self.patches.is_empty() && self.stripped.is_empty()
    }

    fn patched(&self, id: u32) -> Option<&Value> {
        if self.patches.is_empty() {
            return None;
        }
        let at = self.patches.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        self.patches.get(at).map(|(_, value)| value)
    }

    fn is_stripped(&self, id: u32) -> bool {
        !self.stripped.is_empty() && self.stripped.binary_search(&id).is_ok()
    }

    /// The view of `value`, a value of the document this overlay belongs to.
    pub(crate) fn view<'a>(&'a self, value: line::Value<'a>) -> View<'a> {
        match self.patched(value.id()) {
            Some(patched) => View::Owned(patched),
            None => View::Doc(self, value),
        }
    }
}

/// A value of the validated body, or one the handlers set on it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum View<'a> {
    /// A value of the parsed body, with the overlay over it.
    Doc(&'a Overlay, line::Value<'a>),
    /// A converted value, or one the handler built.
    Owned(&'a Value),
    /// A string the handler set (the `User-Agent` header).
    Str(&'a str),
    /// The `location` object the content server sets: `country` and `state` when known.
    Location(Option<&'a Location>),
    /// The body's root object with the keys the handler set or deleted.
    Root(&'a Root<'a>),
}

/// `null`, for events without a `type` and the like.
pub(crate) static NULL: Value = Value::Null;

impl<'a> View<'a> {
    /// Whether the value is an object.
    pub(crate) fn is_object(self) -> bool {
        matches!(self.kind(), Kind::Object)
    }

    /// Whether the value is an array.
    pub(crate) fn is_array(self) -> bool {
        matches!(self.kind(), Kind::Array)
    }

    /// Calls `f` with each member of an object, as [`JsonRef::entries`] gives them: the data
    /// bag's walk, once per event, without the iterator adapters that `entries` stacks up.
    pub(crate) fn for_each_entry(self, f: impl FnMut(&'a str, View<'a>)) {
        match self {
            View::Root(root) => root.for_each_entry(f),
            _ => self.for_each_plain_entry(f),
        }
    }

    /// [`View::for_each_entry`] of an object other than [`View::Root`].
    fn for_each_plain_entry(self, mut f: impl FnMut(&'a str, View<'a>)) {
        match self {
            View::Doc(overlay, object) if overlay.is_empty() => {
                for (key, value) in object.entries() {
                    f(key, View::Doc(overlay, value));
                }
            }
            _ => {
                for (key, value) in self.plain_entries() {
                    f(key, value);
                }
            }
        }
    }

    /// The members of an object other than [`View::Root`], which builds on them.
    fn plain_entries(self) -> impl Iterator<Item = (&'a str, View<'a>)> + 'a {
        let (doc, owned, location) = match self {
            View::Doc(overlay, value) => (Some((overlay, value)), None, None),
            View::Owned(value) => (None, Some(value), None),
            View::Location(location) => (None, None, Some(location)),
            View::Str(_) | View::Root(_) => (None, None, None),
        };
        let doc = doc.into_iter().flat_map(|(overlay, object)| {
            object
                .entries()
                .filter(move |(_, value)| !overlay.is_stripped(value.id()))
                .map(move |(key, value)| (key, overlay.view(value)))
        });
        let owned = owned.into_iter().flat_map(|object| {
            JsonRef::entries(object).map(|(key, value)| (key, View::Owned(value)))
        });
        let location = location.into_iter().flat_map(|location| {
            let country = location.and_then(|l| l.country.as_deref());
            let state = location.and_then(|l| l.state.as_deref());
            [("country", country), ("state", state)]
                .into_iter()
                .filter_map(|(key, value)| Some((key, View::Str(value?))))
        });
        doc.chain(owned).chain(location)
    }
}

impl<'a> JsonRef<'a> for View<'a> {
    fn kind(self) -> Kind<'a> {
        match self {
            View::Doc(_, value) => value.kind(),
            View::Owned(value) => value.kind(),
            View::Str(s) => Kind::String(s),
            View::Location(_) | View::Root(_) => Kind::Object,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        let (doc, owned) = match self {
            View::Doc(overlay, value) => (Some((overlay, value)), None),
            View::Owned(value) => (None, Some(value)),
            View::Str(_) | View::Location(_) | View::Root(_) => (None, None),
        };
        let doc = doc
            .into_iter()
            .flat_map(|(overlay, array)| array.items().map(move |item| overlay.view(item)));
        let owned = owned
            .into_iter()
            .flat_map(|array| JsonRef::items(array).map(View::Owned));
        doc.chain(owned)
    }

    fn len(self) -> usize {
        match self {
            View::Doc(_, value) => value.len(),
            View::Owned(value) => value.len(),
            View::Str(_) | View::Location(_) | View::Root(_) => 0,
        }
    }

    fn get(self, key: &str) -> Option<Self> {
        match self {
            View::Doc(overlay, object) => {
                let value = JsonRef::get(object, key)?;
                (!overlay.is_stripped(value.id())).then(|| overlay.view(value))
            }
            View::Owned(object) => object.get(key).map(View::Owned),
            View::Str(_) => None,
            View::Location(location) => {
                let value = match key {
                    "country" => location?.country.as_deref(),
                    "state" => location?.state.as_deref(),
                    _ => None,
                };
                value.map(View::Str)
            }
            View::Root(root) => root.get(key),
        }
    }

    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        let root = match self {
            View::Root(root) => Some(root),
            _ => None,
        };
        self.plain_entries()
            .chain(root.into_iter().flat_map(|root| root.entries()))
    }

    fn escape_free_str(self) -> Option<&'a str> {
        match self {
            View::Doc(_, value) => value.escape_free_str(),
            _ => None,
        }
    }
}

/// The body's root object and the keys the content server sets on it (`metrics.agent = ..`,
/// `delete metrics.agent`, `metrics.location = ..`): a key set again keeps its place, a new
/// one comes after the body's keys, in the order it was first set, and a deleted one leaves
/// the others in their order.
///
/// Only the data bag walks the root's members, and the transform looks each key up in what
/// it walked, so their order is not observable; the values are.
#[derive(Debug)]
pub(crate) struct Root<'a> {
    body: View<'a>,
    /// Each key set (`Some`) or deleted (`None`), once.
    set: Vec<(&'a str, Option<View<'a>>)>,
    /// Whether a key of `set` is a key of the body (usually none is).
    shadows: bool,
}

impl<'a> Root<'a> {
    /// The root `body`, an object that is neither a [`View::Root`] nor a [`View::Location`].
    pub(crate) fn new(body: View<'a>) -> Self {
        Self {
            body,
            set: Vec::new(),
            shadows: false,
        }
    }

    /// `root[key] = value`.
    pub(crate) fn set(&mut self, key: &'a str, value: View<'a>) {
        self.write(key, Some(value));
    }

    /// `delete root[key]`.
    pub(crate) fn delete(&mut self, key: &'a str) {
        self.write(key, None);
    }

    fn write(&mut self, key: &'a str, value: Option<View<'a>>) {
        self.shadows |= self.body.get(key).is_some();
        match self.set.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.set.push((key, value)),
        }
    }

    fn written(&self, key: &str) -> Option<Option<View<'a>>> {
        self.set.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn get(&self, key: &str) -> Option<View<'a>> {
        match self.written(key) {
            Some(value) => value,
            None => self.body.get(key),
        }
    }

    fn for_each_entry(&self, mut f: impl FnMut(&'a str, View<'a>)) {
        if self.shadows {
            for (key, value) in self.entries() {
                f(key, value);
            }
            return;
        }
        self.body.for_each_plain_entry(&mut f);
        for &(key, value) in &self.set {
            if let Some(value) = value {
                f(key, value);
            }
        }
    }

    fn entries(&self) -> impl Iterator<Item = (&'a str, View<'a>)> + '_ {
        let body = self.body;
        let own = body
            .plain_entries()
            .filter_map(|(key, value)| match self.written(key) {
                Some(written) => written.map(|w| (key, w)),
                None => Some((key, value)),
            });
        let added = self.set.iter().filter_map(move |&(key, value)| {
            let value = value?;
            body.get(key).is_none().then_some((key, value))
        });
        own.chain(added)
    }
}

#[cfg(test)]
mod tests {
    use metricsmith::line::Doc;
    use metricsmith::view::Num;
    use serde_json::json;

    use super::*;

    /// The members of `view`, as (key, JSON) pairs in order.
    fn members(view: View<'_>) -> Vec<(String, Value)> {
        view.entries()
            .map(|(k, v)| (k.to_owned(), v.to_json()))
            .collect()
    }

    #[test]
    fn patches_replace_values_and_stripped_members_are_gone() {
        let mut doc = Doc::new();
        let parsed = doc
            .parse(r#"{"a":"1","b":{"x":1,"y":2},"c":[true,"false"],"d":"kept"}"#)
            .expect("JSON");
        let root = parsed.root();
        let mut overlay = Overlay::default();
        let get = |v: line::Value<'_>, k: &str| v.get(k).map(|v| v.id()).unwrap_or(u32::MAX);
        let b = root.get("b").expect("b");
        let c_false = root.get("c").and_then(|c| c.items().nth(1)).expect("c[1]");
        // Recorded out of document order, as validation walks in schema order.
        overlay.patch(c_false.id(), json!(false));
        overlay.patch(get(root, "a"), json!(1));
        overlay.strip(get(b, "y"));
        overlay.finish();
        let view = overlay.view(root);
        assert_eq!(
            view.to_json(),
            json!({"a": 1, "b": {"x": 1}, "c": [true, false], "d": "kept"})
        );
        assert_eq!(
            view.get("a").map(|v| v.kind()),
            Some(Kind::Number(Num::U64(1)))
        );
        let b = view.get("b").expect("b");
        assert!(b.get("y").is_none());
        assert_eq!(members(b), [("x".to_owned(), json!(1))]);
        assert_eq!(view.get("c").map(JsonRef::len), Some(2));
        assert!(view.get("missing").is_none());
    }

    #[test]
    fn repeated_keys_read_as_serde_json_maps_read_them() {
        // The first position and the last value, with the overlay on the last value.
        let text = r#"{"k":"1","z":0,"k":"2","s":1,"s":2}"#;
        let mut doc = Doc::new();
        let parsed = doc.parse(text).expect("JSON");
        let root = parsed.root();
        let mut overlay = Overlay::default();
        let last_k = root.get("k").expect("k");
        overlay.patch(last_k.id(), json!(2));
        // Stripping marks every occurrence.
        metricsmith::view::Bag::pairs(root, |key, value| {
            if key == "s" {
                overlay.strip(value.id());
            }
        });
        overlay.finish();
        let view = overlay.view(root);
        assert_eq!(
            members(view),
            [("k".to_owned(), json!(2)), ("z".to_owned(), json!(0))]
        );
        let mut expected: Value = serde_json::from_str(text).expect("JSON");
        if let Some(object) = expected.as_object_mut() {
            object.insert("k".to_owned(), json!(2));
            object.retain(|key, _| key != "s");
        }
        assert_eq!(view.to_json(), expected);
    }

    #[test]
    fn the_root_takes_set_and_deleted_keys() {
        let mut doc = Doc::new();
        let parsed = doc.parse(r#"{"agent":"body","a":1}"#).expect("JSON");
        let overlay = Overlay::default();
        let location = Location {
            country: Some("Germany".to_owned()),
            state: None,
        };
        let mut root = Root::new(overlay.view(parsed.root()));
        root.set("agent", View::Str("header"));
        root.set("location", View::Location(Some(&location)));
        let view = View::Root(&root);
        assert_eq!(
            view.to_json(),
            json!({"agent": "header", "a": 1, "location": {"country": "Germany"}})
        );
        assert_eq!(view.get("agent").and_then(JsonRef::as_str), Some("header"));
        let mut root = Root::new(overlay.view(parsed.root()));
        root.delete("agent");
        root.set("location", View::Location(None));
        let view = View::Root(&root);
        assert_eq!(view.to_json(), json!({"a": 1, "location": {}}));
        assert!(view.get("agent").is_none());
    }
}
