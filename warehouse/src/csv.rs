//! FxA's daily CSV files, read with the load semantics of Redshift's
//! `COPY ... FORMAT AS CSV MAXERROR AS 100 TRUNCATECOLUMNS`.
//!
//! - RFC 4180: `"` quotes, `""` escapes a quote inside quotes, no header, records end at LF or
//!   CRLF outside quotes. Text after a closing quote is kept (as Python's csv module does).
//! - A record is rejected, with its first physical line number and a reason, when its field
//!   count is wrong, when a BIGINT field is empty or not `^-?[0-9]+$` (or beyond 64 bits), when
//!   it holds a NUL byte or invalid UTF-8, when a quoted field is never closed, or when its
//!   timestamp falls outside the years 1 to 9999. The last three are a port's choices:
//!   PostgreSQL cannot store NUL, and the warehouse stores dates as four-digit years.
//! - Accepted VARCHAR values are truncated to the column width in bytes (Redshift counts bytes),
//!   at a character boundary. An empty field is the empty string, never NULL.

use std::io::BufRead;

use crate::date::Timestamp;

/// The type of a CSV column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvType {
    /// `BIGINT NOT NULL`.
    Int,
    /// `VARCHAR(n)`.
    Text(usize),
}

/// One column of an FxA CSV file, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvColumn {
    /// The column name (as in `temporary_raw_<type>_data`).
    pub name: &'static str,
    /// Its type and width.
    pub ty: CsvType,
}

/// A rejected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The 1-based physical line the record starts on.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// An accepted record: the timestamp, the integer columns and the (truncated) text columns.
#[derive(Debug)]
pub struct Record<'a> {
    /// The 1-based physical line the record starts on.
    pub line: u64,
    /// The `timestamp` column.
    pub timestamp: Timestamp,
    /// Every column in file order; integer columns hold their decimal text.
    pub fields: Vec<&'a str>,
    /// The integer value of each column (0 for text columns).
    pub ints: Vec<i64>,
}

/// Counts of one file's load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Records read.
    pub rows_read: u64,
    /// Records accepted.
    pub rows_loaded: u64,
    /// Values truncated to their column width.
    pub truncated_values: u64,
    /// Rejected records, in file order.
    pub rejected: Vec<Rejected>,
}

/// Why [`read`] stopped early.
#[derive(Debug)]
pub enum ReadError<E> {
    /// Reading the input failed.
    Io(std::io::Error),
    /// The callback failed.
    Accept(E),
}

/// Reads records from `input` and calls `accept` for every accepted one.
///
/// # Errors
/// An I/O error reading the input, or the first error of `accept`.
pub fn read<R: BufRead, E>(
    mut input: R,
    columns: &[CsvColumn],
    counts: &mut LoadCounts,
    mut accept: impl FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let mut parser = Parser::default();
    let mut physical = Vec::new();
    let mut line_number: u64 = 0;
    loop {
        physical.clear();
        let read = input
            .read_until(b'\n', &mut physical)
            .map_err(ReadError::Io)?;
        if read == 0 {
            if parser.in_record {
                counts.rows_read += 1;
                counts.rejected.push(Rejected {
                    line: parser.first_line,
                    reason: "unterminated quoted field".into(),
                });
            }
            return Ok(());
        }
        line_number += 1;
        if !parser.in_record {
            parser.start(line_number);
        }
        if parser.feed(&physical) {
            counts.rows_read += 1;
            match check(&parser, columns, counts) {
                Ok(record) => {
                    counts.rows_loaded += 1;
                    accept(&record).map_err(ReadError::Accept)?;
                }
                Err(reason) => counts.rejected.push(Rejected {
                    line: parser.first_line,
                    reason,
                }),
            }
            parser.in_record = false;
        }
    }
}

#[derive(Debug, Default)]
struct Parser {
    in_record: bool,
    first_line: u64,
    /// The bytes of all fields, back to back.
    data: Vec<u8>,
    /// The end offset of each field in `data`.
    ends: Vec<usize>,
    in_quotes: bool,
    /// The current field started with a quote (a quote right after it may close or escape).
    field_quoted: bool,
    /// A closing-or-escaping quote was just seen inside a quoted field.
    quote_pending: bool,
}

impl Parser {
    fn start(&mut self, line: u64) {
        self.in_record = true;
        self.first_line = line;
        self.data.clear();
        self.ends.clear();
        self.in_quotes = false;
        self.field_quoted = false;
        self.quote_pending = false;
    }

    fn field_is_empty(&self) -> bool {
        self.data.len() == self.ends.last().copied().unwrap_or(0)
    }

    /// Feeds one physical line (with its LF, if any); true when the record is complete.
    fn feed(&mut self, line: &[u8]) -> bool {
        let mut index = 0;
        while index < line.len() {
            let byte = line[index];
            if self.in_quotes {
                if self.quote_pending {
                    self.quote_pending = false;
                    if byte == b'"' {
                        self.data.push(b'"');
                        index += 1;
                        continue;
                    }
                    // The quote closed the field; this byte is handled outside quotes.
                    self.in_quotes = false;
                    continue;
                }
                if byte == b'"' {
                    self.quote_pending = true;
                } else {
                    self.data.push(byte);
                }
                index += 1;
                continue;
            }
            match byte {
                b',' => {
                    self.ends.push(self.data.len());
                    self.field_quoted = false;
                }
                b'"' if self.field_is_empty() && !self.field_quoted => {
                    self.in_quotes = true;
                    self.field_quoted = true;
                }
                b'\n' => {
                    self.ends.push(self.data.len());
                    return true;
                }
                b'\r' if line.get(index + 1) == Some(&b'\n') => {}
                _ => self.data.push(byte),
            }
            index += 1;
        }
        if self.in_quotes && self.quote_pending {
            // The line ended right after a quote: it closed the field at the end of the input.
            self.in_quotes = false;
            self.quote_pending = false;
        }
        if self.in_quotes {
            return false;
        }
        // The last line of the input without a line break.
        self.ends.push(self.data.len());
        true
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let field = &self.data[start..end];
            start = end;
            field
        })
    }
}

fn check<'p>(
    parser: &'p Parser,
    columns: &[CsvColumn],
    counts: &mut LoadCounts,
) -> Result<Record<'p>, String> {
    if parser.ends.len() != columns.len() {
        return Err(format!(
            "{} fields, expected {}",
            parser.ends.len(),
            columns.len()
        ));
    }
    let mut fields = Vec::with_capacity(columns.len());
    let mut ints = Vec::with_capacity(columns.len());
    let mut truncated = 0;
    for (raw, column) in parser.fields().zip(columns) {
        if raw.contains(&0) {
            return Err(format!("NUL byte in {}", column.name));
        }
        let text =
            std::str::from_utf8(raw).map_err(|_| format!("invalid UTF-8 in {}", column.name))?;
        match column.ty {
            CsvType::Int => {
                ints.push(parse_int(text).map_err(|problem| format!("{} {problem}", column.name))?);
                fields.push(text);
            }
            CsvType::Text(width) => {
                let kept = truncate(text, width);
                if kept.len() < text.len() {
                    truncated += 1;
                }
                ints.push(0);
                fields.push(kept);
            }
        }
    }
    let timestamp = Timestamp::from_epoch_seconds(ints[0])
        .ok_or_else(|| format!("timestamp {} is outside the years 1 to 9999", ints[0]))?;
    counts.truncated_values += truncated;
    Ok(Record {
        line: parser.first_line,
        timestamp,
        fields,
        ints,
    })
}

fn parse_int(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("is empty (NULL in a NOT NULL column)".into());
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("is not an integer: {:?}", shorten(text)));
    }
    text.parse()
        .map_err(|_| format!("is out of the BIGINT range: {:?}", shorten(text)))
}

fn shorten(text: &str) -> &str {
    truncate(text, 40)
}

/// The longest prefix of at most `width` bytes that ends on a character boundary.
pub fn truncate(text: &str, width: usize) -> &str {
    if text.len() <= width {
        return text;
    }
    let mut end = width;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The sampling cohort of an id: `STRTOL(SUBSTRING(id FROM 0 FOR 8), 16) % 100`, that is the
/// first seven characters read as C `strtol` reads base 16 (leading white space, a sign, an
/// optional `0x`, then the longest run of hex digits; none gives 0), modulo 100 with the sign
/// of the dividend.
pub fn cohort(id: &str) -> i64 {
    let prefix: String = id.chars().take(7).collect();
    let mut rest = prefix.trim_start_matches([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']);
    let negative = rest.starts_with('-');
    if let Some(stripped) = rest.strip_prefix(['-', '+']) {
        rest = stripped;
    }
    if let Some(stripped) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X"))
        && stripped.starts_with(|c: char| c.is_ascii_hexdigit())
    {
        rest = stripped;
    }
    let mut value: i64 = 0;
    for c in rest.chars() {
        match c.to_digit(16) {
            Some(digit) => value = value * 16 + i64::from(digit),
            None => break,
        }
    }
    if negative {
        value = -value;
    }
    value % 100
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: [CsvColumn; 2] = [
        CsvColumn {
            name: "timestamp",
            ty: CsvType::Int,
        },
        CsvColumn {
            name: "text",
            ty: CsvType::Text(5),
        },
    ];

    fn run(input: &str) -> (Vec<(u64, Vec<String>)>, LoadCounts) {
        let mut counts = LoadCounts::default();
        let mut rows = Vec::new();
        let result = read::<_, ()>(input.as_bytes(), &TWO, &mut counts, |record| {
            rows.push((
                record.line,
                record.fields.iter().map(|f| (*f).to_owned()).collect(),
            ));
            Ok(())
        });
        assert!(result.is_ok(), "reading from memory cannot fail");
        (rows, counts)
    }

    #[test]
    fn quoting_line_breaks_and_truncation() {
        let (rows, counts) = run("1,abc\r\n2,\"a,\"\"b\"\n3,\"x\ny\"\n4,abcdefgh\n5,\n6,\"\"");
        let got: Vec<(u64, Vec<&str>)> = rows
            .iter()
            .map(|(l, f)| (*l, f.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, vec!["1", "abc"]),
                (2, vec!["2", "a,\"b"]),
                (3, vec!["3", "x\ny"]),
                (5, vec!["4", "abcde"]),
                (6, vec!["5", ""]),
                (7, vec!["6", ""]),
            ]
        );
        assert_eq!(
            (
                counts.rows_read,
                counts.rows_loaded,
                counts.truncated_values
            ),
            (6, 6, 1)
        );
    }

    #[test]
    fn malformed_records_are_rejected_with_their_line() {
        let (rows, counts) =
            run("1,a,b\n,x\n12x34,y\n-7,ok\n\n99999999999999999999,z\n2,\"nul\0\"\n3,\"open\n");
        assert_eq!(rows.len(), 1);
        let lines: Vec<u64> = counts.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 5, 6, 7, 8]);
        assert_eq!(counts.rejected[0].reason, "3 fields, expected 2");
        assert_eq!(counts.rejected[6].reason, "unterminated quoted field");
    }

    #[test]
    fn cohorts_follow_strtol_of_seven_characters() {
        let cases = [
            ("", 0),
            ("0000064ff", 0),
            ("fffffff", 55),
            ("00000099", 9),
            ("0000009a", 9),
            ("000000A", 10),
            ("zz", 0),
            ("-000010", -16),
            (" 0x1f", 31),
            ("0xg", 0),
            ("0000031", 49),
        ];
        for (id, expected) in cases {
            assert_eq!(cohort(id), expected, "{id:?}");
        }
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("", 3), "");
    }
}
