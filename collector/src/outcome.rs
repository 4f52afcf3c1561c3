//! What handling a request produced, with each output line already written as text: the
//! writers (`collect`, `serve`) copy bytes and never build or read a JSON map per line.

use std::borrow::Cow;
use std::ops::Range;

use metricsmith::amplitude::{Encoding, Env, Mapping};
use metricsmith::mozlog;
use metricsmith::view::Bag;
use serde_json::Value;

/// What handling a request produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` of the answer, when it has a body.
    pub content_type: Option<&'static str>,
    /// The answer's body.
    pub body: String,
    /// The stderr lines (flow events, `client.metrics`, `client.marketing`), each a JSON object
    /// in FxA's key order.
    pub stderr: Lines,
    /// The mozlog lines (stdout), in order.
    pub log: Log,
}

impl Outcome {
    /// An answer with a JSON body and no lines.
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            content_type: Some("application/json; charset=utf-8"),
            body: mozlog::to_js_json(body),
            ..Self::default()
        }
    }
}

/// JSON lines: each line one JSON object (UTF-8, no raw newline), followed by `\n`.
///
/// The text is what a stream receives: [`Lines::as_bytes`] is written as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    text: Vec<u8>,
    count: usize,
}

impl Lines {
    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The lines, each followed by `\n`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The lines, each followed by `\n`, without a copy.
    pub fn into_bytes(self) -> Vec<u8> {
        self.text
    }

    /// Each line, without its `\n`.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        // JSON text escapes newlines, so every `\n` ends a line.
        self.text.split(|&b| b == b'\n').take(self.count)
    }

    /// Writes one line with `write` (a JSON object) and ends it.
    pub(crate) fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.text);
        self.text.push(b'\n');
        self.count += 1;
    }
}

/// One mozlog line of an [`Outcome`]: its `Type`, `Severity` and `Fields`; the writer adds
/// the envelope (`metricsmith::mozlog::write_line_with_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The full `Type`, e.g. `amplitudeEvent` or `server.routes.validation.failed`.
    pub op: &'a str,
    /// The severity number (6 info, 2 error).
    pub severity: u8,
    /// The `Fields` object as mozlog writes it (heka conversion: nested objects and arrays
    /// as their JSON text), UTF-8 JSON text; `None` when the line has no fields.
    pub fields: Option<&'a [u8]>,
}

/// The mozlog lines of an [`Outcome`], their fields written into one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    text: Vec<u8>,
    lines: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    op: Cow<'static, str>,
    severity: u8,
    fields: Option<Range<usize>>,
}

impl Log {
    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line at `index`.
    pub fn get(&self, index: usize) -> Option<LogLine<'_>> {
        self.lines.get(index).map(|entry| self.line(entry))
    }

    /// The lines in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = LogLine<'_>> {
        self.lines.iter().map(|entry| self.line(entry))
    }

    /// The bytes of every line's fields together (a writer's capacity hint).
    pub fn fields_len(&self) -> usize {
        self.text.len()
    }

    fn line<'a>(&'a self, entry: &'a Entry) -> LogLine<'a> {
        LogLine {
            op: &entry.op,
            severity: entry.severity,
            fields: entry
                .fields
                .as_ref()
                .and_then(|range| self.text.get(range.clone())),
        }
    }

    /// Adds a line whose fields are strings (heka leaves them as they are).
    pub(crate) fn push_strings(
        &mut self,
        op: impl Into<Cow<'static, str>>,
        severity: u8,
        fields: &[(&str, &str)],
    ) {
        let start = self.text.len();
        let mut object = Object::new(&mut self.text);
        for (key, value) in fields {
            mozlog::write_json_str(object.key(key), value);
        }
        object.end();
        self.lines.push(Entry {
            op: op.into(),
            severity,
            fields: Some(start..self.text.len()),
        });
    }

    /// Adds the `amplitudeEvent` lines of one source event.
    pub(crate) fn amplitude<'d, B: Bag<'d>>(
        &mut self,
        mapping: &Mapping,
        name: B::Value,
        time: Option<B::Value>,
        data: B,
        env: &Env<'_>,
    ) {
        let Self { text, lines } = self;
        let mut start = text.len();
        mapping.transform_view_each_to(
            Some(name),
            time,
            data,
            env,
            Encoding::Fields,
            text,
            |out| {
                lines.push(Entry {
                    op: Cow::Borrowed("amplitudeEvent"),
                    severity: 6,
                    fields: Some(start..out.len()),
                });
                start = out.len();
            },
        );
    }
}

/// Writes a JSON object's `{`, the `,` and key before each value, and its `}`.
pub(crate) struct Object<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Object<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Writes the key of the next entry and returns the buffer for its value.
    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        mozlog::write_json_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }

    /// Ends the object after `entries`, written beforehand as `,"key":value` each (so only
    /// after a first entry).
    pub(crate) fn end_with(self, entries: &[u8]) {
        self.out.extend_from_slice(entries);
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_each_line_and_iterate_without_the_newline() {
        let mut lines = Lines::default();
        assert!(lines.is_empty());
        assert_eq!(lines.iter().count(), 0);
        for text in [r#"{"a":"x\ny"}"#, "{}"] {
            lines.push(|out| {
                mozlog::write_json(
                    out,
                    &serde_json::from_str::<Value>(text).unwrap_or_default(),
                )
            });
        }
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.as_bytes(), b"{\"a\":\"x\\ny\"}\n{}\n");
        let each: Vec<&[u8]> = lines.iter().collect();
        assert_eq!(each, [&b"{\"a\":\"x\\ny\"}"[..], b"{}"]);
        assert_eq!(lines.clone().into_bytes(), lines.as_bytes());
    }

    #[test]
    fn log_lines_keep_their_op_severity_and_fields() {
        let mut log = Log::default();
        log.push_strings("a.failed", 2, &[("err", "x \"y\""), ("path", "/m")]);
        log.push_strings(String::from("b"), 6, &[]);
        assert_eq!(log.len(), 2);
        assert_eq!(
            log.get(0),
            Some(LogLine {
                op: "a.failed",
                severity: 2,
                fields: Some(&br#"{"err":"x \"y\"","path":"/m"}"#[..]),
            })
        );
        let ops: Vec<(&str, u8, Option<&[u8]>)> =
            log.iter().map(|l| (l.op, l.severity, l.fields)).collect();
        assert_eq!(ops[1], ("b", 6, Some(&b"{}"[..])));
        assert_eq!(log.get(2), None);
        assert_eq!(
            log.fields_len(),
            br#"{"err":"x \"y\"","path":"/m"}{}"#.len()
        );
    }
}
