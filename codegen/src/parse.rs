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

/// At most this many more shape errors are reported for one file after the first.
const MAX_MORE_SHAPE_ERRORS: usize = 32;

/// Each further shape error costs a parse of the whole file: larger files report the first only.
const MAX_MENDED_FILE_SIZE: usize = 1024 * 1024;

/// serde stops at the first shape error. To report every one in a run, the text is mended
/// and parsed again, as long as the next error is another shape error (not a YAML syntax
/// error, which the mending may have caused):
///
/// - an unknown key with a did-you-mean is renamed to it (what the user most likely meant);
/// - any other unknown key, and a key whose value has the wrong type or shape, is blanked out
///   with its block, as if it were absent;
/// - a mapping that misses a required key is blanked out with its owner, so a required key
///   that was blanked for its own error is not reported missing as well.
///
/// Lines never move, so every later error keeps its line; the report points into the original.
fn shape_errors(id: FileId, source: &SourceFile, first: YamlError) -> Vec<Diagnostic> {
    let mut diagnostics = vec![yaml_diagnostic(id, source, &first)];
    if source.text.len() > MAX_MENDED_FILE_SIZE {
        return diagnostics;
    }
    let mut text = source.text.clone().into_bytes();
    let mut error = first;
    // The keys blanked so far, by line, so that "missing key" after blanking it is not news.
    let mut blanked: Vec<(usize, String)> = Vec::new();
    for _ in 0..MAX_MORE_SHAPE_ERRORS {
        let Some(location) = error.location() else {
            break;
        };
        let line = usize::try_from(location.line()).unwrap_or(0);
        let column = usize::try_from(location.column()).unwrap_or(0);
        let mended = match error.without_snippet() {
            YamlError::SerdeUnknownField {
                field, expected, ..
            } => match suggest::did_you_mean(field, expected.iter().copied()) {
                Some(meant) => rename_key(&mut text, line, column, field, meant),
                None => {
                    blank_lifted(&mut text, line, column, &mut blanked)
                        // Inside a flow mapping: the entry that holds it goes.
                        || owner(&Lines::new(&text), line, column)
                            .is_some_and(|(l, c)| blank_lifted(&mut text, l, c, &mut blanked))
                }
            },
            e if is_shape_error(e) => owner(&Lines::new(&text), line, column)
                .is_some_and(|(l, c)| blank_lifted(&mut text, l, c, &mut blanked)),
            _ => false,
        };
        if !mended {
            break;
        }
        // Only ASCII keys and spaces replaced bytes, so the text is still UTF-8.
        let Ok(next_text) = std::str::from_utf8(&text) else {
            break;
        };
        match deserialize(next_text) {
            Err(next) if is_shape_error(next.without_snippet()) => {
                let already = match next.without_snippet() {
                    // A required key that was blanked for an error of its own.
                    YamlError::SerdeMissingField { field, .. } => {
                        let at = next.location().map(|l| {
                            (
                                usize::try_from(l.line()).unwrap_or(0),
                                usize::try_from(l.column()).unwrap_or(0),
                            )
                        });
                        let lines = Lines::new(&text);
                        at.and_then(|(l, c)| owner(&lines, l, c)).is_some_and(
                            |(owner_line, owner_column)| {
                                let lines = block_lines(&lines, owner_line, owner_column);
                                blanked
                                    .iter()
                                    .any(|(l, key)| lines.contains(l) && key == field)
                            },
                        )
                    }
                    _ => false,
                };
                if !already {
                    // Same line numbers; on a renamed line itself columns may have moved.
                    diagnostics.push(yaml_diagnostic(id, source, &next));
                }
                error = next;
            }
            // Anything else may come from the mending: report only what is certain.
            _ => break,
        }
    }
    diagnostics
}

/// Whether an error is about the shape of the document (keys, types, values) rather than its
/// YAML syntax or a parser budget: the mending goes on past every such error.
fn is_shape_error(error: &YamlError) -> bool {
    matches!(
        error,
        YamlError::SerdeUnknownField { .. }
            | YamlError::SerdeUnknownVariant { .. }
            | YamlError::SerdeMissingField { .. }
    ) || is_invalid_value(error)
}

/// Whether an error is about a value of the wrong type or content: one list for the mending
/// (through [`is_shape_error`]) and for the diagnostic (`Code::InvalidValue`).
fn is_invalid_value(error: &YamlError) -> bool {
    matches!(
        error,
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
            | YamlError::Message { .. }
    )
}

/// The lines of a text, indexed once: the mending looks lines up many times per error.
struct Lines<'t> {
    text: &'t [u8],
    /// The byte offset of each line's start.
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t [u8]) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Lines { text, starts }
    }

    /// The text of line `line` (1-based), without its newline.
    fn get(&self, line: usize) -> Option<&'t [u8]> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        self.text.get(start..end)
    }
}

/// The key whose value holds `line`:`column` (1-based): the line's own key when it starts
/// before the column (`kinds: flow`, `- pattern: x`, `a: {b: 1}`), else the nearest line above
/// that is indented less (a block value). As `(line, column)` of the key, or of the `- ` of a
/// list item.
fn owner(lines: &Lines<'_>, line: usize, column: usize) -> Option<(usize, usize)> {
    let indent_of = |body: &[u8]| body.iter().take_while(|b| **b == b' ').count();
    let body = lines.get(line)?;
    let own = indent_of(body);
    if has_content(body) && own + 1 < column {
        return Some((line, own + 1));
    }
    let limit = column.saturating_sub(1);
    (1..line).rev().find_map(|l| {
        let body = lines.get(l)?;
        let indent = indent_of(body);
        (has_content(body) && indent < limit).then_some((l, indent + 1))
    })
}

/// Blanks the block of the key at `line`:`column`, or of its parent when the key is all the
/// parent holds (an emptied mapping or list would be an error of its own), and records the
/// key blanked.
fn blank_lifted(
    text: &mut [u8],
    line: usize,
    column: usize,
    blanked: &mut Vec<(usize, String)>,
) -> bool {
    let lines = Lines::new(text);
    let (mut line, mut column) = (line, column);
    while let Some((parent, parent_column)) = owner(&lines, line, column) {
        let own = block_lines(&lines, line, column);
        let others = block_lines(&lines, parent, parent_column)
            .skip(1)
            .filter(|l| !own.contains(l))
            .any(|l| lines.get(l).is_some_and(has_content));
        if parent == line || others {
            break;
        }
        (line, column) = (parent, parent_column);
    }
    if let Some(key) = key_at(&lines, line, column) {
        blanked.push((line, key));
    }
    blank_key_block(text, line, column)
}

/// Whether a line holds more than blanks and a comment.
fn has_content(body: &[u8]) -> bool {
    let spaces = body.iter().take_while(|b| **b == b' ').count();
    spaces < body.len() && body[spaces] != b'#'
}

/// The keys holding the key at `line`:`column`, from its direct parent up to the top level,
/// each with whether its line is a list item (`- key: ...`).
fn ancestors(lines: &Lines<'_>, line: usize, column: usize) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let (mut line, mut column) = (line, column);
    while let Some((parent, parent_column)) = owner(lines, line, column) {
        if parent == line || found.len() > limits::MAX_DEPTH {
            break;
        }
        found.push((parent, parent_column));
        (line, column) = (parent, parent_column);
    }
    found
}

/// For an unknown key, the ancestor mapping that does take it ("is it indented too far?"):
/// the key path from the top is followed in the JSON Schema of the language.
fn indented_too_far(text: &[u8], line: usize, column: usize, field: &str) -> Option<String> {
    let schema = json_schema();
    let resolve = |mut node: &'static serde_json::Value| -> &'static serde_json::Value {
        for _ in 0..8 {
            if let Some(name) = node
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                match schema.get("$defs").and_then(|d| d.get(name)) {
                    Some(next) => node = next,
                    None => break,
                }
            } else if let Some(variant) = node
                .get("anyOf")
                .and_then(|v| v.as_array())
                .and_then(|v| v.iter().find(|v| v.get("type") != Some(&"null".into())))
            {
                node = variant;
            } else {
                break;
            }
        }
        node
    };
    // From the top: the mapping schema at each level and the key that holds it.
    let lines = Lines::new(text);
    let mut path = ancestors(&lines, line, column);
    path.reverse();
    let mut levels: Vec<(String, &serde_json::Value)> = vec![("the top level".into(), schema)];
    let mut node = schema;
    for (l, c) in path {
        let body = lines.get(l)?;
        let item = body
            .get(c.saturating_sub(1)..)
            .is_some_and(|b| b.starts_with(b"- "));
        let key = key_at(&lines, l, c);
        node = resolve(node);
        if item {
            node = resolve(node.get("items")?);
        }
        if let Some(key) = key.filter(|_| !item || node.get("properties").is_none()) {
            node = node
                .get("properties")
                .and_then(|p| p.get(&key))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
            node = resolve(node);
            levels.push((format!("`{key}`"), node));
        } else {
            levels.push(("the list item".into(), node));
        }
    }
    // The level of the key itself is the last; the ones above it are "one level up" and more.
    levels.pop();
    levels.into_iter().rev().find_map(|(holder, node)| {
        node.get("properties")
            .and_then(|p| p.get(field))
            .map(|_| holder)
    })
}

/// The JSON Schema of the language, computed once.
fn json_schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::to_value(schemars::schema_for!(ast::File)).unwrap_or_default())
}

/// The key written at `line`:`column` (after a `- `, if any), when it is a plain key.
fn key_at(lines: &Lines<'_>, line: usize, column: usize) -> Option<String> {
    let body = lines.get(line)?;
    let rest = body.get(column.saturating_sub(1)..)?;
    let rest = rest.strip_prefix(b"- ").unwrap_or(rest);
    let end = rest.iter().position(|b| *b == b':')?;
    let key = std::str::from_utf8(&rest[..end]).ok()?.trim();
    (!key.is_empty()).then(|| key.trim_matches(['\'', '"']).to_owned())
}

/// The lines of the block of the key at `line`:`column`: its own and every more-indented line
/// after it.
fn block_lines(lines: &Lines<'_>, line: usize, column: usize) -> std::ops::Range<usize> {
    let indent = column.saturating_sub(1);
    let mut end = line + 1;
    while let Some(body) = lines.get(end) {
        let spaces = body.iter().take_while(|b| **b == b' ').count();
        let blank_or_comment = spaces == body.len() || body[spaces] == b'#';
        if !blank_or_comment && spaces <= indent {
            break;
        }
        end += 1;
    }
    line..end
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
            let (line, column) = source.line_col(offset);
            let up = indented_too_far(source.text.as_bytes(), line, column, field)
                .map(|holder| format!("`{field}` is a key of {holder}: is it indented too far?"));
            let help = up
                .or_else(|| suggest::help(field, expected.iter().copied()))
                .or_else(|| {
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
                .help(format!("add `{field}: ...` to this mapping"))
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
        error if is_invalid_value(error) => {
            let text = lower(&message(error));
            let help = value_help(&text);
            Diagnostic::new(Code::InvalidValue, point, text)
                .label("invalid value")
                .maybe_help(help)
        }
        _ => {
            let text = lower(&message(error));
            let (line, _) = source.line_col(offset);
            let line_text = source
                .text
                .lines()
                .nth(line.saturating_sub(1))
                .unwrap_or("");
            let help = syntax_help(&text, line_text);
            Diagnostic::new(Code::YamlSyntax, point, text)
                .label("invalid YAML")
                .maybe_help(help)
        }
    }
}

/// Help for the value errors beginners meet most, in the words of the schema language.
fn value_help(message: &str) -> Option<String> {
    let help = if message.starts_with("invalid u") || message.starts_with("invalid i") {
        "write a whole number here, such as `134`"
    } else if message.contains("expected sequence start") {
        "write a list: `[a, b]`, or one `- item` per line below the key"
    } else if message.contains("expected mapping start") {
        "write a mapping: `key: value` lines indented below the key, or `{key: value}`"
    } else if message.contains("expected string scalar") {
        "write one piece of text here; quote it when it contains `: ` or `#`, or starts with \
         `[`, `{`, `*` or `&`"
    } else if message.contains("invalid bool") || message.contains("expected a boolean") {
        "write `true` or `false`"
    } else {
        return None;
    };
    Some(help.to_owned())
}

/// Help for the YAML syntax errors beginners meet most; `line` is the line of the error.
fn syntax_help(message: &str, line: &str) -> Option<String> {
    let help = if message.contains("mapping values are not allowed in this context") {
        "a `: ` inside a value starts a mapping: quote the value (`'a: b'`), or check this \
         line's indentation"
    } else if message.contains("expected ',' or ']'") && line.trim_start().starts_with("when:") {
        "quote expressions that contain `[`: `when: ['email_types[category]']`"
    } else if message.contains("expected ',' or ']'") || message.contains("expected ',' or '}'") {
        "close the brackets, and quote items that contain `[`, `]`, `{`, `}`, `,` or `: `"
    } else if message.contains("did not find expected key")
        || message.contains("did not find expected '-' indicator")
    {
        "check the indentation: the keys of one mapping start in the same column, with spaces \
         (not tabs)"
    } else if message.contains("found character that cannot start any token") && line.contains('\t')
    {
        "indent with spaces: YAML does not allow tabs there"
    } else {
        return None;
    };
    Some(help.to_owned())
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
    fn inside_a_flow_mapping_renaming_goes_on_and_blanking_takes_the_entry() {
        // Renaming works mid-line; blanking would break the mapping, so it stops there.
        let renamed =
            "metricsmith: 1\nservice: s\nevents:\n  a.b: {descripton: x, kinds: [flow], zzz: 1}\n";
        assert_eq!(unknown_keys(renamed).len(), 2);
        let blanked =
            "metricsmith: 1\nservice: s\nevents:\n  a.b: {zzz: 1, descripton: x, kinds: [flow]}\n";
        assert_eq!(unknown_keys(blanked).len(), 1);
    }

    /// Every diagnostic of a file that does not parse, in line order as the report shows them.
    fn messages(text: &str) -> Vec<(String, usize)> {
        let source = SourceFile::new("t.yaml", text);
        let (file, diagnostics) = parse_file(FileId(0), &source);
        assert!(file.is_none());
        let mut found: Vec<(String, usize)> = diagnostics
            .iter()
            .map(|d| {
                (
                    d.message.clone(),
                    source.line_col(d.primary.span.range().start).0,
                )
            })
            .collect();
        found.sort_by_key(|(_, line)| *line);
        found
    }

    #[test]
    fn every_shape_error_is_reported_and_a_blanked_key_is_not_missing() {
        // `description` is blanked for its own error: no "missing key `description`" after it.
        let text = "metricsmith: 1\nservice: s\nevents:\n  a.b:\n    description: {x: 1}\n    kinds: flow\n  c.d:\n    kinds: [flow]\n    version: x\n";
        assert_eq!(
            messages(text),
            [
                ("expected string scalar".to_owned(), 5),
                ("expected sequence start".to_owned(), 6),
                ("missing key `description`".to_owned(), 8),
                ("invalid u32".to_owned(), 9),
            ]
        );
    }

    #[test]
    fn an_emptied_mapping_is_blanked_with_its_owner() {
        // Blanking `kinds` alone would leave `a.b:` empty, an error the user did not make.
        let text = "metricsmith: 1\nservice: s\nevents:\n  a.b:\n    kinds: flow\n  c.d:\n    description: x\n    kinds: [flwo]\n";
        assert_eq!(
            messages(text),
            [
                ("expected sequence start".to_owned(), 5),
                ("unknown value `flwo`".to_owned(), 8),
            ]
        );
    }

    #[test]
    fn blanking_keeps_offsets_and_stops_at_the_next_sibling() {
        let mut text = b"a:\n  b: 1\n  c:\n    d: 2\n  e: 3\n".to_vec();
        assert!(blank_key_block(&mut text, 3, 3));
        assert_eq!(text, b"a:\n  b: 1\n    \n        \n  e: 3\n".to_vec());
        assert!(!blank_key_block(&mut text, 9, 1));
    }
}
