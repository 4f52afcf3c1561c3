//! `metricsmith serve` as a process: SIGTERM with a request in flight stops accepting, finishes
//! that request, flushes its lines and exits 0; start-up errors are clear.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn serve() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metricsmith"));
    command
        .arg("serve")
        .arg("--schema")
        .arg(root().join("schema/fxa/content-server.yaml"))
        .args(["--flow-key", "S3CR37", "--service-version", "1.134.0"]);
    command
}

/// A valid content-server body whose flow began a minute ago.
fn body() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let begin = now - 60_000;
    let flow_id = metricsmith::flow_id::sign("S3CR37", "0123456789abcdef0123456789abcdef", begin);
    json!({
        "broker": "web", "context": "web", "deviceId": "efedb8c719510d6721dc802726e74d01",
        "duration": 20_000,
        "events": [{"offset": 1000, "type": "flow.begin"}, {"offset": 2000, "type": "screen.signup"},
                   {"offset": 3000, "type": "flow.signup.engage"}],
        "experiments": [], "flowBeginTime": begin, "flowId": flow_id, "flushTime": now - 1_000,
        "isSampledUser": false, "lang": "en", "marketing": [], "migration": "none",
        "referrer": "none",
        "screen": {"clientHeight": 900, "clientWidth": 1440, "devicePixelRatio": 2,
                   "height": 900, "width": 1440},
        "service": "sync", "startTime": now - 30_000, "uid": "none", "uniqueUserId": "none",
        "utm_campaign": "none", "utm_content": "none", "utm_medium": "none",
        "utm_source": "none", "utm_term": "none",
    })
    .to_string()
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_flushes_its_lines() {
    let mut child = serve()
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let listening = received
        .recv_timeout(Duration::from_secs(60))
        .expect("the server.listening line");
    let listening: Value = serde_json::from_str(&listening).expect("a mozlog line");
    assert_eq!(listening["Type"], "http.listening");
    let address = listening["Fields"]["address"]
        .as_str()
        .expect("an address")
        .to_owned();

    // A request whose body is half sent when SIGTERM arrives.
    let body = body();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&address).expect("connect");
    write!(
        stream,
        "POST /metrics HTTP/1.1\r\nhost: x\r\nuser-agent: Mozilla/5.0 (X11; Linux x86_64; rv:66.0) Gecko/20100101 Firefox/66.0\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: {}\r\n\r\n{first}",
        body.len()
    )
    .expect("write the first half");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    // The shell's `kill` builtin: no signal crate, no procps package needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("kill runs");
    assert!(status.success());

    // New connections are refused once the listener is closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }

    stream.write_all(rest.as_bytes()).expect("write the rest");
    let mut answer = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"success":true}"#), "{answer}");

    let exit = child.wait().expect("serve exits");
    assert!(exit.success(), "{exit:?}");
    reader.join().expect("stdout read");
    let mozlog: Vec<Value> = received
        .try_iter()
        .map(|l| serde_json::from_str(&l).expect("a mozlog line"))
        .collect();
    let types: Vec<&str> = mozlog.iter().filter_map(|l| l["Type"].as_str()).collect();
    assert_eq!(
        types,
        ["amplitudeEvent", "amplitudeEvent", "http.shutdown"],
        "{mozlog:?}"
    );
    assert_eq!(mozlog[2]["Fields"]["requests"], 1);
    let flow: Vec<Value> = stderr_reader
        .join()
        .expect("stderr read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a flow line"))
        .collect();
    let events: Vec<&str> = flow.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(
        events,
        ["flow.begin", "flow.signup.view", "flow.signup.engage"]
    );
    assert!(flow.iter().all(|l| l["pid"] == child.id()));
}

#[test]
fn start_up_errors_are_clear() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let output = serve()
        .args(["--listen", &address])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains(&format!("cannot listen on {address}")),
        "{text}"
    );

    let output = serve()
        .args(["--listen", "127.0.0.1:0", "--geoip-db", "/nonexistent.mmdb"])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("/nonexistent.mmdb"), "{text}");

    let output = Command::new(env!("CARGO_BIN_EXE_metricsmith"))
        .arg("serve")
        .arg("--schema")
        .arg(root().join("schema/fxa/auth-server.yaml"))
        .args(["--flow-key", "k", "--service-version", "1.134.0"])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("collector"), "{text}");
}
