//! Flow ids against the conformance corpus (`shared/conformance/flow-id*.jsonl`) and spec §8.6.

use std::path::PathBuf;

use metricsmith::clock::FixedSalt;
use metricsmith::flow_id::{self, Reason};
use serde::Deserialize;

fn conformance_file(name: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Deserialize)]
struct SignCase {
    id: String,
    key: String,
    salt_hex: String,
    flow_begin_time_ms: i64,
    flow_id: String,
}

#[derive(Debug, Deserialize)]
struct ValidateCase {
    id: String,
    key: String,
    flow_id: String,
    flow_begin_time_ms: i64,
    now_ms: i64,
    expiry_ms: i64,
    valid: bool,
    reason: Option<String>,
}

#[test]
fn every_flow_id_jsonl_case_signs_and_validates() {
    let lines = conformance_file("flow-id.jsonl");
    assert_eq!(lines.len(), 100);
    for line in lines {
        let case: SignCase = serde_json::from_str(&line).unwrap();
        assert_eq!(
            flow_id::sign(&case.key, &case.salt_hex, case.flow_begin_time_ms),
            case.flow_id,
            "{}",
            case.id
        );
        // Every vector is also valid one second after it began (begin 0 is "missing").
        let v = flow_id::validate(
            &case.key,
            &case.flow_id,
            case.flow_begin_time_ms,
            case.flow_begin_time_ms + 1000,
            flow_id::DEFAULT_EXPIRY_MS,
        );
        if case.flow_begin_time_ms == 0 {
            assert_eq!(v.reason, Some(Reason::MissingFlowBeginTime), "{}", case.id);
        } else {
            assert!(v.valid, "{}: {v:?}", case.id);
        }
    }
}

#[test]
fn every_flow_id_validate_jsonl_case_gives_the_same_result_and_reason() {
    let lines = conformance_file("flow-id-validate.jsonl");
    assert_eq!(lines.len(), 33);
    for line in lines {
        let case: ValidateCase = serde_json::from_str(&line).unwrap();
        let v = flow_id::validate(
            &case.key,
            &case.flow_id,
            case.flow_begin_time_ms,
            case.now_ms,
            case.expiry_ms,
        );
        assert_eq!(v.valid, case.valid, "{}", case.id);
        assert_eq!(v.reason.map(|r| r.to_string()), case.reason, "{}", case.id);
        // The serialized form is what `metricsmith flow-id verify` prints.
        let json: serde_json::Value = serde_json::to_value(v).unwrap();
        assert_eq!(json["reason"], serde_json::to_value(&case.reason).unwrap());
    }
}

#[test]
fn k01_content_server_vector() {
    let id = flow_id::create(
        "S3CR37",
        1_451_566_800_000,
        &FixedSalt(*b"MozillaFirefox!!"),
    )
    .unwrap();
    assert_eq!(
        id.flow_id,
        "4d6f7a696c6c6146697265666f7821212a204a6d26b009b26b3116f643d84c6f"
    );
    assert_eq!(id.flow_begin_time, 1_451_566_800_000);
    let now = 1_451_566_801_000;
    let expiry = flow_id::DEFAULT_EXPIRY_MS;
    assert!(flow_id::validate("S3CR37", &id.flow_id, 1_451_566_800_000, now, expiry).valid);
    let wrong_key = flow_id::validate("foo", &id.flow_id, 1_451_566_800_000, now, expiry);
    assert_eq!(wrong_key.reason, Some(Reason::InvalidSignature));
    let wrong_time = flow_id::validate(
        "S3CR37",
        &id.flow_id,
        1_478_626_838_531,
        1_478_626_839_531,
        expiry,
    );
    assert_eq!(wrong_time.reason, Some(Reason::InvalidSignature));
    let all_f = "f".repeat(64);
    let v = flow_id::validate("S3CR37", &all_f, 1_451_566_800_000, now, expiry);
    assert_eq!(v.reason, Some(Reason::InvalidSignature));
}

#[test]
fn k02_auth_server_vector() {
    let id = "1234567890abcdef1234567890abcdef06146f1d05e7ae215885a4e45b66ff1f";
    assert_eq!(flow_id::sign("S3CR37", &id[..32], 1_451_566_800_000), id);
    let begin = 1_451_566_800_000;
    assert!(flow_id::validate("S3CR37", id, begin, begin + 59_999, 60_000).valid);
    assert!(flow_id::validate("S3CR37", id, begin, begin + 60_000, 60_000).valid);
    let v = flow_id::validate("S3CR37", id, begin, begin + 60_001, 60_000);
    assert_eq!(v.reason, Some(Reason::ExpiredFlowBeginTime));
}

#[test]
fn created_flow_ids_are_random_and_valid() {
    let a = flow_id::create("", 5, &metricsmith::clock::OsRng).unwrap();
    let b = flow_id::create("", 5, &metricsmith::clock::OsRng).unwrap();
    assert_ne!(a.flow_id, b.flow_id);
    assert_eq!(a.flow_id.len(), 64);
    assert!(
        a.flow_id
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    );
    assert!(flow_id::validate("", &a.flow_id, 5, 6, 10).valid);
}
