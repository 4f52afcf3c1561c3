//! An input of `send`: a file or stdin (`-`).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use crate::Error;

/// A file, or stdin.
#[derive(Debug)]
pub enum Input {
    /// `-`.
    Stdin(io::Stdin),
    /// A file.
    File(File),
}

impl Input {
    /// Opens `path` (`-` is stdin).
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: &str) -> Result<Self, Error> {
        if path == "-" {
            return Ok(Self::Stdin(io::stdin()));
        }
        File::open(path)
            .map(Self::File)
            .map_err(|e| Error::io(path, e))
    }

    /// Moves to `offset`: a seek in a file; stdin is read and discarded up to it.
    ///
    /// # Errors
    /// When the input fails or ends before `offset`.
    pub fn skip_to(&mut self, name: &str, offset: u64) -> Result<(), Error> {
        if offset == 0 {
            return Ok(());
        }
        let reached = match self {
            Self::File(file) => {
                let len = file.metadata().map_err(|e| Error::io(name, e))?.len();
                file.seek(SeekFrom::Start(offset.min(len)))
                    .map_err(|e| Error::io(name, e))?
            }
            Self::Stdin(stdin) => io::copy(&mut stdin.take(offset), &mut io::sink())
                .map_err(|e| Error::io(name, e))?,
        };
        if reached < offset {
            return Err(Error::Config(format!(
                "{name} is shorter ({reached} bytes) than the checkpoint's offset {offset}; \
                 remove checkpoint.json in the state directory to start over"
            )));
        }
        Ok(())
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Stdin(stdin) => stdin.read(buf),
            Self::File(file) => file.read(buf),
        }
    }
}
