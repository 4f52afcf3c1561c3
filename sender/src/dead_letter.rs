//! The dead-letter file: one JSON line per line or event that cannot be delivered, with why.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::js;

/// An append-only JSON Lines file, opened on the first entry.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    entries: u64,
    line: Vec<u8>,
}

impl DeadLetter {
    /// A dead-letter file at `path` (created, or appended to, on the first entry).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: None,
            entries: 0,
            line: Vec::new(),
        }
    }

    /// Where entries go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries written by this process.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// A malformed input line: `{"reason","source","offset","line"}` (the line as a string,
    /// invalid UTF-8 replaced).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn line(
        &mut self,
        reason: &str,
        source: &str,
        offset: u64,
        line: &[u8],
    ) -> Result<(), Error> {
        let mut out = std::mem::take(&mut self.line);
        out.clear();
        out.extend_from_slice(b"{\"reason\":");
        js::write_json_str(&mut out, reason.as_bytes());
        out.extend_from_slice(b",\"source\":");
        js::write_json_str(&mut out, source.as_bytes());
        out.extend_from_slice(format!(",\"offset\":{offset},\"line\":").as_bytes());
        js::write_json_str(&mut out, String::from_utf8_lossy(line).as_bytes());
        out.extend_from_slice(b"}\n");
        let result = self.write(&out);
        self.line = out;
        result
    }

    /// An event Amplitude refused: `{"reason","event"}` with the event's JSON as sent.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn event(&mut self, reason: &str, event_json: &[u8]) -> Result<(), Error> {
        let mut out = std::mem::take(&mut self.line);
        out.clear();
        out.extend_from_slice(b"{\"reason\":");
        js::write_json_str(&mut out, reason.as_bytes());
        out.extend_from_slice(b",\"event\":");
        out.extend_from_slice(event_json);
        out.extend_from_slice(b"}\n");
        let result = self.write(&out);
        self.line = out;
        result
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| Error::io(self.path.display(), e))?;
            self.file = Some(BufWriter::new(file));
        }
        if let Some(file) = &mut self.file {
            file.write_all(bytes)
                .map_err(|e| Error::io(self.path.display(), e))?;
        }
        self.entries += 1;
        Ok(())
    }

    /// Writes buffered entries through to the file and syncs it, before a checkpoint moves
    /// past the lines they came from.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn sync(&mut self) -> Result<(), Error> {
        if let Some(file) = &mut self.file {
            file.flush()
                .map_err(|e| Error::io(self.path.display(), e))?;
            file.get_ref()
                .sync_data()
                .map_err(|e| Error::io(self.path.display(), e))?;
        }
        Ok(())
    }
}
