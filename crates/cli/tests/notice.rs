mod common;

use common::{example_text, Sandbox};

fn with_org() -> Sandbox {
    let s = Sandbox::new();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.copy_example("notice-2018-05.toml");
    s
}

#[test]
fn publish_and_republish_same_content() {
    let s = with_org();
    let out = s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    assert!(
        out.contains(
            "published emmas-diary notice version 2017 (effective 2015-01-01, 3 declarations, sha256 "
        ),
        "{out}"
    );
    let hash = out
        .trim()
        .rsplit("sha256 ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_string();
    assert_eq!(hash.len(), 64, "{out}");
    let again = s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    assert!(
        again.contains("emmas-diary 2017 was already published with this content"),
        "{again}"
    );
    assert!(again.contains(&hash), "same hash: {again}");
    let list = s.json(&["notice", "list", "emmas-diary", "--json"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "no second version: {list}"
    );
}

#[test]
fn same_label_other_content_fails() {
    let s = with_org();
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    s.write(
        "changed.toml",
        &example_text("notice-2017.toml").replace("\"P6Y\"", "\"P7Y\""),
    );
    let err = s.fails(&["notice", "publish", "emmas-diary", "changed.toml"]);
    assert!(err.contains("changed.toml"), "{err}");
    assert!(
        err.contains("already published version `2017` with other content"),
        "{err}"
    );
    assert!(err.contains("never changes"), "{err}");
    // the stored version keeps its original retention
    let v = s.json(&[
        "notice",
        "show",
        "emmas-diary",
        "--version",
        "2017",
        "--json",
    ]);
    assert_eq!(v["notice"]["declarations"][0]["retention"], "P6Y");
}

#[test]
fn show_json_and_text() {
    let s = with_org();
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    let v = s.json(&["notice", "show", "emmas-diary", "--json"]);
    assert_eq!(v["org"], "emmas-diary");
    assert_eq!(v["version"], "2017");
    assert_eq!(v["effective"], "2015-01-01");
    let hash = v["content_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    // terms are normalised to their keys
    assert_eq!(
        v["notice"]["declarations"][2]["purposes"],
        serde_json::json!(["dpv:Marketing"])
    );
    let text = s.ok(&["notice", "show", "emmas-diary"]);
    assert!(
        text.starts_with(&format!(
            "emmas-diary notice version 2017  effective 2015-01-01  sha256 {hash}"
        )),
        "{text}"
    );
    assert!(text.contains("carefully selected third"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("partners")
            && l.contains("dpv:Marketing")
            && l.contains("consent")),
        "{text}"
    );
}

#[test]
fn show_unknown_version_and_no_notice() {
    let s = with_org();
    let err = s.fails(&["notice", "show", "emmas-diary"]);
    assert!(err.contains("emmas-diary has published no notice"), "{err}");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    let err = s.fails(&["notice", "show", "emmas-diary", "2019"]);
    assert!(
        err.contains("no notice version `2019` (published: 2017)"),
        "{err}"
    );
    let err = s.fails(&["notice", "publish", "nobody", "notice-2017.toml"]);
    assert!(err.contains("no organisation `nobody`"), "{err}");
}

#[test]
fn list_versions() {
    let s = with_org();
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    s.ok(&["notice", "publish", "emmas-diary", "notice-2018-05.toml"]);
    let v = s.json(&["notice", "list", "emmas-diary", "--json"]);
    let versions: Vec<(&str, &str, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["version"].as_str().unwrap(),
                n["effective"].as_str().unwrap(),
                n["declarations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![("2017", "2015-01-01", 3), ("2018-05", "2018-05-25", 4)]
    );
    let text = s.ok(&["notice", "list", "emmas-diary"]);
    assert!(
        text.lines()
            .any(|l| l.contains("2018-05") && l.contains("2018-05-25")),
        "{text}"
    );
    // latest by effective date
    assert_eq!(
        s.json(&["notice", "show", "emmas-diary", "--json"])["version"],
        "2018-05"
    );
}

#[test]
fn diff_adds_political() {
    let s = with_org();
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    s.ok(&["notice", "publish", "emmas-diary", "notice-2018-05.toml"]);
    let out = s.ok(&["notice", "diff", "emmas-diary", "2017", "2018-05"]);
    assert!(
        out.starts_with("notice version 2017 -> version 2018-05"),
        "{out}"
    );
    // What people read changed too, word by word.
    assert!(out.contains("effective: 2015-01-01 -> 2018-05-25"), "{out}");
    assert!(
        out.contains("{+political campaigns, we will share"),
        "{out}"
    );
    assert!(out.contains("[-also -]"), "{out}");
    assert!(
        out.lines().any(|l| l.trim() == "+ declaration political"),
        "{out}"
    );
    assert!(!out.contains("- declaration"), "{out}");
    let v = s.json(&["notice", "diff", "emmas-diary", "2017", "2018-05", "--json"]);
    assert_eq!(v["added_declarations"], serde_json::json!(["political"]));
    assert_eq!(v["dropped_declarations"], serde_json::json!([]));
    let back = s.json(&["notice", "diff", "emmas-diary", "2018-05", "2017", "--json"]);
    assert_eq!(
        back["dropped_declarations"],
        serde_json::json!(["political"])
    );
    let same = s.ok(&["notice", "diff", "emmas-diary", "2017", "2017"]);
    assert!(same.contains("no change in what is declared"), "{same}");
    let err = s.fails(&["notice", "diff", "emmas-diary", "2017", "2020"]);
    assert!(err.contains("no notice version `2020`"), "{err}");
}

#[test]
fn unknown_purpose_names_file_and_field() {
    let s = with_org();
    s.write(
        "bad.toml",
        &example_text("notice-2017.toml").replace(
            "purposes = [\"ServiceProvision\"]",
            "purposes = [\"ServiceProvison\"]",
        ),
    );
    let err = s.fails(&["notice", "publish", "emmas-diary", "bad.toml"]);
    assert!(
        err.contains(
            "bad.toml: declarations[0] (membership).purposes: unknown purpose `ServiceProvison`"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean dpv:ServiceProvision"), "{err}");
    let err = s.fails(&["notice", "show", "emmas-diary"]);
    assert!(
        err.contains("published no notice"),
        "nothing published: {err}"
    );
}

#[test]
fn unknown_key_fails() {
    let s = with_org();
    s.write(
        "bad.toml",
        &example_text("notice-2017.toml").replacen(
            "retention = \"P6Y\"",
            "retention = \"P6Y\"\ncolour = \"red\"",
            1,
        ),
    );
    let err = s.fails(&["notice", "publish", "emmas-diary", "bad.toml"]);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("unknown field `colour`"), "{err}");
}

#[test]
fn bad_extension_and_bad_retention() {
    let s = with_org();
    s.write("notice.txt", &example_text("notice-2017.toml"));
    let err = s.fails(&["notice", "publish", "emmas-diary", "notice.txt"]);
    assert!(err.contains("must end in .toml, .yaml or .yml"), "{err}");
    s.write(
        "bad.toml",
        &example_text("notice-2017.toml").replacen("\"P3Y\"", "\"soon\"", 1),
    );
    let err = s.fails(&["notice", "publish", "emmas-diary", "bad.toml"]);
    assert!(err.contains("declarations[1] (offers).retention"), "{err}");
}

const YAML: &str = r#"
version: "y1"
effective: "2016-01-01"
title: "A YAML notice"
declarations:
  - id: offers
    purposes: [DirectMarketing]
    data_categories: [Name, PostalCode]
    legal_basis: consent
    retention: 3 years
    recipients:
      categories: [data brokers]
"#;

#[test]
fn yaml_notice() {
    let s = with_org();
    s.write("n.yaml", YAML);
    let out = s.ok(&["notice", "publish", "emmas-diary", "n.yaml"]);
    assert!(
        out.contains(
            "published emmas-diary notice version y1 (effective 2016-01-01, 1 declaration,"
        ),
        "{out}"
    );
    let v = s.json(&["notice", "show", "emmas-diary", "y1", "--json"]);
    // The old spelling still works for scripts.
    assert_eq!(
        s.json(&["notice", "show", "emmas-diary", "--version", "y1", "--json"]),
        v
    );
    assert_eq!(v["notice"]["title"], "A YAML notice");
    assert_eq!(
        v["notice"]["declarations"][0]["data_categories"],
        serde_json::json!(["pd:Name", "pd:PostalCode"])
    );
    assert_eq!(
        v["notice"]["declarations"][0]["recipients"]["categories"],
        serde_json::json!(["data-broker"])
    );
    // the same content as TOML hashes the same, so republishing is a no-op
    s.write(
        "n.toml",
        "version = \"y1\"\neffective = \"2016-01-01\"\ntitle = \"A YAML notice\"\n[[declarations]]\nid = \"offers\"\n\
         purposes = [\"dpv:DirectMarketing\"]\ndata_categories = [\"pd:Name\", \"pd:PostalCode\"]\nlegal_basis = \"consent\"\n\
         retention = \"3 years\"\nrecipients.categories = [\"data-broker\"]\n",
    );
    let again = s.ok(&["notice", "publish", "emmas-diary", "n.toml"]);
    assert!(
        again.contains("already published with this content"),
        "{again}"
    );
}

/// `notice check` questions a notice before it is published; `publish`
/// prints the same findings as warnings and publishes all the same.
#[test]
fn check_names_each_finding_with_its_field_and_provision() {
    let s = with_org();
    let out = s.ok(&["notice", "check", "notice-2017.toml"]);
    assert!(
        out.contains("notice version 2017: 0 errors, 0 warnings"),
        "the example notice is sound: {out}"
    );
    s.write(
        "bad.toml",
        r#"version = "bad"
effective = "2017-01-01"
[[declarations]]
id = "sale"
purposes = ["SellDataToThirdParties"]
data_categories = ["Name", "Health"]
legal_basis = "consent"
recipients.organisations = ["nobody-ltd"]
"#,
    );
    let (code, stdout, stderr) = s.run(&["notice", "check", "bad.toml"]);
    assert_eq!(code, Some(1));
    for want in [
        "error: declarations[0] (sale).special_category_condition: `pd:Health` is special category data",
        "(UK GDPR Art 9(1), (2))",
        "warning: declarations[0] (sale).recipients.organisations: no organisation `nobody-ltd`",
        "warning: declarations[0] (sale).retention:",
        "(UK GDPR Art 13(2)(a))",
        "notice version bad: 1 error, 2 warnings",
    ] {
        assert!(stdout.contains(want), "{want}\n{stdout}");
    }
    assert!(stderr.contains("bad.toml: 1 error"), "{stderr}");
    // Naming a recipient organisation is not naming no recipient.
    assert!(!stdout.contains(".recipients: consent"), "{stdout}");
    // The notice is evidence of what people were told: published, warned.
    let (code, _, stderr) = s.run(&["notice", "publish", "emmas-diary", "bad.toml"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "warning: bad.toml: error: declarations[0] (sale).special_category_condition"
        ),
        "{stderr}"
    );
}
