//! `metricsmith check` end to end.

use assert_cmd::Command;

fn metricsmith() -> Command {
    let mut command = Command::cargo_bin("metricsmith").expect("the metricsmith binary is built");
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    command
}

#[test]
fn reference_schema_passes() {
    let output = metricsmith()
        .args(["check", "schema/fxa"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("error["), "{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
    assert!(!stderr.contains("warning["), "{stderr}");
}

#[test]
fn a_path_without_any_service_is_an_error_that_says_what_was_looked_for() {
    let dir = std::env::temp_dir().join(format!("metricsmith-check-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for format in ["human", "json"] {
        let output = metricsmith()
            .args(["check", "--format", format])
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("error: no service found in"), "{stderr}");
        assert!(
            stderr.contains("`*.yaml`") && stderr.contains("`service:`"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reference_schema_passes_with_deny_warnings() {
    metricsmith()
        .args(["check", "--deny-warnings", "schema/fxa/auth-server.yaml"])
        .assert()
        .code(0);
}

#[test]
fn errors_exit_1_with_a_located_plain_report() {
    let output = metricsmith()
        .args(["check", "codegen/tests/invalid/unknown_group.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error[E0015]: unknown group `logon`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--> codegen/tests/invalid/unknown_group.yaml:12:28"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `login`?"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let path = "codegen/tests/invalid/shadowed_rule.yaml";
    metricsmith().args(["check", path]).assert().code(0);
    metricsmith()
        .args(["check", "--deny-warnings", path])
        .assert()
        .code(1);
}

#[test]
fn json_format() {
    let output = metricsmith()
        .args([
            "check",
            "--format",
            "json",
            "codegen/tests/invalid/family_parameters.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["errors"], 2);
    assert_eq!(json["warnings"], 0);
    let infos = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "info")
        .count();
    assert_eq!(json["infos"], infos, "{json}");
    let first = &json["diagnostics"][0];
    assert_eq!(first["code"], "E0020");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        first["file"],
        "codegen/tests/invalid/family_parameters.yaml"
    );
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(10), Some(25))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(10), Some(33))
    );
    assert_eq!(first["help"], "did you mean `status`?");
    assert!(first["labels"].as_array().is_some_and(|l| !l.is_empty()));
}

#[test]
fn every_problem_of_several_files_in_one_run() {
    let output = metricsmith()
        .args([
            "check",
            "--format",
            "json",
            "codegen/tests/invalid/unknown_group.yaml",
            "codegen/tests/invalid/unknown_table.yaml",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["errors"], 2);
}

#[test]
fn missing_path_exits_2() {
    let output = metricsmith()
        .args(["check", "does/not/exist.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("E0001"));
}

#[test]
fn usage_error_exits_2() {
    metricsmith().args(["check"]).assert().code(2);
    metricsmith()
        .args(["check", "--format", "xml", "schema/fxa"])
        .assert()
        .code(2);
}
