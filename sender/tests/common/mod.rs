//! Helpers shared by the delivery tests.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use metricsmith_sender::{Config, Error, deliver};
use serde_json::Value;

/// A fresh directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-send-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `send` in a thread, bounded in time.
#[track_caller]
pub fn send(config: &Config, limit: Duration) -> Result<deliver::Summary, Error> {
    let config = config.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(deliver::run(&config));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("send finishes within {limit:?}"))
}

/// The input line number of each event (event_properties.line of `fxa_line`), `$identify`
/// records excluded, in arrival order.
pub fn lines_of(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e["event_type"] != "$identify")
        .map(|e| {
            e["event_properties"]["line"]
                .as_u64()
                .expect("a line number")
        })
        .collect()
}
