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
