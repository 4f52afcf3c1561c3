//! `metricsmith flow-id sign|verify`.

use assert_cmd::Command;

fn metricsmith() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("metricsmith")
}

const K02_ID: &str = "1234567890abcdef1234567890abcdef06146f1d05e7ae215885a4e45b66ff1f";

#[test]
fn sign_with_salt_prints_the_vector() {
    metricsmith()
        .args(["flow-id", "sign", "--key", "S3CR37", "--salt"])
        .args([
            "1234567890abcdef1234567890abcdef",
            "--begin",
            "1451566800000",
        ])
        .assert()
        .success()
        .stdout(format!("{K02_ID}\n"))
        .stderr("");
}

#[test]
fn sign_with_empty_key_and_uppercase_salt() {
    // fid-007 style: an empty key is allowed; the salt is used verbatim.
    let out = metricsmith()
        .args(["flow-id", "sign", "--key", "", "--salt"])
        .args([
            "05323445590fb42056320695308ebd95",
            "--begin",
            "1551651903984",
        ])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout),
        "05323445590fb42056320695308ebd95d612295270b58be901b5449075be8b5b\n"
    );
    let upper = metricsmith()
        .args(["flow-id", "sign", "--key", "k", "--salt"])
        .args(["ABCDEF0123456789ABCDEF0123456789", "--begin", "1"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&upper.get_output().stdout).into_owned();
    assert!(
        text.starts_with("ABCDEF0123456789ABCDEF0123456789"),
        "{text}"
    );
    assert_eq!(text.len(), 65, "{text}");
}

#[test]
fn sign_without_salt_is_random_and_verifies() {
    let first = metricsmith()
        .args(["flow-id", "sign", "--key", "S3CR37", "--begin", "1000"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let second = metricsmith()
        .args(["flow-id", "sign", "--key", "S3CR37", "--begin", "1000"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_ne!(first, second);
    let id = String::from_utf8(first).unwrap().trim_end().to_owned();
    assert_eq!(id.len(), 64);
    metricsmith()
        .args(["flow-id", "verify", "--key", "S3CR37", "--flow-id", &id])
        .args(["--begin", "1000", "--now", "2000", "--expiry", "7200000"])
        .assert()
        .success()
        .stdout("{\"valid\":true,\"reason\":null}\n");
}

#[test]
fn verify_valid_k02() {
    metricsmith()
        .args(["flow-id", "verify", "--key", "S3CR37", "--flow-id", K02_ID])
        .args([
            "--begin",
            "1451566800000",
            "--now",
            "1451566859999",
            "--expiry",
            "60000",
        ])
        .assert()
        .success()
        .stdout("{\"valid\":true,\"reason\":null}\n");
}

#[test]
fn verify_prints_each_reason() {
    let cases: [(&str, &str, &str, &str); 5] = [
        ("", "1451566800000", "1451566801000", "missing flowId"),
        (K02_ID, "0", "1451566801000", "missing flowBeginTime"),
        (
            K02_ID,
            "1451566800000",
            "1451566800000",
            "expired flowBeginTime",
        ),
        ("zz", "1451566800000", "1451566801000", "invalid flowId"),
        (
            &K02_ID[..32],
            "1451566800000",
            "1451566801000",
            "invalid signature",
        ),
    ];
    for (id, begin, now, reason) in cases {
        metricsmith()
            .args(["flow-id", "verify", "--key", "S3CR37", "--flow-id", id])
            .args(["--begin", begin, "--now", now, "--expiry", "7200000"])
            .assert()
            .success()
            .stdout(format!("{{\"valid\":false,\"reason\":\"{reason}\"}}\n"));
    }
}

#[test]
fn verify_accepts_negative_times_and_hyphen_keys() {
    metricsmith()
        .args(["flow-id", "verify", "--key", "-k", "--flow-id", K02_ID])
        .args(["--begin", "-5", "--now", "-10", "--expiry", "60000"])
        .assert()
        .success()
        .stdout("{\"valid\":false,\"reason\":\"expired flowBeginTime\"}\n");
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let bad: [&[&str]; 6] = [
        &["flow-id", "sign", "--key", "k"],
        &["flow-id", "sign", "--key", "k", "--begin", "soon"],
        &[
            "flow-id", "sign", "--key", "k", "--begin", "1", "--salt", "xyz",
        ],
        &[
            "flow-id", "sign", "--key", "k", "--begin", "1", "--salt", "abcd",
        ],
        &[
            "flow-id",
            "verify",
            "--key",
            "k",
            "--flow-id",
            "x",
            "--begin",
            "1",
        ],
        &["flow-id", "frobnicate"],
    ];
    for args in bad {
        let out = metricsmith()
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
