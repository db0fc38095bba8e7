mod common;

use common::{example_text, Sandbox};
use serde_json::Value;

/// The base case, the gated 2017 sale (refused), then the sale as it happened
/// (imported history), and the onward hop to Labour (refused).
fn case() -> Sandbox {
    let s = Sandbox::emmas_case();
    s.ok(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--on-behalf-of",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name,PhysicalAddress",
        "--at",
        "2017-05-10",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
    ]);
    s.write("history.toml", &example_text("history-emmas-diary.toml"));
    s.ok(&["history", "import", "emmas-diary", "history.toml"]);
    s
}

fn receipts(s: &Sandbox, org: &str, subject: &str) -> Vec<Value> {
    let v = s.json(&["receipt", org, subject, "--out", "receipts", "--json"]);
    v.as_array().expect("a list of receipts").clone()
}

#[test]
fn a_mother_gets_a_receipt_for_every_entry_about_her_and_each_verifies_offline() {
    let s = case();
    let list = receipts(&s, "emmas-diary", "M01");
    let kinds: Vec<&str> = list.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["record-collected", "decided", "disclosed"],
        "{list:?}"
    );
    let key = s.ok(&["log", "key"]);
    for r in &list {
        let file = r["file"].as_str().unwrap();
        let text = std::fs::read_to_string(s.path(file)).unwrap();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
        // Offline: another directory, no database.
        let out = assert_cmd::Command::cargo_bin("custody")
            .unwrap()
            .current_dir(std::env::temp_dir())
            .args(["--db", "/nonexistent/never.db", "verify-receipt"])
            .arg(s.path(file))
            .args(["--key", key.trim(), "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verified"], true);
        assert_eq!(v["kind"], r["kind"]);
    }
    assert!(!std::path::Path::new("/nonexistent/never.db").exists());
    let refused = list.iter().find(|r| r["kind"] == "decided").unwrap();
    assert!(
        refused["summary"]
            .as_str()
            .unwrap()
            .contains("purpose-not-named-explicitly"),
        "{refused}"
    );
}

#[test]
fn the_holder_downstream_finds_the_same_entries() {
    let s = case();
    let mine = receipts(&s, "emmas-diary", "M02");
    let theirs = receipts(&s, "experian", "M02");
    let idx = |v: &[Value]| {
        v.iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        idx(&mine),
        idx(&theirs),
        "a copy is committed to under the collector's key"
    );
}

#[test]
fn a_tampered_receipt_or_the_wrong_key_fails() {
    let s = case();
    let list = receipts(&s, "emmas-diary", "M01");
    let file = s.path(list[1]["file"].as_str().unwrap());
    let key = s.ok(&["log", "key"]);
    let key = key.trim();
    let text = std::fs::read_to_string(&file).unwrap();
    s.ok(&["verify-receipt", file.to_str().unwrap(), "--key", key]);

    // The key from a file works too.
    s.write("log.vkey", key);
    s.ok(&[
        "verify-receipt",
        file.to_str().unwrap(),
        "--key",
        "log.vkey",
    ]);

    let index_line = text.lines().find(|l| l.starts_with("index ")).unwrap();
    let moved = text.replace(index_line, "index 3");
    let extra_line = text.lines().find(|l| l.starts_with("extra ")).unwrap();
    // Decision entries end in the reason bits: claim "allowed" (0) instead.
    let mut bytes = base64_decode(&extra_line[6..]);
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&[0, 0, 0, 0]);
    let forged = text.replace(extra_line, &format!("extra {}", base64_encode(&bytes)));
    for (name, bad) in [
        ("moved", moved),
        ("forged", forged),
        ("cut", text[..text.len() - 20].to_string()),
    ] {
        s.write(name, &bad);
        let err = s.fails(&["verify-receipt", name, "--key", key]);
        assert!(
            err.contains("receipt") || err.contains("checkpoint"),
            "{name}: {err}"
        );
    }
    let other = Sandbox::new();
    other.ok(&["init"]);
    let other_key = other.ok(&["log", "key"]);
    s.fails(&[
        "verify-receipt",
        file.to_str().unwrap(),
        "--key",
        other_key.trim(),
    ]);
}

#[test]
fn receipts_stay_valid_as_the_log_grows() {
    let s = case();
    let list = receipts(&s, "emmas-diary", "M01");
    let file = s.path(list[0]["file"].as_str().unwrap());
    std::fs::copy(&file, s.path("kept.tlog-proof")).unwrap();
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "DirectMarketing",
        "--at",
        "2017-06-01",
    ]);
    let key = s.ok(&["log", "key"]);
    s.ok(&["verify-receipt", "kept.tlog-proof", "--key", key.trim()]);
    // The checkpoint inside it is one the log still extends.
    let kept = std::fs::read_to_string(s.path("kept.tlog-proof")).unwrap();
    let checkpoint = kept.split_once("\n\n").unwrap().1;
    s.write("kept.checkpoint", checkpoint);
    s.ok(&["log", "consistency", "--from", "kept.checkpoint"]);
    assert_eq!(receipts(&s, "emmas-diary", "M01").len(), list.len() + 1);
}

#[test]
fn unknown_people_get_a_clear_error() {
    let s = case();
    let err = s.fails(&["receipt", "emmas-diary", "NOBODY"]);
    assert!(err.contains("holds no record of subject `NOBODY`"), "{err}");
    let err = s.fails(&[
        "verify-receipt",
        "missing.tlog-proof",
        "--key",
        "x+00000000+AA==",
    ]);
    assert!(err.contains("key") || err.contains("no such file"), "{err}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::prelude::{Engine as _, BASE64_STANDARD};
    BASE64_STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::prelude::{Engine as _, BASE64_STANDARD};
    BASE64_STANDARD.encode(b)
}
