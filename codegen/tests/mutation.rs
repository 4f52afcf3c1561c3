//! Mutated schemas never panic: random edits of the reference schema are parsed and lowered,
//! and whatever comes out is rendered.

use metricsmith_codegen::lower::{self, UnitFile};
use metricsmith_codegen::{Date, FileId, Report, SourceFile, Sources, Style, parse};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just("{".to_string()),
                Just("[".to_string()),
                Just(": ".to_string()),
                Just("\n  - ".to_string()),
                Just("&a ".to_string()),
                Just("*a".to_string()),
                Just("'".to_string()),
                Just("(".to_string()),
                Just("\\".to_string()),
                Just("{category}".to_string()),
                Just("é".to_string()),
                "[a-z.]{1,8}",
            ]
        )
            .prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        if chars.is_empty() {
            break;
        }
        match edit {
            Edit::Delete(at, n) => {
                let at = at % chars.len();
                let end = (at + n).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Replace(at, c) => {
                let at = at % chars.len();
                chars[at] = *c;
            }
        }
    }
    chars.into_iter().collect()
}

fn check(text: String) -> Report {
    let mut sources = Sources::new();
    let id = sources.add(SourceFile::new("mutated.yaml", text));
    let source = sources.get(id).expect("the file was just added").clone();
    let (ast, mut diagnostics) = parse::parse_file(FileId(0), &source);
    if let Some(ast) = &ast {
        let files = [UnitFile {
            id,
            source: &source,
            ast,
        }];
        let options = lower::Options {
            today: Date {
                year: 2026,
                month: 1,
                day: 1,
            },
            current_version: Some(140),
            facts: true,
        };
        diagnostics.extend(lower::lower(&files, &options).1);
    }
    let mut report = Report {
        sources,
        diagnostics,
    };
    report.sort();
    report
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_schemas_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let file = ["../schema/fxa/content-server.yaml", "../schema/fxa/auth-server.yaml", "../schema/fxa/common/amplitude.yaml"][which];
        let text = std::fs::read_to_string(file).unwrap();
        let report = check(apply(&text, &edits));
        let rendered = report.render(Style::Plain);
        let _ = report.to_json();
        for d in &report.diagnostics {
            let source = report.sources.get(d.primary.span.file).unwrap();
            prop_assert!(d.primary.span.end <= source.text.len(), "{rendered}");
        }
    }
}
