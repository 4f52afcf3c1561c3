//! `metricsmith diff` end to end on edits of schema/fxa: one edit per kind of change, the text
//! report snapshotted; exit codes, formats, `--allow` and `git:REV:PATH`.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A work directory holding `old/` (schema/fxa as it is) and `new/` (edited by `edit`, which
/// gets the text of auth-server.yaml).
#[track_caller]
fn workspace(name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-diff-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo().join("schema/fxa"), &dir.join("old"));
    copy_dir(&repo().join("schema/fxa"), &dir.join("new"));
    let file = dir.join("new/auth-server.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit of {name} changed nothing");
    std::fs::write(&file, edited).unwrap();
    dir
}

fn diff(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("metricsmith")
        .unwrap()
        .current_dir(dir)
        .args(["diff", "old", "new"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (out.status.code().unwrap(), text)
}

#[track_caller]
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the schema");
    text.replacen(from, to, 1)
}

/// One edit per kind of change: (snapshot name, edit, expected exit status).
#[test]
fn each_kind_of_change_is_reported() {
    type Edit = fn(&str) -> String;
    let cases: &[(&str, Edit, i32)] = &[
        (
            "event_removed",
            |t| {
                replace(
                    t,
                    "  device.deleted:\n    amplitude: false\n    description: A device record was deleted.\n    kinds: [activity, not-flow]\n    properties:\n      uid: {required: true}\n      device_id: {required: true}\n",
                    "",
                )
            },
            1,
        ),
        (
            "event_renamed",
            |t| replace(t, "  account.deleted:", "  account.removed:"),
            1,
        ),
        (
            "event_added",
            |t| {
                replace(
                    t,
                    "events:\n",
                    "events:\n  account.viewed:\n    description: The user viewed the account.\n    kinds: [activity, not-flow]\n",
                )
            },
            0,
        ),
        (
            "property_required",
            |t| {
                replace(
                    t,
                    "device_id: {required: false}",
                    "device_id: {required: true}",
                )
            },
            1,
        ),
        (
            "kind_removed",
            |t| {
                replace(
                    t,
                    "    description: An account was created.\n    kinds: [activity, flow]",
                    "    description: An account was created.\n    kinds: [flow]",
                )
            },
            1,
        ),
        (
            "pattern_narrowed",
            // Both families' `path`: properties of one name share a Rust type (E0018).
            |t| {
                t.replace(
                    "pattern: '^/[A-Za-z0-9_/.-]*$'",
                    "pattern: '^/[a-z0-9_/.-]*$'",
                )
            },
            1,
        ),
        (
            "pattern_widened",
            |t| replace(t, "pattern: '^[A-Z]{2}$'", "pattern: '^[A-Z]{2,3}$'"),
            0,
        ),
        (
            "enum_value_removed",
            |t| {
                replace(
                    t,
                    "values: [send_code, resend_code, verify_code]",
                    "values: [send_code, verify_code]",
                )
            },
            1,
        ),
        (
            "table_entry_changed",
            |t| {
                replace(
                    t,
                    "        verifyEmail: registration\n",
                    "        verifyEmail: login\n",
                )
            },
            1,
        ),
        (
            "rule_narrowed",
            |t| {
                replace(
                    t,
                    r"pattern: '^flow\.complete\.(\w+)$'",
                    r"pattern: '^flow\.complete\.([a-z]+)$'",
                )
            },
            1,
        ),
        (
            "exact_changed",
            |t| {
                replace(
                    t,
                    "account.login: {group: login, event: success}",
                    "account.login: {group: login, event: signed_in}",
                )
            },
            1,
        ),
        (
            "exact_removed",
            |t| {
                replace(
                    t,
                    "    sms.installFirefox.sent: {group: sms, event: sent}\n",
                    "",
                )
            },
            1,
        ),
    ];
    for (name, edit, status) in cases {
        let dir = workspace(name, edit);
        let (code, text) = diff(&dir, &[]);
        assert_eq!(code, *status, "{name}:\n{text}");
        insta::assert_snapshot!(*name, text);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn reordering_rules_that_never_overlap_is_no_change() {
    let bounced = "    - pattern: '^email\\.(\\w+)\\.bounced$'\n      description: A bounced email whose template has an email type.\n      group: email\n      event: bounced\n      when: ['email_types[category]']\n";
    let dir = workspace("reorder", |t| {
        // The bounced rule moves from first to last.
        let t = replace(t, bounced, "");
        replace(&t, "\n  policy:\n", &format!("{bounced}\n  policy:\n"))
    });
    let edited = std::fs::read_to_string(dir.join("new/auth-server.yaml")).unwrap();
    assert!(edited.find(bounced).unwrap() > edited.find("'^flow\\.complete").unwrap());
    let (code, text) = diff(&dir, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("mapping-"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn identical_schemas_have_no_changes() {
    let dir = workspace("identical", |t| {
        t.replace(
            "The user changed their password.",
            "The user changed their password!",
        )
    });
    let (code, text) = diff(&dir, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("description-changed"), "{text}");
    assert!(
        text.ends_with("0 breaking, 0 compatible, 1 info\n"),
        "{text}"
    );
}

#[test]
fn json_and_markdown_formats() {
    let dir = workspace("formats", |t| {
        replace(t, "  account.deleted:", "  account.removed:")
    });
    let (code, text) = diff(&dir, &["--format", "json"]);
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["breaking"], true);
    let change = &json["changes"][0];
    assert_eq!(change["code"], "event-renamed");
    assert_eq!(change["severity"], "breaking");
    assert_eq!(change["path"], "auth-server.events.account.deleted");
    assert_eq!(change["old"], "account.deleted");
    assert_eq!(change["new"], "account.removed");
    assert_eq!(change["location"]["file"], "new/auth-server.yaml");
    assert!(change["location"]["line"].as_u64().unwrap() > 1);
    let (code, text) = diff(&dir, &["--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        text.starts_with("**This change breaks consumers of the events.**"),
        "{text}"
    );
    assert!(
        text.contains("### Breaking\n\n- `event-renamed` `auth-server.events.account.deleted`"),
        "{text}"
    );
}

#[test]
fn allow_accepts_a_breaking_change_with_a_reason() {
    let dir = workspace("allow", |t| {
        replace(t, "  account.deleted:", "  account.removed:")
    });
    let (code, text) = diff(
        &dir,
        &[
            "--allow",
            "event-renamed:auth-server.events.account.deleted=renamed with the dashboards (bug 1)",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("allowed: renamed with the dashboards (bug 1)"),
        "{text}"
    );
    // A prefix with `*`.
    let (code, _) = diff(&dir, &["--allow", "event-renamed:auth-server.*=agreed"]);
    assert_eq!(code, 0);
    // An allow that matches nothing is reported and does not hide the change.
    let (code, text) = diff(&dir, &["--allow", "event-removed:auth-server.events.x=no"]);
    assert_eq!(code, 1);
    assert!(
        text.contains("`--allow event-removed:auth-server.events.x` matched no change"),
        "{text}"
    );
    // Usage errors: no reason, unknown code.
    let (code, text) = diff(
        &dir,
        &[
            "--allow",
            "event-renamed:auth-server.events.account.deleted",
        ],
    );
    assert_eq!(code, 2);
    assert!(text.contains("needs a reason"), "{text}");
    let (code, text) = diff(&dir, &["--allow", "event-renamd:x=y"]);
    assert_eq!(code, 2);
    assert!(text.contains("did you mean `event-renamed`?"), "{text}");
}

#[test]
fn unreadable_or_invalid_schemas_exit_2() {
    let dir = workspace("invalid", |t| {
        replace(t, "  account.deleted:", "  account.removed:")
    });
    let out = Command::cargo_bin("metricsmith")
        .unwrap()
        .current_dir(&dir)
        .args(["diff", "old", "missing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(
        dir.join("new/auth-server.yaml"),
        "metricsmith: 1\nservice: [\n",
    )
    .unwrap();
    let (code, text) = diff(&dir, &[]);
    assert_eq!(code, 2);
    assert!(text.contains("does not load"), "{text}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_revisions_are_read_without_a_checkout() {
    // A repository of its own with two commits of schema/fxa: the second renames an event in
    // the entry file, and the includes (common/*.yaml) must come from the same revision.
    let dir = workspace("git", |t| {
        replace(t, "  account.deleted:", "  account.removed:")
    });
    let repo = dir.join("repo");
    copy_dir(&dir.join("old"), &repo.join("schema/fxa"));
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "old"]);
    std::fs::copy(
        dir.join("new/auth-server.yaml"),
        repo.join("schema/fxa/auth-server.yaml"),
    )
    .unwrap();
    // An include changes only in the working tree: a revision must not see it.
    std::fs::write(
        repo.join("schema/fxa/common/governance.yaml"),
        "not: [valid\n",
    )
    .unwrap();
    git(&repo, &["add", "schema/fxa/auth-server.yaml"]);
    git(&repo, &["commit", "-q", "-m", "new"]);
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("metricsmith")
            .unwrap()
            .current_dir(repo.join("schema"))
            .arg("diff")
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap(), text)
    };
    let (code, text) = run(&[
        "git:HEAD~1:schema/fxa",
        "git:HEAD:schema/fxa",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["changes"].as_array().unwrap().len(), 1, "{text}");
    assert_eq!(json["changes"][0]["code"], "event-renamed");
    // Locations name the files inside the repository.
    assert_eq!(
        json["changes"][0]["location"]["file"],
        "schema/fxa/auth-server.yaml"
    );
    // The working tree's broken include makes the path argument fail, not the revision.
    let (code, _) = run(&["git:HEAD:schema/fxa", "fxa"]);
    assert_eq!(code, 2);
    // A path missing at the revision, and a revision that does not exist, are errors.
    let (code, text) = run(&["git:HEAD:schema/nope", "git:HEAD:schema/fxa"]);
    assert_eq!(code, 2);
    assert!(text.contains("does not exist at revision"), "{text}");
    let (code, text) = run(&["git:no-such-rev:schema/fxa", "git:HEAD:schema/fxa"]);
    assert_eq!(code, 2);
    assert!(text.contains("is not a revision"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn docs_with_a_baseline_have_a_changes_page() {
    let dir = workspace("docs", |t| {
        replace(t, "  account.deleted:", "  account.removed:")
    });
    let out = Command::cargo_bin("metricsmith")
        .unwrap()
        .current_dir(&dir)
        .args([
            "docs",
            "--schema",
            "new",
            "--out",
            "docs",
            "--baseline",
            "old",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(dir.join("docs/changes.md")).unwrap();
    assert!(page.starts_with("# Changes since `old`\n"), "{page}");
    assert!(
        page.contains("- `event-renamed` `auth-server.events.account.deleted`"),
        "{page}"
    );
    let readme = std::fs::read_to_string(dir.join("docs/README.md")).unwrap();
    assert!(readme.contains("[changes.md](changes.md)"), "{readme}");
    // Without a baseline there is no changes page.
    let out = Command::cargo_bin("metricsmith")
        .unwrap()
        .current_dir(&dir)
        .args(["docs", "--schema", "new", "--out", "plain"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!dir.join("plain/changes.md").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_schema_accepts_a_breaking_change_with_a_reason() {
    let dir = workspace("accepted", |t| {
        let t = replace(t, "  account.deleted:", "  account.removed:");
        t + "\naccepted_changes:\n  - change: event-renamed:auth-server.events.account.deleted\n    reason: Renamed with the dashboards (bug 1234).\n"
    });
    let (code, text) = diff(&dir, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("allowed: Renamed with the dashboards (bug 1234)."),
        "{text}"
    );
    // A mistyped code is an error with its location.
    let file = dir.join("new/auth-server.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("change: event-renamed:", "change: event-renamd:"),
    )
    .unwrap();
    let (code, text) = diff(&dir, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("error: new/auth-server.yaml:"), "{text}");
    assert!(text.contains("did you mean `event-renamed`?"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
