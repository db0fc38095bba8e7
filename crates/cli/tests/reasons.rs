mod common;

use common::Sandbox;

const ALL: &[&str] = &[
    "purpose-not-declared",
    "purpose-not-named-explicitly",
    "recipient-not-named",
    "category-not-declared",
    "basis-mismatch",
    "no-consent",
    "consent-withdrawn",
    "consent-not-informed",
    "objected-direct-marketing",
    "special-category-no-condition",
    "childrens-data",
    "retention-expired",
    "onward-purpose-not-received",
    "onward-category-not-received",
    "electronic-marketing-without-consent",
    "not-held",
];

#[test]
fn lists_every_id() {
    let s = Sandbox::new();
    let out = s.ok(&["reasons"]);
    assert!(out.lines().next().unwrap().contains("REASON"), "{out}");
    for id in ALL {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{id} "))),
            "{id} missing:\n{out}"
        );
    }
    assert!(out.contains("UK GDPR Art 21(3)"), "{out}");
}

#[test]
fn json_entries_have_message_and_provisions() {
    let s = Sandbox::new();
    let v = s.json(&["reasons", "--json"]);
    let entries = v.as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ALL);
    for e in entries {
        assert!(
            e["message"].as_str().is_some_and(|m| m.ends_with('.')),
            "{e}"
        );
        let p = e["provisions"].as_array().unwrap();
        assert!(!p.is_empty(), "{e}");
        assert!(
            p.iter()
                .all(|x| x.as_str().is_some_and(|s| !s.trim().is_empty())),
            "{e}"
        );
    }
}

#[test]
fn needs_no_database() {
    let s = Sandbox::new();
    s.ok(&["reasons"]);
    assert!(!s.db().exists(), "`reasons` should not create the database");
    assert!(!s.path("custody.db").exists());
}

/// `custody reasons | head -1`: the reader goes away after one line. The
/// command must end as a filter does (killed by SIGPIPE, quietly), not panic.
#[test]
fn a_closed_pipe_ends_it_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let s = Sandbox::new();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("custody"))
        .arg("--db")
        .arg(s.db_arg())
        .args(["reasons", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The read end closed before the binary has started: its first write
    // meets a closed pipe (the output would fit the pipe's buffer, so
    // closing after reading a line could leave nothing to fail).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}: {stderr}",
        out.status
    );
}
