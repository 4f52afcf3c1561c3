// A memcached process owned by one test: started on a free port, killed on drop.
// Included with `include!` by the tests that need it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `memcached -l 127.0.0.1 -p <port> -U 0`.
pub struct Memcached {
    child: Child,
    port: u16,
}

impl Memcached {
    /// Starts memcached and waits until it accepts connections.
    ///
    /// Panics with installation help when the binary is missing: the memcached tests must never
    /// pass by skipping.
    pub fn start() -> Self {
        let port = free_port();
        let mut command = Command::new("memcached");
        command
            .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if running_as_root() {
            // memcached refuses to run as root unless told which user to be.
            command.args(["-u", "root"]);
        }
        let child = match command.spawn() {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
                "the `memcached` binary is not installed, so the memcached store tests cannot run; \
                 install it (Debian/Ubuntu: `apt-get update && apt-get install -y memcached`)"
            ),
            Err(err) => panic!("cannot start memcached: {err}"),
        };
        let mut server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("memcached exited before accepting connections: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "memcached did not listen on 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// An address on which nothing listens: a port that was free a moment ago.
#[allow(dead_code)]
pub fn closed_port_address() -> String {
    format!("127.0.0.1:{}", free_port())
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
