//! Diagnostics: stable codes, severities, spans, and rustc-like or JSON rendering.

use std::fmt;
use std::path::Path;

use annotate_snippets as snippets;
use serde::Serialize;

use crate::source::{Sources, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the check.
    Error,
    /// Reported; fails only with `--deny-warnings`.
    Warning,
    /// For information only.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $lint:expr; )*) => {
        /// A stable diagnostic code; `docs/diagnostics.md` lists each with an example.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in code order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code, e.g. `E0012`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// The lint name usable in `allow:`, for codes that can be allowed.
            pub fn lint(self) -> Option<&'static str> {
                match self { $(Code::$variant => $lint,)* }
            }
        }
    };
}

codes! {
    /// A file could not be read.
    Io = "E0001", Error, None;
    /// A path names a directory (or something else) where a file is expected.
    NotAFile = "E0002", Error, None;
    /// A file is not valid UTF-8.
    NotUtf8 = "E0003", Error, None;
    /// A file is larger than the loader's size limit.
    TooLarge = "E0004", Error, None;
    /// The YAML is malformed.
    YamlSyntax = "E0005", Error, None;
    /// The YAML exceeds a parser budget (aliases, nesting depth, nodes).
    ResourceLimit = "E0006", Error, None;
    /// A key that the language does not know.
    UnknownKey = "E0007", Error, None;
    /// A value of the wrong type or shape, or a missing required key.
    InvalidValue = "E0008", Error, None;
    /// The `metricsmith:` format version is missing or unsupported, or the file is empty.
    FormatVersion = "E0009", Error, None;
    /// An included file does not exist or cannot be read.
    MissingInclude = "E0010", Error, None;
    /// Files include each other in a cycle.
    IncludeCycle = "E0011", Error, None;
    /// The same name is defined twice.
    Duplicate = "E0012", Error, None;
    /// A pattern is not a valid regex.
    InvalidRegex = "E0013", Error, None;
    /// A pattern uses a JavaScript regex feature that metricsmith does not support.
    UnsupportedRegex = "E0014", Error, None;
    /// A reference to an Amplitude group that does not exist.
    UnknownGroup = "E0015", Error, None;
    /// A reference to a lookup table that does not exist.
    UnknownTable = "E0016", Error, None;
    /// A reference to a shared property that does not exist.
    UnknownProperty = "E0017", Error, None;
    /// Two names map to the same Rust identifier (or value type), or a name maps to none.
    IdentCollision = "E0018", Error, None;
    /// An invalid combination of event kinds.
    InvalidKinds = "E0019", Error, None;
    /// A family's name template and its parameters disagree.
    FamilyParameters = "E0020", Error, None;
    /// An expression or template does not parse.
    InvalidExpression = "E0021", Error, None;
    /// A capture (`category`, `target`) that does not exist where it is used.
    CaptureUnavailable = "E0022", Error, None;
    /// A function call where functions are not allowed, or an unknown function.
    FunctionNotAllowed = "E0023", Error, None;
    /// A table used as a group lookup does not hold groups.
    TableNotGroups = "E0024", Error, None;
    /// An invalid `expires`, date, version or time window.
    InvalidExpiry = "E0025", Error, None;
    /// An invalid property type or constraint.
    InvalidConstraint = "E0026", Error, None;
    /// An included file declares `service:`.
    ServiceInInclude = "E0027", Error, None;
    /// Two entry files declare the same service.
    DuplicateService = "E0028", Error, None;
    /// An `allow:` entry names no lint.
    UnknownLint = "E0029", Error, None;
    /// A user template does not parse or fails to render.
    Template = "E0030", Error, None;
    /// An exact mapping names no declared event.
    UnknownEvent = "E0031", Error, None;
    /// An event that says `amplitude: false` is mapped by an exact name or a rule.
    ExcludedButMapped = "E0032", Error, None;
    /// The Amplitude layout is missing, or lacks a field that the policy needs.
    IncompleteLayout = "E0033", Error, None;
    /// A collector `max_setting` names no collector setting.
    UnknownSetting = "E0034", Error, None;
    /// A collector policy names a property the request body does not declare.
    UnknownBodyField = "E0035", Error, None;
    /// A collector's handler reads a body field or section that is missing or of another type.
    HandlerNeedsField = "E0036", Error, None;
    /// A collector's default language is not among its supported languages.
    UnknownLanguage = "E0037", Error, None;
    /// An event or family lacks owners, bugs, data reviews or an expiry.
    MissingGovernance = "W0001", Warning, Some("missing-governance");
    /// An event or family has expired.
    Expired = "W0002", Warning, Some("expired");
    /// A name breaks the naming convention.
    Naming = "W0003", Warning, Some("naming");
    /// An unescaped `.` in a pattern for dotted names matches any character.
    UnescapedDot = "W0004", Warning, Some("unescaped-dot");
    /// A rule can never win: earlier rules match every name it matches.
    ShadowedRule = "W0005", Warning, Some("shadowed-rule");
    /// A rule matches no name at all.
    UnmatchableRule = "W0006", Warning, Some("unmatchable-rule");
    /// A declared event that no exact name or rule maps.
    UnmappedEvent = "W0007", Warning, Some("unmapped-event");
    /// An exact name that a rule also matches (the exact mapping wins).
    ExactAlsoMatched = "I0001", Info, Some("exact-also-matched");
    /// The rule automata were too large to analyse.
    AnalysisTooLarge = "I0002", Info, Some("analysis-too-large");
}

/// Where `allow:` silences a lint: on the definition it is reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintSite {
    /// An event or family (governance, naming, mapping of the event).
    Definition,
    /// An Amplitude rule (its pattern, and what it matches).
    Rule,
}

impl Code {
    /// Where `allow:` silences this lint, for codes that are lints.
    pub fn lint_site(self) -> Option<LintSite> {
        match self {
            Code::MissingGovernance | Code::Expired | Code::Naming | Code::UnmappedEvent => {
                Some(LintSite::Definition)
            }
            Code::UnescapedDot
            | Code::ShadowedRule
            | Code::UnmatchableRule
            | Code::ExactAlsoMatched
            | Code::AnalysisTooLarge => Some(LintSite::Rule),
            _ => None,
        }
    }

    /// The code whose lint name is `name`.
    pub fn from_lint(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.lint() == Some(name))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
}

/// One problem found in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// The severity.
    pub severity: Severity,
    /// The message, lower-case, without a trailing period.
    pub message: String,
    /// The primary location.
    pub primary: Label,
    /// Further locations, possibly in other files ("first defined here").
    pub secondary: Vec<Label>,
    /// A suggestion.
    pub help: Option<String>,
    /// Context, such as the services a problem in a shared file was found through.
    pub notes: Vec<String>,
    /// For a lint, where `allow:` silences it (`on rule 3`); none when nothing can.
    pub allowed_at: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            allowed_at: None,
        }
    }

    /// Sets the primary label's text.
    #[must_use]
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Says where `allow:` silences this lint, e.g. `on rule 3`.
    #[must_use]
    pub fn allowed_at(mut self, site: impl Into<String>) -> Diagnostic {
        self.allowed_at = Some(site.into());
        self
    }

    /// Sets the help text when there is one.
    #[must_use]
    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }
}

/// How a report is rendered as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// No colour (files, pipes, build scripts).
    #[default]
    Plain,
    /// ANSI colour (terminals).
    Styled,
}

/// Diagnostics together with the sources they point into.
///
/// `Display` and `Debug` both render every diagnostic as plain rustc-like text followed by a
/// summary line, so `fn main() -> Result<(), Report>` in a build script prints it readably.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The files read.
    pub sources: Sources,
    /// The diagnostics, in a stable order (by file, position, code).
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// The number of errors.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// The number of warnings.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Sorts diagnostics by file, position and code, and removes exact duplicates.
    pub fn sort(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
        });
        self.diagnostics.dedup();
    }

    /// Renders every diagnostic like rustc, followed by a summary line when there are any.
    pub fn render(&self, style: Style) -> String {
        let renderer = match style {
            Style::Plain => snippets::Renderer::plain(),
            Style::Styled => snippets::Renderer::styled(),
        };
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            out.push_str(&self.render_one(&renderer, diagnostic));
            out.push_str("\n\n");
        }
        if !self.diagnostics.is_empty() {
            out.push_str(&self.summary());
            out.push('\n');
        }
        out
    }

    /// `N errors, M warnings` (and infos when there are any).
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let infos = self.count(Severity::Info);
        let mut text = format!(
            "{}, {}",
            plural(self.errors(), "error"),
            plural(self.warnings(), "warning")
        );
        if infos > 0 {
            text.push_str(&format!(", {}", plural(infos, "info")));
        }
        text
    }

    fn render_one(&self, renderer: &snippets::Renderer, d: &Diagnostic) -> String {
        let level = match d.severity {
            Severity::Error => snippets::Level::ERROR,
            Severity::Warning => snippets::Level::WARNING,
            Severity::Info => snippets::Level::INFO,
        };
        let lint_note = d
            .code
            .lint()
            .filter(|_| d.severity != Severity::Error)
            .zip(d.allowed_at.as_deref())
            .map(|(lint, site)| format!("`{lint}` can be allowed with `allow: [{lint}]` {site}"));
        let mut group = snippets::Group::with_title(
            level.primary_title(d.message.as_str()).id(d.code.as_str()),
        );
        // One snippet per file, primary file first, in order of first appearance.
        let mut files = vec![d.primary.span.file];
        for label in &d.secondary {
            if !files.contains(&label.span.file) {
                files.push(label.span.file);
            }
        }
        for file in files {
            let Some(source) = self.sources.get(file) else {
                continue;
            };
            let name = display_path(&source.name);
            let labels = std::iter::once((&d.primary, true))
                .chain(d.secondary.iter().map(|l| (l, false)))
                .filter(|(l, _)| l.span.file == file);
            if source.text.is_empty() {
                group = group.element(snippets::Origin::path(name).line(1).char_column(1));
                continue;
            }
            let mut snippet = snippets::Snippet::source(source.text.as_str()).path(name);
            for (label, primary) in labels {
                let kind = if primary {
                    snippets::AnnotationKind::Primary
                } else {
                    snippets::AnnotationKind::Context
                };
                let start = source.floor_boundary(label.span.start);
                let end = source.floor_boundary(label.span.end).max(start);
                let mut annotation = kind.span(start..end);
                if !label.message.is_empty() {
                    annotation = annotation.label(label.message.as_str());
                }
                snippet = snippet.annotation(annotation);
            }
            group = group.element(snippet);
        }
        if let Some(help) = &d.help {
            group = group.element(snippets::Level::HELP.message(help.as_str()));
        }
        for note in &d.notes {
            group = group.element(snippets::Level::NOTE.message(note.as_str()));
        }
        if let Some(note) = &lint_note {
            group = group.element(snippets::Level::NOTE.message(note.as_str()));
        }
        renderer.render(&[group])
    }

    /// The machine-readable form: `{"diagnostics": [...], "errors": N, "warnings": N, "infos": N}`.
    pub fn to_json(&self) -> serde_json::Value {
        let diagnostics: Vec<_> = self
            .diagnostics
            .iter()
            .map(|d| {
                let primary = self.json_span(d.primary.span);
                let labels: Vec<_> = std::iter::once(&d.primary)
                    .chain(&d.secondary)
                    .map(|l| {
                        let mut span = self.json_span(l.span);
                        span.insert("message".into(), l.message.clone().into());
                        span.insert("primary".into(), std::ptr::eq(l, &d.primary).into());
                        serde_json::Value::Object(span)
                    })
                    .collect();
                let mut object = serde_json::Map::new();
                object.insert("code".into(), d.code.as_str().into());
                object.insert("severity".into(), d.severity.to_string().into());
                object.insert("message".into(), d.message.clone().into());
                object.extend(primary);
                object.insert("labels".into(), labels.into());
                object.insert(
                    "help".into(),
                    d.help.clone().map_or(serde_json::Value::Null, Into::into),
                );
                object.insert("notes".into(), d.notes.clone().into());
                serde_json::Value::Object(object)
            })
            .collect();
        serde_json::json!({
            "diagnostics": diagnostics,
            "errors": self.errors(),
            "warnings": self.warnings(),
            "infos": self.count(Severity::Info),
        })
    }

    fn json_span(&self, span: Span) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        let (file, (line, column), (end_line, end_column)) = match self.sources.get(span.file) {
            Some(source) => (
                display_path(&source.name),
                source.line_col(span.start),
                source.line_col(span.end),
            ),
            None => (String::new(), (1, 1), (1, 1)),
        };
        map.insert("file".into(), file.into());
        map.insert("line".into(), line.into());
        map.insert("column".into(), column.into());
        map.insert("end_line".into(), end_line.into());
        map.insert("end_column".into(), end_column.into());
        map
    }
}

/// A path as shown to users: forward slashes, as given (never made absolute).
pub(crate) fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(Style::Plain).trim_end())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Report {}
