//! `diff`'s mapping changes against the runtime: for random edits of a mapping's rules and
//! table, every name the diff lists as affected maps differently through the runtime's two
//! mappings, and every name it does not list maps the same.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use metricsmith::amplitude::{Env, Mapping, OauthClients, SourceEvent};
use metricsmith_codegen::diff::mapping;
use metricsmith_codegen::{Date, Loader, Model};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

/// Patterns with and without captures, anchored and not, overlapping in several ways.
const PATTERNS: &[&str] = &[
    r"^a\.(\w+)\.view$",
    r"^a\.",
    r"^b\.(x|y)$",
    r"view$",
    r"^a\.x\.view$",
    r"^(\w+)\.submit$",
    r"^a\.([a-z]+)\.view$",
    r"^b\.",
];
const EVENTS: &[&str] = &["view", "submit", "open"];
const GROUPS: &[&str] = &["g1", "g2"];
const KEYS: &[&str] = &["x", "y", "z", "view", "b"];
/// Names that exact entries map (some also match rules).
const EXACT: &[&str] = &["a.x.view", "b.x", "c.submit", "q"];

#[derive(Debug, Clone, PartialEq)]
struct RuleDef {
    pattern: usize,
    group: usize,
    event: usize,
    /// `when: ['kinds[category]']` (only kept for patterns with a capture).
    gated: bool,
}

#[derive(Debug, Clone)]
enum Edit {
    Swap(usize, usize),
    Pattern(usize, usize),
    Target(usize, usize, usize),
    Gate(usize),
    Remove(usize),
    Insert(usize, RuleDef),
    Table(Vec<(usize, usize)>),
    Exact(Vec<(usize, usize, usize)>),
}

fn rule() -> impl Strategy<Value = RuleDef> {
    (
        0..PATTERNS.len(),
        0..GROUPS.len(),
        0..EVENTS.len(),
        any::<bool>(),
    )
        .prop_map(|(pattern, group, event, gated)| RuleDef {
            pattern,
            group,
            event,
            gated,
        })
}

fn table() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..KEYS.len(), 0..GROUPS.len()), 0..=4)
}

fn exact() -> impl Strategy<Value = Vec<(usize, usize, usize)>> {
    prop::collection::vec((0..EXACT.len(), 0..GROUPS.len(), 0..EVENTS.len()), 0..=2)
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..6usize, 0..6usize).prop_map(|(a, b)| Edit::Swap(a, b)),
        (0..6usize, 0..PATTERNS.len()).prop_map(|(a, p)| Edit::Pattern(a, p)),
        (0..6usize, 0..GROUPS.len(), 0..EVENTS.len()).prop_map(|(a, g, e)| Edit::Target(a, g, e)),
        (0..6usize).prop_map(Edit::Gate),
        (0..6usize).prop_map(Edit::Remove),
        (0..6usize, rule()).prop_map(|(a, r)| Edit::Insert(a, r)),
        table().prop_map(Edit::Table),
        exact().prop_map(Edit::Exact),
    ]
}

/// A version of the mapping: rules, table entries, exact entries.
#[derive(Debug, Clone)]
struct Version {
    rules: Vec<RuleDef>,
    table: Vec<(usize, usize)>,
    exact: Vec<(usize, usize, usize)>,
}

fn apply(v: &mut Version, edit: &Edit) {
    if let Edit::Exact(e) = edit {
        v.exact = e.clone();
        return;
    }
    apply_rules(&mut v.rules, &mut v.table, edit);
}

fn apply_rules(rules: &mut Vec<RuleDef>, entries: &mut Vec<(usize, usize)>, edit: &Edit) {
    let n = rules.len();
    match edit {
        Edit::Swap(a, b) if n > 0 => rules.swap(a % n, b % n),
        Edit::Pattern(a, p) if n > 0 => rules[a % n].pattern = *p,
        Edit::Target(a, g, e) if n > 0 => {
            rules[a % n].group = *g;
            rules[a % n].event = *e;
        }
        Edit::Gate(a) if n > 0 => rules[a % n].gated = !rules[a % n].gated,
        Edit::Remove(a) if n > 0 => {
            rules.remove(a % n);
        }
        Edit::Insert(a, r) => rules.insert(a % (n + 1), r.clone()),
        Edit::Table(t) => *entries = t.clone(),
        _ => {}
    }
}

fn yaml(v: &Version) -> String {
    let (rules, entries) = (&v.rules, &v.table);
    // The names exact entries map are declared (E0031), and a layout names the user (E0033).
    let mut s = String::from("metricsmith: 1\nservice: svc\nevents:\n");
    for name in EXACT {
        s.push_str(&format!(
            "  {name}:\n    description: An event.\n    kinds: [activity, not-flow]\n"
        ));
    }
    s.push_str(
        "amplitude:\n  layout:\n    fields:\n      user_id: data.uid\n  groups:\n    g1: {prefix: p_one, description: One.}\n    g2: {prefix: p_two, description: Two.}\n  tables:\n    kinds:\n      description: Kinds.\n      entries:",
    );
    let mut keys: Vec<(usize, usize)> = Vec::new();
    for &(k, v) in entries {
        if !keys.iter().any(|(x, _)| *x == k) {
            keys.push((k, v));
        }
    }
    if keys.is_empty() {
        s.push_str(" {}\n");
    } else {
        s.push('\n');
        for (k, v) in keys {
            s.push_str(&format!("        {}: {}\n", KEYS[k], GROUPS[v]));
        }
    }
    let mut exact: Vec<(usize, usize, usize)> = Vec::new();
    for &(n, g, e) in &v.exact {
        if !exact.iter().any(|(x, _, _)| *x == n) {
            exact.push((n, g, e));
        }
    }
    if !exact.is_empty() {
        s.push_str("  exact:\n");
        for (n, g, e) in exact {
            s.push_str(&format!(
                "    {}: {{group: {}, event: {}}}\n",
                EXACT[n], GROUPS[g], EVENTS[e]
            ));
        }
    }
    if rules.is_empty() {
        s.push_str("  rules: []\n");
    } else {
        s.push_str("  rules:\n");
    }
    for r in rules {
        let pattern = PATTERNS[r.pattern];
        s.push_str(&format!(
            "    - {{pattern: '{pattern}', group: {}, event: {}",
            GROUPS[r.group], EVENTS[r.event]
        ));
        if r.gated && pattern.contains('(') {
            s.push_str(", when: ['kinds[category]']");
        }
        s.push_str("}\n");
    }
    s
}

fn load(dir: &Path, name: &str, text: &str) -> Model {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let mut loader = Loader::new();
    loader.today(Date {
        year: 2026,
        month: 1,
        day: 1,
    });
    match loader.load(&path) {
        Ok(checked) => checked.model,
        Err(report) => panic!(
            "{}\n{text}",
            report.render(metricsmith_codegen::Style::Plain)
        ),
    }
}

fn run(mapping: &Mapping, name: &str) -> Vec<(Map<String, Json>, bool)> {
    let (name, time) = (json!(name), json!(1_551_700_123_456_i64));
    let mut data = Map::new();
    data.insert("uid".into(), json!("0123456789abcdef0123456789abcdef"));
    let clients = OauthClients::default();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: 0,
    };
    let event = SourceEvent {
        name: Some(&name),
        time: Some(&time),
    };
    mapping
        .transform(event, &data, &env)
        .into_iter()
        .map(|e| (e.event, e.logged))
        .collect()
}

fn names() -> Vec<String> {
    let firsts = ["a", "b", "c", "x", ""];
    let mids = ["x", "y", "z", "view", "b", "q1", "Y"];
    let lasts = ["view", "submit", ""];
    let mut out = Vec::new();
    for f in firsts {
        for m in mids {
            out.push(format!("{f}.{m}"));
            for l in lasts {
                out.push(format!("{f}.{m}.{l}"));
            }
        }
    }
    out.extend([
        "view".into(),
        "a.".into(),
        "aview".into(),
        "x.submit".into(),
    ]);
    out
}

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-diff-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn listed_names_map_differently_and_the_others_the_same(
        old_rules in prop::collection::vec(rule(), 0..=5),
        old_table in table(),
        old_exact in exact(),
        edits in prop::collection::vec(edit(), 1..=3),
    ) {
        let old = Version { rules: old_rules, table: old_table, exact: old_exact };
        let mut new = old.clone();
        for e in &edits {
            apply(&mut new, e);
        }
        let dir = dir();
        let old = load(&dir, "old.yaml", &yaml(&old));
        let new = load(&dir, "new.yaml", &yaml(&new));
        let (a, b) = (&old.services["svc"], &new.services["svc"]);
        let path = Path::new("svc");
        let ma = metricsmith_cli::schema::mapping_of(&old, path).unwrap();
        let mb = metricsmith_cli::schema::mapping_of(&new, path).unwrap();
        let diff = mapping::diff(a, b).unwrap();
        for change in &diff.changes {
            prop_assert!(!change.names.examples.is_empty(), "{change:?}");
            if !change.exact {
                // Two different patterns that read their captures: every name of the pair
                // is listed, whether or not its captures differ.
                continue;
            }
            for name in &change.names.examples {
                prop_assert!(run(&ma, name) != run(&mb, name), "listed `{}` maps the same: {:?}", name, change);
            }
        }
        for name in names() {
            let differs = run(&ma, &name) != run(&mb, &name);
            if diff.oracle.exact(&name) {
                prop_assert_eq!(diff.oracle.affected(&name), differs, "`{}`", name);
            } else {
                prop_assert!(diff.oracle.affected(&name) || !differs, "`{}`", name);
            }
        }
    }
}
