//! The fast YAML path against serde-saphyr: whenever the fast path accepts a text, it must give
//! the same AST, spans included, as serde-saphyr; and it must accept the real schema files.

use std::path::{Path, PathBuf};

use metricsmith_codegen::parse::parsers;
use proptest::prelude::*;

/// Every `.yaml` file under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the test directories exist") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A path relative to this crate.
fn in_crate(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Whether the fast path accepted `text`; panics when it disagrees with serde-saphyr.
#[track_caller]
fn agrees(text: &str) -> bool {
    let Some(fast) = parsers::fast(text) else {
        return false;
    };
    match parsers::full(text) {
        Ok(full) => assert_eq!(
            format!("{fast:#?}"),
            format!("{full:#?}"),
            "the fast path differs from serde-saphyr on:\n{text}"
        ),
        Err(error) => panic!("the fast path accepted what serde-saphyr rejects ({error}):\n{text}"),
    }
    true
}

#[test]
fn every_schema_file_parses_as_serde_saphyr_parses_it() {
    let mut accepted = 0;
    let mut files = Vec::new();
    for dir in ["../schema", "../tests/schemas", "tests/invalid"] {
        files.extend(yaml_files(&in_crate(dir)));
    }
    assert!(files.len() > 40, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable schema file");
        if agrees(&text) {
            accepted += 1;
        }
    }
    // Most files are inside the subset; the rest fall back (syntax errors, unknown keys...).
    assert!(accepted * 2 > files.len(), "{accepted} of {}", files.len());
}

#[test]
fn the_fxa_schema_takes_the_fast_path() {
    let files = yaml_files(&in_crate("../schema/fxa"));
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable schema file");
        assert!(agrees(&text), "{} falls back", file.display());
    }
}

/// Documents with every construct of the subset.
const SUBSET: &[&str] = &[
    // Comments, `---`, quoted keys, trailing spaces and comments, empty values.
    "# head\n---   # start\nmetricsmith: 1   \n'service': \"s\" # name\ndescription:\n\
     include: []\n",
    // Literal and folded block scalars with every chomping, blank lines and more-indented
    // lines, at the end of the text with and without a line break.
    "metricsmith: 1\ndescription: |\n  one\n    two\n\n  three\n\n\nevents:\n  a.b:\n    \
     description: >\n      folded\n      text\n\n      para\n        more\n      back\n\n    \
     kinds: [flow]\n  a.c:\n    description: |-\n      strip\n\n  a.d:\n    description: |+\n      \
     keep\n\n\n  a.e:\n    description: >-\n     x\n    # a comment ends it\n  a.f:\n    \
     description: >+\n      last\n      ",
    "metricsmith: 1\ndescription: >\n  no final break",
    "metricsmith: 1\ndescription: |\n  spaces after\n  \n    \n",
    // Compact sequences of mappings, nested sequences and indentless sequences.
    "metricsmith: 1\ninclude:\n- a.yaml\n-   b.yaml\nevents:\n  x.y:\n    description: d\n    \
     kinds:\n    - flow\n    - activity\n    owners:\n      - a@example.com\n      \
     - 'b@example.com'\namplitude:\n  rules:\n    - pattern: '^a$'\n      group: g\n      \
     event: e\n      also:\n        - group: g\n          event: f\n          when: [x]\n        \
     - {group: g, event: h, time_offset: -5}\n    -\n      pattern: b\n      group: g\n      \
     event: e\n",
    // Flow mappings and JSON-like values for serde_json::Value.
    "metricsmith: 1\nproperties:\n  uid: {type: hex, length: 32, required: true}\n  e: {}\n  \
     n: { type: integer , min: -3, max: 0 }\namplitude:\n  examples:\n    - event: a.b\n      \
     time: 1551700123456\n      now: -1\n      \
     data: {\"a\": [1, -2, true, false, null, ~, \"x\", 'y', z, {}, 1.5, -0.25e3, 2E+2], \
     \"b\": {\"c\": \"é§\"}}\n      expect:\n        \
     - {\"op\": \"amplitudeEvent\", \"on\": yes, \"n\": No, \"e\": \"\"}\n        - []\n      \
     oauth_clients: {'0': amo, \"1\": pocket}\n",
    // Escapes, quotes in plain scalars, non-ASCII before nodes on a line.
    "metricsmith: 1\ndescription: \"tab\\t nl\\n \\x41 \\u00e9 \\U0001F600 \\\\ \\/ \\\" q\"\n\
     service: it's a:b#c\nevents:\n  é.ß:\n    description: 'it''s § ''q'''\n    \
     kinds: [ 'flow' , \"activity\" ]\n    allow: [a:b, c#d, -x]\n",
    // Plain scalars that look typed, read as strings.
    "metricsmith: 1\nservice: 'true'\ndescription: 0x10\nevents:\n  a.b:\n    \
     description: 12\n    logger: true\n    expires: 2025-01-01\n    \
     owners: [1.5, .inf, nan, yes]\n",
    // Document markers inside lines, nested compact sequences, comments before nested values.
    "metricsmith: 1\nservice: ---\ndescription: ... x\namplitude:\n  examples:\n    \
     - event: e\n      expect:\n        - - 1\n          - [a, b]\n        -   - {x: y}\n      \
     data:   # the data\n  \
     # more\n        k: v\n        l:\n          - m\n",
];

/// Each document of the subset is accepted and equal to serde-saphyr's.
#[test]
fn the_subset_parses_as_serde_saphyr_parses_it() {
    for document in SUBSET {
        assert!(agrees(document), "falls back:\n{document}");
    }
}

/// Texts outside the subset fall back to serde-saphyr (which may accept or reject them).
#[test]
fn texts_outside_the_subset_fall_back() {
    let documents = [
        // Anchors, aliases, tags, merge keys.
        "metricsmith: 1\nservice: &s a\ndescription: *s\n",
        "metricsmith: !!int 1\n",
        "metricsmith: 1\n<<: {service: a}\n",
        "metricsmith: 1\nevents:\n  <<: {a.b: {description: d}}\n",
        "metricsmith: 1\namplitude:\n  examples:\n    - event: e\n      data: {<<: {a: 1}}\n",
        // Several documents, directives, document end.
        "metricsmith: 1\n---\nmetricsmith: 1\n",
        "%YAML 1.2\n---\nmetricsmith: 1\n",
        "metricsmith: 1\n...\n",
        // Tabs, carriage returns, byte-order marks.
        "metricsmith: 1\nservice:\ta\n",
        "metricsmith: 1\r\nservice: a\r\n",
        "\u{feff}metricsmith: 1\n",
        // Multi-line plain and quoted scalars, multi-line flow collections.
        "metricsmith: 1\ndescription: one\n  two\n",
        "metricsmith: 1\ndescription: 'one\n  two'\n",
        "metricsmith: 1\ninclude: [a,\n  b]\n",
        // Complex keys, flow keys, explicit indentation indicators, empty block scalars.
        "metricsmith: 1\n? service\n: a\n",
        "metricsmith: 1\n[a]: b\n",
        "metricsmith: 1\ndescription: |2\n   x\n",
        "metricsmith: 1\ndescription: |\nservice: a\n",
        // Duplicate keys, also spelled differently, and integer keys.
        "metricsmith: 1\nservice: a\n'service': b\n",
        "metricsmith: 1\namplitude:\n  examples:\n    - event: a\n      \
         oauth_clients: {1: a, 0x1: b}\n",
        // Unknown keys, wrong types, missing keys, null strings.
        "metricsmith: 1\nservise: a\n",
        "metricsmith: one\n",
        "metricsmith: 1\nevents:\n  a.b:\n    kinds: [flow]\n",
        "metricsmith: 1\nevents:\n  a.b:\n    description:\n",
        "metricsmith: 1\nevents:\n  a.b:\n    description: ~\n",
        // Malformed YAML.
        "metricsmith: 1\n service: a\n",
        " metricsmith: 1\nservice: a\n",
        "metricsmith: 1\nservice: a: b\n",
        "metricsmith: 1\nservice: \"a\" b\n",
        "metricsmith: 1\ninclude: [a, b\n",
        "metricsmith: 1\ninclude: [a,, b]\n",
        "- a\n- b\n",
        "",
    ];
    for document in documents {
        assert!(
            parsers::fast(document).is_none(),
            "the fast path accepts:\n{document}"
        );
    }
}

/// Nesting at the fast path's cap deserializes on a test thread's stack; deeper falls back.
#[test]
fn deep_nesting_stays_on_the_stack_or_falls_back() {
    let nested = |depth: usize| {
        let mut text = String::from("metricsmith: 1\nproperties:\n  p:\n    type: list\n");
        let mut indent = 4;
        for _ in 0..depth {
            text.push_str(&" ".repeat(indent));
            text.push_str("items:\n");
            indent += 2;
            text.push_str(&" ".repeat(indent));
            text.push_str("type: list\n");
        }
        text
    };
    assert!(agrees(&nested(21)));
    assert!(parsers::fast(&nested(22)).is_none());
    let flow = |depth: usize| {
        format!(
            "metricsmith: 1\namplitude:\n  examples:\n    - event: e\n      data: {}1{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    assert!(agrees(&flow(20)));
    assert!(parsers::fast(&flow(21)).is_none());
    assert!(parsers::full(&flow(21)).is_ok());
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteChars(usize, usize),
    Insert(usize, &'static str),
    DuplicateChars(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    Indent(usize, bool),
}

fn edit() -> impl Strategy<Value = Edit> {
    let inserts = prop_oneof![
        Just(":"),
        Just(": "),
        Just("-"),
        Just("- "),
        Just("#"),
        Just(" #"),
        Just("'"),
        Just("\""),
        Just("''"),
        Just("\\"),
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(","),
        Just("&a "),
        Just("*a"),
        Just("!"),
        Just("|"),
        Just(">"),
        Just("|-"),
        Just(">+"),
        Just("~"),
        Just("\n"),
        Just("\n  "),
        Just(" "),
        Just("\t"),
        Just("0"),
        Just("é"),
        Just("null"),
        Just("---\n"),
        Just("<<: "),
        Just("? "),
        Just("|2"),
        Just("%"),
        Just("y"),
        Just("-1"),
    ];
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::DeleteChars(at, n)),
        (any::<usize>(), inserts).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::DuplicateChars(at, n)),
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<bool>()).prop_map(|(at, more)| Edit::Indent(at, more)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        if chars.is_empty() {
            break;
        }
        let len = chars.len();
        match edit {
            Edit::DeleteChars(at, n) => {
                let at = at % len;
                chars.drain(at..(at + n).min(len));
            }
            Edit::Insert(at, s) => {
                let at = at % (len + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::DuplicateChars(at, n) => {
                let at = at % len;
                let copy: Vec<char> = chars[at..(at + n).min(len)].to_vec();
                chars.splice(at..at, copy);
            }
            Edit::DeleteLine(at) | Edit::DuplicateLine(at) | Edit::Indent(at, _) => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                let at = at % lines.len();
                match edit {
                    Edit::DeleteLine(_) => {
                        lines.remove(at);
                    }
                    Edit::DuplicateLine(_) => {
                        let line = lines[at].clone();
                        lines.insert(at, line);
                    }
                    Edit::Indent(_, true) => lines[at].insert(0, ' '),
                    _ => {
                        if lines[at].starts_with(' ') {
                            lines[at].remove(0);
                        }
                    }
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

const FXA: [&str; 4] = [
    "../schema/fxa/content-server.yaml",
    "../schema/fxa/auth-server.yaml",
    "../schema/fxa/common/amplitude.yaml",
    "../schema/fxa/payments-server.yaml",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn edited_schemas_parse_as_serde_saphyr_parses_them_or_fall_back(
        which in 0usize..FXA.len() + SUBSET.len(),
        edits in proptest::collection::vec(edit(), 1..5),
    ) {
        let text = match FXA.get(which) {
            Some(file) => std::fs::read_to_string(in_crate(file)).expect("the FxA schema"),
            None => SUBSET[which - FXA.len()].to_owned(),
        };
        agrees(&apply(&text, &edits));
    }
}

/// A YAML node to render in the styles of the subset (and, through random text, outside it).
#[derive(Debug, Clone)]
enum Node {
    /// A scalar already written out: plain, quoted or flow.
    Inline(String),
    /// A literal or folded block scalar: header and lines (with extra indentation).
    Block(String, Vec<(usize, String)>),
    /// A block sequence; `true` writes it at its key's indentation.
    Seq(Vec<Node>, bool),
    /// A block mapping.
    Map(Vec<(String, Node)>),
}

fn text_chars() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9 :#.'\"\\\\,\\[\\]{}é§&*!|>%@?-]{0,8}")
        .expect("a valid regex")
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9_.-]{0,6}",
        1 => text_chars(),
        1 => "[a-z]{1,4}".prop_map(|k| format!("'{k}'")),
        1 => "[a-z]{1,4}".prop_map(|k| format!("\"{k}\"")),
    ]
}

fn inline_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z][a-zA-Z0-9 ._/-]{0,10}[a-z]",
        2 => prop_oneof![
            Just("1"), Just("-7"), Just("0"), Just("007"), Just("1.5"), Just("true"), Just("No"),
            Just("y"), Just("~"), Just("null"), Just(""), Just("0x1f"), Just("+3"), Just(".inf"),
            Just("18446744073709551616"), Just("-9223372036854775809"), Just("-0.25e3"),
            Just("1e5"), Just("01.5"), Just("1."), Just("1e999"), Just("-.inf"),
        ]
        .prop_map(str::to_owned),
        2 => text_chars(),
        1 => text_chars().prop_map(|t| format!("'{}'", t.replace('\'', "''"))),
        1 => text_chars()
            .prop_map(|t| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))),
        1 => prop_oneof![
            Just("\"\\t\\n\\x41\\u00e9 \\/\""), Just("\"\\q\""), Just("\"\\x01\""), Just("'it''s'"),
        ]
        .prop_map(str::to_owned),
        1 => proptest::collection::vec("[a-z0-9]{1,3}|'[a-z]'|\\{\\}|\\[\\]", 0..4)
            .prop_map(|items| format!("[{}]", items.join(", "))),
        1 => proptest::collection::vec("[a-z]{1,3}: [a-z0-9]{1,3}", 0..3)
            .prop_map(|items| format!("{{{}}}", items.join(", "))),
    ]
}

fn block_scalar() -> impl Strategy<Value = Node> {
    (
        prop_oneof![
            Just("|"),
            Just(">"),
            Just("|-"),
            Just(">-"),
            Just("|+"),
            Just(">+"),
            Just("| # c")
        ],
        proptest::collection::vec(
            (
                prop_oneof![4 => Just(0usize), 1 => 1usize..3],
                prop_oneof![3 => "[a-z#:' ]{1,8}", 1 => Just(String::new())],
            ),
            1..5,
        ),
    )
        .prop_map(|(header, lines)| Node::Block(header.to_owned(), lines))
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![4 => inline_scalar().prop_map(Node::Inline), 1 => block_scalar()];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 0..4),
                any::<bool>()
            )
                .prop_map(|(items, flat)| Node::Seq(items, flat)),
            proptest::collection::vec((key(), inner), 0..4).prop_map(Node::Map),
        ]
    })
}

/// Writes `node` as the value after `key:` or `-` at indentation `indent`.
fn render(node: &Node, indent: usize, step: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match node {
        Node::Inline(text) => {
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
        Node::Block(header, lines) => {
            out.push(' ');
            out.push_str(header);
            out.push('\n');
            for (extra, line) in lines {
                if !line.is_empty() {
                    out.push_str(&pad(indent + step + extra));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Node::Seq(items, flat) if !items.is_empty() => {
            out.push('\n');
            let at = if *flat { indent } else { indent + step };
            for item in items {
                out.push_str(&pad(at));
                out.push('-');
                render(item, at, step.max(2), out);
            }
        }
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            for (key, value) in entries {
                out.push_str(&pad(indent + step));
                out.push_str(key);
                out.push(':');
                render(value, indent + step, step, out);
            }
        }
        Node::Seq(..) => out.push_str(" []\n"),
        Node::Map(_) => out.push_str(" {}\n"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random nodes where the AST takes any value (`data`), spanned strings (layout fields)
    /// and block scalars (descriptions).
    #[test]
    fn generated_documents_parse_as_serde_saphyr_parses_them_or_fall_back(
        data in node(),
        fields in proptest::collection::vec((key(), inline_scalar()), 0..4),
        description in prop_oneof![inline_scalar().prop_map(Node::Inline), block_scalar()],
        step in 1usize..4,
        comment in any::<bool>(),
    ) {
        let mut text = String::from("metricsmith: 1\nevents:\n");
        text.push_str(&" ".repeat(step));
        text.push_str("a.b:\n");
        text.push_str(&" ".repeat(2 * step));
        text.push_str("description:");
        render(&description, 2 * step, step, &mut text);
        if comment {
            text.push_str("# between\n");
        }
        text.push_str("amplitude:\n  layout:\n    fields:");
        let fields = fields.into_iter().map(|(k, v)| (k, Node::Inline(v))).collect();
        render(&Node::Map(fields), 4, step, &mut text);
        text.push_str("  examples:\n    - event: e\n      data:");
        render(&data, 6, step, &mut text);
        agrees(&text);
    }
}
