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
        Err(error) => (None, shape_errors(id, source, error)),
    }
}

/// At most this many more unknown keys are reported for one file after the first.
const MAX_MORE_UNKNOWN_KEYS: usize = 32;

/// Each further unknown key costs a parse of the whole file: larger files report the first only.
const MAX_MENDED_FILE_SIZE: usize = 1024 * 1024;

/// serde stops at the first unknown key. To report every one in a run, the text is mended and
/// parsed again, as long as the next error is another unknown key: a key with a did-you-mean
/// is renamed to it (what the user most likely meant), any other is blanked out with its block.
/// Lines never move, so every later error keeps its line; the report points into the original.
fn shape_errors(id: FileId, source: &SourceFile, first: YamlError) -> Vec<Diagnostic> {
    let mut diagnostics = vec![yaml_diagnostic(id, source, &first)];
    if source.text.len() > MAX_MENDED_FILE_SIZE {
        return diagnostics;
    }
    let mut text = source.text.clone().into_bytes();
    let mut error = first;
    for _ in 0..MAX_MORE_UNKNOWN_KEYS {
        let location = error.location();
        let YamlError::SerdeUnknownField {
            field, expected, ..
        } = error.without_snippet()
        else {
            break;
        };
        let Some(location) = location else {
            break;
        };
        let line = usize::try_from(location.line()).unwrap_or(0);
        let column = usize::try_from(location.column()).unwrap_or(0);
        let mended = match suggest::did_you_mean(field, expected.iter().copied()) {
            Some(meant) => rename_key(&mut text, line, column, field, meant),
            None => blank_key_block(&mut text, line, column),
        };
        if !mended {
            break;
        }
        // Only ASCII keys and spaces replaced bytes, so the text is still UTF-8.
        let Ok(next_text) = std::str::from_utf8(&text) else {
            break;
        };
        match deserialize(next_text) {
            Err(next) if matches!(next.without_snippet(), YamlError::SerdeUnknownField { .. }) => {
                // Same line numbers; on the mended line itself columns may have moved.
                diagnostics.push(yaml_diagnostic(id, source, &next));
                error = next;
            }
            // Anything else may come from the mending: report only what is certain.
            _ => break,
        }
    }
    diagnostics
}

/// The byte offset of `line`:`column` (1-based, column in bytes of ASCII indentation).
fn line_start(text: &[u8], line: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    if line == 1 {
        return Some(0);
    }
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
}

/// Renames the key `field` at `line`:`column` to `meant`, when it is there as written.
fn rename_key(text: &mut Vec<u8>, line: usize, column: usize, field: &str, meant: &str) -> bool {
    let Some(start) = line_start(text, line) else {
        return false;
    };
    // The column counts characters; find the key on its line instead of trusting bytes.
    let end = text[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |n| start + n);
    let Ok(line_text) = std::str::from_utf8(&text[start..end]) else {
        return false;
    };
    let from_column: usize = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    let Some(at) = line_text[from_column..]
        .find(field)
        .map(|i| start + from_column + i)
    else {
        return false;
    };
    text.splice(at..at + field.len(), meant.bytes());
    true
}

/// Replaces the key at `line`:`column` (1-based) and every more-indented line after it with
/// spaces; `false` when the key does not start its line (a flow mapping or a `- key`), where
/// blanking would change the structure.
fn blank_key_block(text: &mut [u8], line: usize, column: usize) -> bool {
    let Some(start) = line_start(text, line) else {
        return false;
    };
    let line_end = |from: usize| {
        text[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(text.len(), |n| from + n)
    };
    let indent = column.saturating_sub(1);
    let end = line_end(start);
    if indent >= end - start || !text[start..start + indent].iter().all(|b| *b == b' ') {
        return false;
    }
    let mut blank_to = end;
    let mut next = end + 1;
    while next < text.len() {
        let next_end = line_end(next);
        let body = &text[next..next_end];
        let spaces = body.iter().take_while(|b| **b == b' ').count();
        let blank_or_comment = body[spaces..].is_empty() || body[spaces] == b'#';
        if !blank_or_comment && spaces <= indent {
            break;
        }
        blank_to = next_end;
        next = next_end + 1;
    }
    for b in &mut text[start + indent..blank_to] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
    true
}

/// Stack for the parser thread: deserializing [`limits::MAX_DEPTH`] levels of the AST takes
/// more than the 2 MiB of a test thread in debug builds.
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Deserializes with the fast path for the YAML subset schema files use, or else with
/// serde-saphyr, which produces every diagnostic.
fn deserialize(text: &str) -> Result<ast::File, YamlError> {
    match crate::yaml::from_str(text) {
        Some(file) => Ok(file),
        None => deserialize_full(text),
    }
}

/// Deserializes on a thread with a known, large stack, so that the depth budget, not the
/// caller's stack size, decides how deep a file may nest.
fn deserialize_full(text: &str) -> Result<ast::File, YamlError> {
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

/// The two YAML parsers on their own, for the differential tests; not a stable API.
#[doc(hidden)]
pub mod parsers {
    use super::{YamlError, ast};

    /// The fast path: `None` when the text is outside its subset or does not deserialize.
    pub fn fast(text: &str) -> Option<ast::File> {
        crate::yaml::from_str(text)
    }

    /// serde-saphyr with the compiler's budgets.
    ///
    /// # Errors
    ///
    /// Every YAML or shape error of the file, as `parse_file` reports it.
    pub fn full(text: &str) -> Result<ast::File, YamlError> {
        super::deserialize_full(text)
    }
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
    match spanned.bytes() {
        Some(range) if range.end <= source.text.len() => Span::new(id, range),
        _ => {
            let (line, column) = spanned.line_col;
            let start = source.offset_of(line as usize, column as usize);
            Span::new(id, start..start)
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown_keys(text: &str) -> Vec<(String, usize)> {
        let source = SourceFile::new("t.yaml", text);
        let (file, diagnostics) = parse_file(FileId(0), &source);
        assert!(file.is_none());
        diagnostics
            .iter()
            .filter(|d| d.code == Code::UnknownKey)
            .map(|d| {
                let (line, _) = source.line_col(d.primary.span.range().start);
                (d.message.clone(), line)
            })
            .collect()
    }

    #[test]
    fn every_unknown_key_is_reported_renamed_or_blanked() {
        // `zzz` has no did-you-mean: it is blanked with its block; `descripton` is renamed.
        let text = "metricsmith: 1\nservice: s\nzzz:\n  nested: 1\n  more: [1]\nevents:\n  a.b:\n    descripton: x\n    kinds: [flow]\n";
        assert_eq!(
            unknown_keys(text),
            [
                ("unknown key `zzz`".to_owned(), 3),
                ("unknown key `descripton`".to_owned(), 8)
            ]
        );
    }

    #[test]
    fn inside_a_flow_mapping_only_renaming_goes_on() {
        // Renaming works mid-line; blanking would break the mapping, so it stops there.
        let renamed =
            "metricsmith: 1\nservice: s\nevents:\n  a.b: {descripton: x, kinds: [flow], zzz: 1}\n";
        assert_eq!(unknown_keys(renamed).len(), 2);
        let blanked =
            "metricsmith: 1\nservice: s\nevents:\n  a.b: {zzz: 1, descripton: x, kinds: [flow]}\n";
        assert_eq!(unknown_keys(blanked).len(), 1);
    }

    #[test]
    fn blanking_keeps_offsets_and_stops_at_the_next_sibling() {
        let mut text = b"a:\n  b: 1\n  c:\n    d: 2\n  e: 3\n".to_vec();
        assert!(blank_key_block(&mut text, 3, 3));
        assert_eq!(text, b"a:\n  b: 1\n    \n        \n  e: 3\n".to_vec());
        assert!(!blank_key_block(&mut text, 9, 1));
    }
}
