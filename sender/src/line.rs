//! Lines with their byte offsets, read through one big reused buffer.
//!
//! Kept in one small module so that it can be switched to the runtime's shared line reader
//! (`metricsmith::line`) when that lands.

use std::io::{self, Read};

/// The default buffer: large enough that a read fills it with many lines at once.
const BUFFER: usize = 1 << 20;

/// One line, without its terminator (`\n`; a `\r` before it stays, JSON ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Byte offset of the line's first byte in the input.
    pub start: u64,
    /// Byte offset just after the line's terminator: where the next line starts.
    pub end: u64,
    /// The line's bytes, or the first `max_line` of them when it was longer.
    pub bytes: &'a [u8],
    /// Whether the line was longer than the reader's limit (`bytes` is cut).
    pub too_long: bool,
}

/// Reads lines from `R`; memory is bounded by the buffer and the longest-line limit.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// `buf[head..tail]` is read and not yet returned.
    head: usize,
    tail: usize,
    /// Input offset of `buf[head]`.
    offset: u64,
    max_line: usize,
    eof: bool,
}

impl<R: Read> LineReader<R> {
    /// A reader whose input starts at `offset` (a resumed checkpoint) and whose lines are cut
    /// at `max_line` bytes (the rest of such a line is skipped).
    pub fn new(inner: R, offset: u64, max_line: usize) -> Self {
        Self {
            inner,
            // Room for the longest line and its terminator, so a full buffer always holds one.
            buf: vec![0; BUFFER.max(max_line.saturating_add(2))],
            head: 0,
            tail: 0,
            offset,
            max_line,
            eof: false,
        }
    }

    /// The next complete line. At the end of the input, a last line without a terminator is
    /// returned only when `partial_at_eof` (a growing file is waited on instead: see
    /// [`LineReader::reset_eof`]).
    ///
    /// # Errors
    /// The I/O errors of the input.
    pub fn next_line(&mut self, partial_at_eof: bool) -> io::Result<Option<Line<'_>>> {
        // Bytes after `head` known to hold no terminator.
        let mut scanned = 0;
        // A line longer than the limit: its start offset; its first `max_line` bytes are
        // kept at the buffer's front and the rest is dropped as it is read.
        let mut long_start: Option<u64> = None;
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buf[self.head + scanned..self.tail]) {
                let len = scanned + at;
                let line_start = self.head;
                let end = self.offset + len as u64 + 1;
                self.head += len + 1;
                let start = std::mem::replace(&mut self.offset, end);
                return Ok(Some(self.line(long_start, start, end, line_start, len)));
            }
            scanned = self.tail - self.head;
            if self.eof {
                if !partial_at_eof || (scanned == 0 && long_start.is_none()) {
                    return Ok(None);
                }
                let line_start = self.head;
                let end = self.offset + scanned as u64;
                self.head = self.tail;
                let start = std::mem::replace(&mut self.offset, end);
                return Ok(Some(self.line(long_start, start, end, line_start, scanned)));
            }
            if long_start.is_none() && scanned > self.max_line {
                self.buf
                    .copy_within(self.head..self.head + self.max_line, 0);
                long_start = Some(self.offset);
            }
            if long_start.is_some() {
                // Drop what was read of the long line after its kept prefix.
                self.offset += scanned as u64;
                self.head = self.max_line;
                self.tail = self.max_line;
                scanned = 0;
            } else if self.head > 0 {
                self.buf.copy_within(self.head..self.tail, 0);
                self.tail -= self.head;
                self.head = 0;
            }
            let n = self.inner.read(&mut self.buf[self.tail..])?;
            if n == 0 {
                self.eof = true;
            }
            self.tail += n;
        }
    }

    /// The line of `len` bytes at `buf[from..]`, or the kept prefix of a long line.
    fn line(
        &self,
        long_start: Option<u64>,
        start: u64,
        end: u64,
        from: usize,
        len: usize,
    ) -> Line<'_> {
        match long_start {
            Some(start) => Line {
                start,
                end,
                bytes: &self.buf[..self.max_line],
                too_long: true,
            },
            None => Line {
                start,
                end,
                bytes: &self.buf[from..from + len.min(self.max_line)],
                too_long: len > self.max_line,
            },
        }
    }

    /// Forgets that the end of the input was seen, so a growing file is read on.
    pub fn reset_eof(&mut self) {
        self.eof = false;
    }

    /// The input offset of the next byte not yet returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads everything, one byte per `read` call when `trickle`.
    fn lines(input: &[u8], max_line: usize, trickle: bool) -> Vec<(u64, u64, String, bool)> {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let source: Box<dyn Read> = if trickle {
            Box::new(Trickle(input))
        } else {
            Box::new(input)
        };
        let mut reader = LineReader::new(source, 10, max_line);
        let mut out = Vec::new();
        for _ in 0..1000 {
            let Some(line) = reader.next_line(true).expect("in memory") else {
                return out;
            };
            out.push((
                line.start,
                line.end,
                String::from_utf8_lossy(line.bytes).into_owned(),
                line.too_long,
            ));
        }
        panic!("more lines than bytes");
    }

    #[test]
    fn offsets_cover_the_input_and_long_lines_are_cut() {
        let input = b"ab\n\ncdefgh\r\nxyz";
        for trickle in [false, true] {
            assert_eq!(
                lines(input, 4, trickle),
                vec![
                    (10, 13, "ab".to_owned(), false),
                    (13, 14, String::new(), false),
                    (14, 22, "cdef".to_owned(), true),
                    (22, 25, "xyz".to_owned(), false),
                ],
                "trickle {trickle}"
            );
        }
    }

    #[test]
    fn a_partial_last_line_waits_unless_asked() {
        let mut reader = LineReader::new(&b"a\nbc"[..], 0, 100);
        assert_eq!(
            reader.next_line(false).expect("memory").map(|l| l.end),
            Some(2)
        );
        assert_eq!(reader.next_line(false).expect("memory"), None);
        assert_eq!(reader.offset(), 2);
    }
}
