//! Source text -> AST, with the parser budgets that keep hostile input cheap.

use serde_saphyr::{Budget, Error as YamlError, Options};

use crate::ast;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, SourceFile, Span};
use crate::suggest;

/// The only format version this compiler reads.
pub const FORMAT_VERSION: u32 = 1;

/// Parser budgets. Each is documented in `docs/schema-language.md`.
pub mod limits {
    /// Maximum nesting depth of YAML collections.
    pub const MAX_DEPTH: usize = 64;
    /// Maximum YAML nodes per file (a 10,000-event file needs about 300,000).
    pub const MAX_NODES: usize = 5_000_000;
    /// Maximum parser events per file.
    pub const MAX_EVENTS: usize = 10_000_000;
    /// Maximum alias uses (`*name`) per file.
    pub const MAX_ALIASES: usize = 1_000;
    /// Maximum anchors (`&name`) per file.
    pub const MAX_ANCHORS: usize = 1_000;
    /// Maximum total bytes of scalars per file (aliases count each time they are replayed).
    pub const MAX_SCALAR_BYTES: usize = 64 * 1024 * 1024;
    /// Maximum parser events replayed through aliases per file.
    pub const MAX_REPLAYED_EVENTS: usize = 100_000;
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = limits::MAX_DEPTH;
    budget.max_nodes = limits::MAX_NODES;
    budget.max_events = limits::MAX_EVENTS;
    budget.max_aliases = limits::MAX_ALIASES;
    budget.max_anchors = limits::MAX_ANCHORS;
    budget.max_total_scalar_bytes = limits::MAX_SCALAR_BYTES;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = limits::MAX_REPLAYED_EVENTS;
    options
}

/// Parses one file. Returns the AST when the YAML has the right shape, and diagnostics.
pub fn parse_file(id: FileId, source: &SourceFile) -> (Option<ast::File>, Vec<Diagnostic>) {
    let whole = Span::new(id, 0..0);
    if is_blank(&source.text) {
        let diagnostic = Diagnostic::new(Code::FormatVersion, whole, "empty schema file")
            .label("this file contains no YAML document")
            .help(format!(
                "every schema file starts with `metricsmith: {FORMAT_VERSION}`"
            ));
        return (None, vec![diagnostic]);
    }
    match deserialize(&source.text) {
        Ok(file) => {
            let mut diagnostics = Vec::new();
            match &file.metricsmith {
                None => diagnostics.push(
                    Diagnostic::new(Code::FormatVersion, whole, "missing format version")
                        .label("this file does not declare `metricsmith:`")
                        .help(format!(
                            "add `metricsmith: {FORMAT_VERSION}` as the first key"
                        )),
                ),
                Some(version) if version.value != FORMAT_VERSION => diagnostics.push(
                    Diagnostic::new(
                        Code::FormatVersion,
                        span_of(id, source, version),
                        format!("unsupported format version {}", version.value),
                    )
                    .label("this compiler reads version 1 only")
                    .help(format!("write `metricsmith: {FORMAT_VERSION}`")),
                ),
                Some(_) => {}
            }
            (Some(file), diagnostics)
        }
        Err(error) => (None, vec![yaml_diagnostic(id, source, &error)]),
    }
}

/// Stack for the parser thread: deserializing [`limits::MAX_DEPTH`] levels of the AST takes
/// more than the 2 MiB of a test thread in debug builds.
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Deserializes on a thread with a known, large stack, so that the depth budget, not the
/// caller's stack size, decides how deep a file may nest.
fn deserialize(text: &str) -> Result<ast::File, YamlError> {
    let run = || serde_saphyr::from_str_with_options::<ast::File>(text, options());
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("metricsmith-parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, run)
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread available: parse here (the depth budget still bounds recursion).
            Err(_) => run(),
        }
    })
}

/// Whether a file holds no YAML document (only blanks and comments).
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// The file span of a spanned AST value.
pub fn span_of<T>(id: FileId, source: &SourceFile, spanned: &ast::Spanned<T>) -> Span {
    if spanned.range.start <= source.text.len() && spanned.range.end <= source.text.len() {
        Span::new(id, spanned.range.clone())
    } else {
        let start = source.offset_of(spanned.line_col.0, spanned.line_col.1);
        Span::new(id, start..start)
    }
}

fn yaml_diagnostic(id: FileId, source: &SourceFile, error: &YamlError) -> Diagnostic {
    let error = error.without_snippet();
    let offset = error.location().map_or(0, |location| {
        let line = usize::try_from(location.line()).unwrap_or(1);
        let column = usize::try_from(location.column()).unwrap_or(1);
        source.offset_of(line, column)
    });
    // Point at one character (or the whole word for keys) rather than an empty span.
    let word_end = source.text[offset..]
        .find(|c: char| c == ':' || c.is_whitespace() || c == ',' || c == '}' || c == ']')
        .map_or(source.text.len(), |n| offset + n);
    let char_end = source.text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    let word = Span::new(id, offset..word_end.max(char_end));
    let point = Span::new(id, offset..char_end);
    match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            let help = suggest::help(field, expected.iter().copied()).or_else(|| {
                Some(format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            });
            Diagnostic::new(Code::UnknownKey, word, format!("unknown key `{field}`"))
                .label("not a key here")
                .maybe_help(help)
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let help = suggest::help(variant, expected.iter().copied()).or_else(|| {
                Some(format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            });
            Diagnostic::new(
                Code::InvalidValue,
                word,
                format!("unknown value `{variant}`"),
            )
            .label("not a value here")
            .maybe_help(help)
        }
        YamlError::SerdeMissingField { field, .. } => {
            Diagnostic::new(Code::InvalidValue, point, format!("missing key `{field}`"))
                .label(format!("this mapping needs `{field}`"))
        }
        YamlError::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            Diagnostic::new(Code::Duplicate, word, format!("duplicate key `{key}`"))
                .label("defined again here")
                .help("each key may appear once in a mapping")
        }
        YamlError::Budget { breach, .. } => Diagnostic::new(
            Code::ResourceLimit,
            point,
            format!("the file exceeds a parser limit: {}", breach_text(breach)),
        )
        .label("limit reached here")
        .help("see the limits in docs/schema-language.md"),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. }
        | YamlError::AliasError { .. } => Diagnostic::new(
            Code::ResourceLimit,
            point,
            "the file expands aliases beyond the parser limit",
        )
        .label("limit reached here")
        .help("see the limits in docs/schema-language.md"),
        YamlError::SerdeInvalidType { .. }
        | YamlError::SerdeInvalidValue { .. }
        | YamlError::SerdeInvalidLength { .. }
        | YamlError::NullIntoString { .. }
        | YamlError::Unexpected { .. }
        | YamlError::InvalidScalar { .. }
        | YamlError::InvalidBooleanStrict { .. }
        | YamlError::UnexpectedValueForUnit { .. }
        | YamlError::ExternallyTaggedEnumExpectedScalarOrMapping { .. }
        | YamlError::UnexpectedValueForUnitEnumVariant { .. }
        | YamlError::Message { .. } => {
            Diagnostic::new(Code::InvalidValue, point, lower(&message(error)))
                .label("invalid value")
        }
        _ => Diagnostic::new(Code::YamlSyntax, point, lower(&message(error))).label("invalid YAML"),
    }
}

fn breach_text(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => format!("nesting deeper than {} levels", limits::MAX_DEPTH),
        B::Aliases { .. } => format!("more than {} aliases", limits::MAX_ALIASES),
        B::Anchors { .. } => format!("more than {} anchors", limits::MAX_ANCHORS),
        B::Nodes { .. } => format!("more than {} nodes", limits::MAX_NODES),
        B::Events { .. } => format!("more than {} parser events", limits::MAX_EVENTS),
        B::ScalarBytes { .. } => format!("more than {} bytes of scalars", limits::MAX_SCALAR_BYTES),
        B::Documents { .. } => "more than one YAML document".to_string(),
        other => lower(&format!("{other:?}")),
    }
}

/// The parser's message without its ` at line L, column C` suffix.
fn message(error: &YamlError) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Lower-cases the first letter, as diagnostic messages are.
fn lower(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
