//! A bounded load test: the `serve-bench` load generator, a second process, posts realistic
//! bodies over keep-alive connections for a few seconds; every answer is a 200, no connection
//! fails, and the server's memory stays flat (its lines go to counting sinks, so what grows
//! would be the server's own).

mod http_support;

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_support::{Captured, TestServer};
use metricsmith_collector::http::{Output, Server};

/// Counts bytes and drops them.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// This process's resident memory in kB (Linux).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn load(address: std::net::SocketAddr, duration_ms: u64) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_serve-bench"))
        .args(["--target", &address.to_string(), "--connections", "4"])
        .args([
            "--duration-ms",
            &duration_ms.to_string(),
            "--warmup-ms",
            "300",
        ])
        .output()
        .expect("serve-bench runs");
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "serve-bench printed {text:?} ({e}); stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn a_bounded_load_from_a_second_process_has_no_errors_and_flat_memory() {
    let (mozlog, stderr) = (Counting::default(), Counting::default());
    let output = Output {
        mozlog: Box::new(mozlog.clone()),
        stderr: Box::new(stderr.clone()),
    };
    let server = TestServer::start_with(
        Server::new(
            vec![http_support::collector(
                "content-server.yaml",
                "1.134.0",
                None,
            )],
            metricsmith_collector::http::Options::default(),
        ),
        output,
        Captured::default(),
        Captured::default(),
    );
    // A first round fills the caches and the allocator's pools.
    let first = load(server.address, 1_500);
    let before = rss_kb();
    let second = load(server.address, 3_000);
    let after = rss_kb();
    let summary = server.stop();
    for round in [&first, &second] {
        assert_eq!(round["errors"], 0, "{round}");
        assert_eq!(round["non_200"], 0, "{round}");
        assert!(round["requests"].as_u64().unwrap_or(0) > 100, "{round}");
    }
    let requests = second["requests"].as_u64().unwrap_or(0);
    // Memory: flat means it does not grow with the requests served.
    let growth = after.saturating_sub(before);
    assert!(
        growth < 16 * 1024,
        "resident memory grew by {growth} kB over {requests} requests ({before} -> {after} kB)"
    );
    assert_eq!(summary.lost_lines, 0);
    assert_eq!(summary.server_errors, 0);
    // Every answered request wrote its flow and amplitude lines.
    assert!(summary.stderr_lines >= summary.requests * 8, "{summary:?}");
    assert!(summary.mozlog_lines >= summary.requests * 5, "{summary:?}");
    assert!(mozlog.0.load(Ordering::Relaxed) > 0 && stderr.0.load(Ordering::Relaxed) > 0);
}
