//! Lines from any reader through one large buffer, with their byte offsets.

use std::io::{self, Read};

/// One line of a [`Reader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its `\n` (a `\r` before it is kept); empty when `too_long`.
    pub text: &'a [u8],
    /// The offset of the line's first byte in the input.
    pub offset: u64,
    /// The offset just after the line and its `\n`: where the next line starts, what a
    /// checkpoint records once this line is done.
    pub end: u64,
    /// The line was longer than the reader's limit: its bytes were skipped, not kept.
    pub too_long: bool,
}

/// Reads lines through one buffer that is reused and grows only up to a limit, so memory stays
/// bounded whatever the input.
///
/// # Examples
/// ```
/// use metricsmith::line::Reader;
/// let mut reader = Reader::new(&b"{\"a\":1}\nsecond"[..]);
/// let first = reader.next_line()?.map(|l| (l.text.to_vec(), l.end));
/// assert_eq!(first, Some((b"{\"a\":1}".to_vec(), 8)));
/// let second = reader.next_line()?.map(|l| (l.text.to_vec(), l.end));
/// assert_eq!(second, Some((b"second".to_vec(), 14)));
/// assert!(reader.next_line()?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The input offset of `buf[start]`.
    offset: u64,
    max_line: usize,
    eof: bool,
}

/// The buffer a reader starts with.
const INITIAL: usize = 1 << 20;
/// The longest line a reader keeps by default.
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

impl<R: Read> Reader<R> {
    /// A reader with a 1 MiB buffer that keeps lines of up to 64 MiB.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, DEFAULT_MAX_LINE)
    }

    /// A reader that keeps lines of up to `max_line` bytes; longer lines come back with
    /// [`Line::too_long`] set and their bytes skipped.
    pub fn with_limit(inner: R, max_line: usize) -> Self {
        let max_line = max_line.max(1);
        Self {
            inner,
            buf: vec![0; INITIAL.min(max_line.saturating_add(1)).max(64)],
            start: 0,
            end: 0,
            offset: 0,
            max_line,
            eof: false,
        }
    }

    /// A reader that starts counting offsets at `offset` (for input resumed from a
    /// checkpoint).
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The offset of the next byte the reader would return.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line, or `None` at the end of the input. A last line without `\n` is a line.
    ///
    /// # Errors
    /// The underlying reader's error (interrupted reads are retried).
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let mut scanned = 0;
        let mut skipping = false;
        let mut skipped: u64 = 0;
        // The line ends at `stop`; the next one starts at `next`.
        let (stop, next) = loop {
            let pending = self.buf.get(self.start + scanned..self.end).unwrap_or(&[]);
            if let Some(at) = memchr::memchr(b'\n', pending) {
                let stop = self.start + scanned + at;
                break (stop, stop + 1);
            }
            scanned = self.end - self.start;
            if self.eof {
                if self.start == self.end && !skipping {
                    return Ok(None);
                }
                break (self.end, self.end);
            }
            if scanned > self.max_line {
                // Too long to keep: drop what was read of it and look for its end.
                skipping = true;
                skipped += scanned as u64;
                self.offset += scanned as u64;
                self.start = self.end;
                scanned = 0;
            }
            self.fill()?;
        };
        let begin = self.offset;
        let end = begin + (next - self.start) as u64;
        let text = if skipping {
            &[][..]
        } else {
            self.buf.get(self.start..stop).unwrap_or(&[])
        };
        self.start = next;
        self.offset = end;
        Ok(Some(Line {
            text,
            offset: begin - skipped,
            end,
            too_long: skipping,
        }))
    }

    /// Reads more input after the unread bytes, moving them to the front or growing the
    /// buffer (up to the line limit) when needed.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_line.saturating_add(1));
            let grown = grown.max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `chunk` bytes per read, to cross buffer boundaries.
    struct Chunked<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], chunk: usize, max: usize) -> Vec<(Vec<u8>, u64, u64, bool)> {
        let mut reader = Reader::with_limit(Chunked { data, chunk }, max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().expect("in-memory reads do not fail") {
            out.push((line.text.to_vec(), line.offset, line.end, line.too_long));
            assert!(out.len() <= data.len() + 1, "the reader must terminate");
        }
        out
    }

    #[test]
    fn splits_lines_with_offsets_whatever_the_read_sizes() {
        let data = b"ab\n\ncd\r\nlast";
        for chunk in [1, 2, 3, 5, 100] {
            assert_eq!(
                lines(data, chunk, 1000),
                vec![
                    (b"ab".to_vec(), 0, 3, false),
                    (b"".to_vec(), 3, 4, false),
                    (b"cd\r".to_vec(), 4, 8, false),
                    (b"last".to_vec(), 8, 12, false),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn empty_input_and_final_newline_give_no_extra_line() {
        assert!(lines(b"", 4, 100).is_empty());
        assert_eq!(lines(b"x\n", 4, 100), vec![(b"x".to_vec(), 0, 2, false)]);
    }

    #[test]
    fn long_lines_are_skipped_with_their_offsets_and_the_rest_is_read() {
        let mut data = vec![b'a'; 300];
        data.extend_from_slice(b"\nok\n");
        data.extend(vec![b'b'; 200]);
        for chunk in [7, 64, 1000] {
            let got = lines(&data, chunk, 100);
            assert_eq!(
                got,
                vec![
                    (vec![], 0, 301, true),
                    (b"ok".to_vec(), 301, 304, false),
                    (vec![], 304, 504, true),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn lines_up_to_the_limit_are_kept_whole() {
        let mut data = vec![b'x'; 100];
        data.push(b'\n');
        let got = lines(&data, 3, 100);
        assert_eq!(got, vec![(vec![b'x'; 100], 0, 101, false)]);
    }
}
