//! The durable checkpoint in `--state DIR`: which input, and the offset just after the last
//! line whose events were all accepted (or dead-lettered). Written atomically: a temporary
//! file, fsync, rename over the old one, fsync of the directory.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// A position in the list of inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The input's index in `--input`.
    pub index: usize,
    /// The input as given (`-` for stdin).
    pub input: String,
    /// Byte offset after the last settled line of that input.
    pub offset: u64,
}

/// The checkpoint file of a state directory.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
    tmp: PathBuf,
    dir: PathBuf,
}

impl Checkpoint {
    /// The checkpoint of `state` (the directory is created).
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(state: &Path) -> Result<Self, Error> {
        fs::create_dir_all(state).map_err(|e| Error::io(state.display(), e))?;
        Ok(Self {
            path: state.join("checkpoint.json"),
            tmp: state.join("checkpoint.json.tmp"),
            dir: state.to_path_buf(),
        })
    }

    /// The saved position, if any.
    ///
    /// # Errors
    /// When the file exists but cannot be read or is not a checkpoint.
    pub fn load(&self) -> Result<Option<Position>, Error> {
        let text = match fs::read(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(Error::io(self.path.display(), err)),
        };
        serde_json::from_slice(&text).map(Some).map_err(|err| {
            Error::Config(format!("{}: not a checkpoint: {err}", self.path.display()))
        })
    }

    /// Saves `position` atomically and durably.
    ///
    /// # Errors
    /// When the state directory cannot be written.
    pub fn save(&self, position: &Position) -> Result<(), Error> {
        let io = |e| Error::io(self.tmp.display(), e);
        let text = serde_json::to_vec(position).map_err(|e| Error::Config(e.to_string()))?;
        let mut file = File::create(&self.tmp).map_err(io)?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(self.path.display(), e))?;
        // The rename itself is durable only once the directory is.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io(self.dir.display(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_atomically() {
        let dir =
            std::env::temp_dir().join(format!("metricsmith-checkpoint-{}", std::process::id()));
        let checkpoint = Checkpoint::new(&dir).expect("temp dir");
        assert_eq!(checkpoint.load().expect("no file yet"), None);
        let position = Position {
            index: 1,
            input: "b.log".to_owned(),
            offset: 42,
        };
        checkpoint.save(&position).expect("writable");
        assert_eq!(checkpoint.load().expect("readable"), Some(position));
        assert!(!dir.join("checkpoint.json.tmp").exists());
        fs::write(dir.join("checkpoint.json"), "{").expect("writable");
        let err = checkpoint.load().expect_err("not a checkpoint");
        assert!(err.to_string().contains("not a checkpoint"), "{err}");
        fs::remove_dir_all(&dir).ok();
    }
}
