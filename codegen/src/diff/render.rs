//! The diff report as text (terminals and logs), JSON (tools; documented in docs/diff.md) and
//! Markdown (pull-request comments and the docs' changes page).

use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use super::mapping::Definition;
use super::names::Size;
use super::{Change, Report, Severity};
use crate::diagnostic::display_path;
use crate::model::Location;

fn location(l: &Location) -> String {
    format!("{}:{}:{}", display_path(&l.file), l.line, l.column)
}

fn size(s: Size) -> String {
    match s {
        Size::Finite(1) => "1 name".into(),
        Size::Finite(n) => format!("{n} names"),
        Size::Infinite => "infinitely many names".into(),
    }
}

fn types(t: &[String]) -> String {
    if t.is_empty() {
        "nothing".into()
    } else {
        t.join(", ")
    }
}

fn summary(report: &Report) -> String {
    let [b, c, i] = report.counts();
    let allowed = report
        .changes
        .iter()
        .filter(|c| c.severity == Severity::Breaking && c.allowed.is_some())
        .count();
    let mut s = format!("{b} breaking, {c} compatible, {i} info");
    if allowed > 0 {
        let _ = write!(s, " ({allowed} breaking allowed)");
    }
    s
}

/// The report as plain text: one block per change, then a summary line.
pub fn to_text(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.changes {
        let _ = write!(out, "{}[{}]: {}", c.severity.as_str(), c.code, c.path);
        if let Some(l) = &c.location {
            let _ = write!(out, " at {}", location(l));
        }
        out.push('\n');
        let _ = writeln!(out, "  {}", c.message);
        if c.mapping.is_none() && (c.old.is_some() || c.new.is_some()) {
            let _ = writeln!(
                out,
                "  old: {}\n  new: {}",
                c.old.as_deref().unwrap_or("(none)"),
                c.new.as_deref().unwrap_or("(none)")
            );
        }
        if let Some(m) = &c.mapping {
            for e in &m.examples {
                let _ = writeln!(
                    out,
                    "  e.g. `{}`: {} -> {}",
                    e.name,
                    types(&e.old),
                    types(&e.new)
                );
            }
        }
        if let Some(reason) = &c.allowed {
            let _ = writeln!(out, "  allowed: {reason}");
        }
    }
    for a in &report.unused_allows {
        let _ = writeln!(out, "warning: `--allow {a}` matched no change");
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

fn definition(d: &Definition) -> Json {
    match d {
        Definition::Rewrite(name) => json!({"kind": "rewrite", "name": name}),
        Definition::Exact(name) => json!({"kind": "exact", "name": name}),
        Definition::Rule(i) => json!({"kind": "rule", "index": i}),
        Definition::None => json!({"kind": "none"}),
    }
}

fn change_json(c: &Change) -> Json {
    let mut o = json!({
        "code": c.code.as_str(),
        "severity": c.severity.as_str(),
        "path": c.path,
        "message": c.message,
        "old": c.old,
        "new": c.new,
        "location": c.location.as_ref().map(|l| json!({
            "file": display_path(&l.file),
            "line": l.line,
            "column": l.column,
        })),
        "allowed": c.allowed,
    });
    if let Some(m) = &c.mapping {
        o["mapping"] = json!({
            "old": definition(&m.old),
            "new": definition(&m.new),
            "finite": matches!(m.names.size, Size::Finite(_)),
            "size": match m.names.size {
                Size::Finite(n) => Json::from(u64::try_from(n).unwrap_or(u64::MAX)),
                Size::Infinite => Json::Null,
            },
            "exact": m.exact,
            "examples": m.examples.iter().map(|e| json!({
                "name": e.name,
                "old": e.old,
                "new": e.new,
            })).collect::<Vec<_>>(),
        });
    }
    o
}

/// The report as one JSON document (the format is documented in docs/diff.md).
pub fn to_json(report: &Report) -> Json {
    let [b, c, i] = report.counts();
    json!({
        "format": 1,
        "breaking": report.breaking(),
        "counts": {"breaking": b, "compatible": c, "info": i},
        "changes": report.changes.iter().map(change_json).collect::<Vec<_>>(),
        "unused_allows": report.unused_allows,
    })
}

fn md(text: &str) -> String {
    // Inline code spans cannot hold backticks; the rest is escaped where Markdown would read it.
    text.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown: a summary, then the changes by severity, breaking first.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.breaking() {
        "**This change breaks consumers of the events.**"
    } else {
        "Nothing breaks."
    };
    let _ = writeln!(out, "{verdict} {}.\n", summary(report));
    for (severity, title) in [
        (Severity::Breaking, "Breaking"),
        (Severity::Compatible, "Compatible"),
        (Severity::Info, "Info"),
    ] {
        let changes: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| c.severity == severity)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for c in changes {
            let _ = write!(out, "- `{}` `{}`: {}", c.code, c.path, md(&c.message));
            if let Some(l) = &c.location {
                let _ = write!(out, " ({})", location(l));
            }
            out.push('\n');
            if c.mapping.is_none() && (c.old.is_some() || c.new.is_some()) {
                let _ = writeln!(
                    out,
                    "  - old: {}; new: {}",
                    c.old.as_deref().map_or("none".into(), md),
                    c.new.as_deref().map_or("none".into(), md)
                );
            }
            if let Some(m) = &c.mapping {
                let _ = writeln!(out, "  - {}:", size(m.names.size));
                for e in &m.examples {
                    let _ = writeln!(
                        out,
                        "    - `{}`: {} → {}",
                        e.name,
                        md(&types(&e.old)),
                        md(&types(&e.new))
                    );
                }
            }
            if let Some(reason) = &c.allowed {
                let _ = writeln!(out, "  - allowed: {}", md(reason));
            }
        }
        out.push('\n');
    }
    for a in &report.unused_allows {
        let _ = writeln!(out, "Warning: `--allow {a}` matched no change.\n");
    }
    out
}
