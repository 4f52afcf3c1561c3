//! Lines from any reader through one large buffer, with their byte offsets.

use std::io::{self, Read};

/// One line of a [`Reader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its `\n` (a `\r` before it is kept); when `too_long`, only the line's
    /// first `max_line` bytes (what a dead-letter record shows of it).
    pub text: &'a [u8],
    /// The offset of the line's first byte in the input.
    pub offset: u64,
    /// The offset just after the line and its `\n`: where the next line starts, what a
    /// checkpoint records once this line is done.
    pub end: u64,
    /// The line was longer than the reader's limit: `text` is its kept prefix and the rest was
    /// skipped as it was read, never held in memory.
    pub too_long: bool,
}

/// Reads lines through one buffer that is reused and grows only up to a limit, so memory stays
/// bounded whatever the input.
///
/// Every stage reads its input with it: `metricsmith map`, `send` (which follows a growing file
/// with [`Reader::next_complete_line`] and [`Reader::reset_eof`]), `live-check`.
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
    /// A line longer than `max_line` is being skipped: the input offset of its first byte.
    /// Its first `max_line` bytes are kept at `buf[..max_line]`, and `start` stays at
    /// `max_line`, so what is read after it is dropped as it is scanned. Kept across calls, so
    /// a long line that is still being written to a followed file is not split.
    long: Option<u64>,
}

/// The buffer a reader starts with.
const INITIAL: usize = 1 << 20;
/// Room for reading on past the kept prefix of a long line, so skipping it takes large reads.
const SKIP_ROOM: usize = 64 << 10;
/// The longest line a reader keeps by default.
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

impl<R: Read> Reader<R> {
    /// A reader with a 1 MiB buffer that keeps lines of up to 64 MiB.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, DEFAULT_MAX_LINE)
    }

    /// A reader that keeps lines of up to `max_line` bytes; longer lines come back with
    /// [`Line::too_long`] set, their first `max_line` bytes kept and the rest skipped.
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
            long: None,
        }
    }

    /// A reader that starts counting offsets at `offset` (for input resumed from a
    /// checkpoint).
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The offset of the next byte the reader would return: after the last line returned.
    pub fn offset(&self) -> u64 {
        self.long.unwrap_or(self.offset)
    }

    /// The next line, or `None` at the end of the input. A last line without `\n` is a line.
    ///
    /// # Errors
    /// The underlying reader's error (interrupted reads are retried).
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.read_line(true)
    }

    /// The next line that ends with `\n`, or `None` at the end of the input: bytes after the
    /// last `\n` are kept unread, as the start of a line still being written. To read on once
    /// the input grew (a followed file), call [`Reader::reset_eof`] and then this again.
    ///
    /// # Errors
    /// The underlying reader's error (interrupted reads are retried).
    ///
    /// # Examples
    /// ```
    /// use metricsmith::line::Reader;
    /// let mut reader = Reader::new(&b"done\nhalf"[..]);
    /// assert_eq!(reader.next_complete_line()?.map(|l| l.end), Some(5));
    /// assert!(reader.next_complete_line()?.is_none());
    /// assert_eq!(reader.offset(), 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_complete_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.read_line(false)
    }

    /// Forgets that the end of the input was seen, so the next call reads on (from a file that
    /// grew since).
    pub fn reset_eof(&mut self) {
        self.eof = false;
    }

    fn read_line(&mut self, partial_at_eof: bool) -> io::Result<Option<Line<'_>>> {
        // Bytes after `start` known to hold no `\n`.
        let mut scanned = 0;
        // The line ends at `stop`; the next one starts at `next`.
        let (stop, next) = loop {
            let pending = self.buf.get(self.start + scanned..self.end).unwrap_or(&[]);
            if let Some(at) = memchr::memchr(b'\n', pending) {
                let stop = self.start + scanned + at;
                break (stop, stop + 1);
            }
            scanned = self.end - self.start;
            if self.eof {
                if !partial_at_eof || (scanned == 0 && self.long.is_none()) {
                    return Ok(None);
                }
                break (self.end, self.end);
            }
            if self.long.is_none() && scanned > self.max_line {
                // Too long to keep: keep its first `max_line` bytes at the front and drop
                // the rest as it is read, looking for its end.
                self.buf
                    .copy_within(self.start..self.start + self.max_line, 0);
                self.long = Some(self.offset);
            }
            if self.long.is_some() {
                self.offset += scanned as u64;
                self.start = self.max_line;
                self.end = self.max_line;
                scanned = 0;
            }
            self.fill()?;
        };
        let end = self.offset + (next - self.start) as u64;
        let line = match self.long.take() {
            Some(offset) => Line {
                text: self.buf.get(..self.max_line).unwrap_or(&[]),
                offset,
                end,
                too_long: true,
            },
            None => Line {
                text: self.buf.get(self.start..stop).unwrap_or(&[]),
                offset: self.offset,
                end,
                too_long: false,
            },
        };
        self.start = next;
        self.offset = end;
        Ok(Some(line))
    }

    /// Reads more input after the unread bytes, moving them to the front or growing the
    /// buffer (up to the line limit) when needed.
    fn fill(&mut self) -> io::Result<()> {
        if self.long.is_none() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // A line of `max_line + 1` bytes must fit to be seen as too long; skipping one needs
        // room after its kept prefix.
        let cap = self.max_line.saturating_add(SKIP_ROOM);
        if self.long.is_some() && self.buf.len() < cap {
            self.buf.resize(cap, 0);
        } else if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(cap).max(self.buf.len() + 1);
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
                    (vec![b'a'; 100], 0, 301, true),
                    (b"ok".to_vec(), 301, 304, false),
                    (vec![b'b'; 100], 304, 504, true),
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

    /// A file that grows between reads: `data` is what was written so far.
    struct Growing {
        data: std::rc::Rc<std::cell::RefCell<Vec<u8>>>,
        read: usize,
        chunk: usize,
    }

    impl Read for Growing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let data = self.data.borrow();
            let n = self.chunk.min(buf.len()).min(data.len() - self.read);
            buf[..n].copy_from_slice(&data[self.read..self.read + n]);
            self.read += n;
            Ok(n)
        }
    }

    /// Follows a file that is written in `pieces`, reading complete lines after each piece.
    fn follow(pieces: &[&[u8]], chunk: usize, max: usize) -> Vec<(Vec<u8>, u64, u64, bool)> {
        let data = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut reader = Reader::with_limit(
            Growing {
                data: data.clone(),
                read: 0,
                chunk,
            },
            max,
        )
        .starting_at(10);
        let mut out = Vec::new();
        for piece in pieces {
            data.borrow_mut().extend_from_slice(piece);
            reader.reset_eof();
            while let Some(line) = reader.next_complete_line().expect("in memory") {
                out.push((line.text.to_vec(), line.offset, line.end, line.too_long));
                assert!(out.len() < 100, "the reader must terminate");
            }
            let consumed: u64 = out.last().map_or(10, |l| l.2);
            assert_eq!(
                reader.offset(),
                consumed,
                "the offset stops after the last line"
            );
        }
        out
    }

    #[test]
    fn a_followed_file_gives_only_complete_lines_however_it_is_written() {
        for chunk in [1, 3, 1000] {
            let got = follow(&[b"ab\nc", b"d", b"\n\nxyz", b"w\n"], chunk, 100);
            assert_eq!(
                got,
                vec![
                    (b"ab".to_vec(), 10, 13, false),
                    (b"cd".to_vec(), 13, 16, false),
                    (b"".to_vec(), 16, 17, false),
                    (b"xyzw".to_vec(), 17, 22, false),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_long_line_still_being_written_is_one_line() {
        let long: Vec<u8> = (0..250u8).map(|i| b'a' + i % 26).collect();
        for chunk in [7, 1000] {
            let got = follow(&[&long[..120], &long[120..], b"\nok\n"], chunk, 100);
            assert_eq!(
                got,
                vec![
                    (long[..100].to_vec(), 10, 261, true),
                    (b"ok".to_vec(), 261, 264, false),
                ],
                "chunk {chunk}"
            );
        }
    }
}
