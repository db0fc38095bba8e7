mod common;

use common::Sandbox;
use predicates::prelude::*;

#[test]
fn add_and_list() {
    let s = Sandbox::new();
    let out = s.ok(&[
        "org",
        "add",
        "emmas-diary",
        "--name",
        "Emma's Diary",
        "--role",
        "controller",
    ]);
    assert!(
        out.contains("added emmas-diary (Emma's Diary, controller)"),
        "{out}"
    );
    s.ok(&[
        "org", "add", "experian", "--name", "Experian", "--role", "broker",
    ]);
    let list = s.ok(&["org", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].contains("ID") && lines[0].contains("ROLE"),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.contains("emmas-diary")
            && l.contains("Emma's Diary")
            && l.contains("controller")),
        "{list}"
    );
    // a broker falls in the data-broker recipient category by default
    assert!(
        list.lines()
            .any(|l| l.contains("experian") && l.contains("broker") && l.contains("data-broker")),
        "{list}"
    );
}

#[test]
fn list_json() {
    let s = Sandbox::new();
    s.orgs();
    let v = s.json(&["org", "list", "--json"]);
    let orgs = v.as_array().expect("array");
    assert_eq!(orgs.len(), 3);
    let labour = orgs
        .iter()
        .find(|o| o["id"] == "labour")
        .expect("labour listed");
    assert_eq!(labour["name"], "The Labour Party");
    assert_eq!(labour["role"], "campaign");
    assert_eq!(labour["categories"], serde_json::json!(["political-party"]));
    let ed = orgs.iter().find(|o| o["id"] == "emmas-diary").unwrap();
    assert_eq!(ed["categories"], serde_json::json!([]));
}

#[test]
fn explicit_categories_replace_the_role_default() {
    let s = Sandbox::new();
    s.ok(&[
        "org",
        "add",
        "acme",
        "--name",
        "Acme",
        "--role",
        "broker",
        "--category",
        "marketing company",
    ]);
    let v = s.json(&["org", "list", "--json"]);
    assert_eq!(v[0]["categories"], serde_json::json!(["marketing-company"]));
    let err = s.fails(&[
        "org",
        "add",
        "acme2",
        "--name",
        "Acme",
        "--category",
        "politcal party",
    ]);
    assert!(
        err.contains("unknown recipient category `politcal party`"),
        "{err}"
    );
}

#[test]
fn duplicate_id_fails_clearly() {
    let s = Sandbox::new();
    s.ok(&["org", "add", "emmas-diary", "--name", "Emma's Diary"]);
    let err = s.fails(&["org", "add", "emmas-diary", "--name", "Someone else"]);
    assert!(
        err.contains("organisation `emmas-diary` already exists"),
        "{err}"
    );
    // the first one is untouched
    let v = s.json(&["org", "list", "--json"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "Emma's Diary");
}

#[test]
fn bad_id_fails() {
    let s = Sandbox::new();
    let err = s.fails(&["org", "add", "Emma's Diary", "--name", "Emma's Diary"]);
    assert!(
        err.contains("organisation id `Emma's Diary` must be 1-64 characters of a-z, 0-9 and '-'"),
        "{err}"
    );
    assert!(
        err.contains("emmas-diary"),
        "suggests the form of a good id: {err}"
    );
    let v = s.json(&["org", "list", "--json"]);
    assert_eq!(v, serde_json::json!([]));
}

#[test]
fn unknown_role_is_a_usage_error() {
    let s = Sandbox::new();
    s.custody(&[
        "org", "add", "labour", "--name", "Labour", "--role", "party",
    ])
    .failure()
    .code(2)
    .stderr(
        predicate::str::contains("unknown role `party`").and(predicate::str::contains("campaign")),
    );
    assert_eq!(s.json(&["org", "list", "--json"]), serde_json::json!([]));
}
