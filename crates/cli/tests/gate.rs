//! One question, one answer: the same disclosure asked by `share` (of a
//! list and of everyone), `screen` and `audit`'s re-evaluation of a past
//! one is decided alike, record by record.

mod common;

use std::collections::BTreeMap;

use common::{refused_rows, Sandbox};

const TO_LABOUR: &[&str] = &[
    "--to",
    "labour",
    "--purpose",
    "PoliticalCampaign",
    "--categories",
    "Name,PostalCode",
    "--at",
    "2018-08-01",
];

/// Every path's refusals for one request, subject -> reasons.
fn refusals_on_every_path(
    s: &Sandbox,
    terms: &[&str],
) -> Vec<(&'static str, BTreeMap<String, String>)> {
    let run = |head: &[&str], out: &str, refused: &str| {
        let mut args: Vec<&str> = head.to_vec();
        args.extend_from_slice(terms);
        args.extend(["--out", out, "--refused", refused]);
        s.ok(&args);
        refused_rows(&s.read(refused))
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    };
    s.write("everyone.csv", "subject\nM01\nM02\nM03\nM04\nM05\nM06\n");
    vec![
        (
            "screen",
            run(
                &["screen", "emmas-diary", "everyone.csv"],
                "s.csv",
                "sr.csv",
            ),
        ),
        (
            "share of a list",
            run(
                &["share", "emmas-diary", "--records", "everyone.csv"],
                "l.csv",
                "lr.csv",
            ),
        ),
        (
            "share of all",
            run(&["share", "emmas-diary"], "a.csv", "ar.csv"),
        ),
    ]
}

/// A consent to political campaigning given in April 2018 under the 2017
/// notice, which declared none, does not count when an unrelated event in
/// July moves the mother to 2018-05, which does; given again under 2018-05,
/// it counts.
#[test]
fn a_consent_given_before_the_declaration_existed_counts_on_no_path() {
    let s = Sandbox::emmas_case();
    s.copy_example("notice-2018-05.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2018-05.toml"]);
    for (subject, args) in [
        (
            "M01",
            &["--give", "PoliticalCampaign", "--at", "2018-04-28"][..],
        ),
        ("M01", &["--object-direct-marketing", "--at", "2018-05-01"]),
        (
            "M01",
            &[
                "--withdraw-objection",
                "--at",
                "2018-07-09",
                "--notice",
                "2018-05",
            ],
        ),
        (
            "M05",
            &[
                "--give",
                "PoliticalCampaign",
                "--at",
                "2018-07-10",
                "--notice",
                "2018-05",
            ],
        ),
    ] {
        let mut a = vec!["consent", "emmas-diary", subject];
        a.extend_from_slice(args);
        s.ok(&a);
    }
    for (path, refused) in refusals_on_every_path(&s, TO_LABOUR) {
        assert_eq!(
            refused.get("M01").map(String::as_str),
            Some("consent-not-informed"),
            "{path}: {refused:?}"
        );
        assert!(!refused.contains_key("M05"), "{path}: {refused:?}");
        assert_eq!(refused.len(), 5, "{path}: {refused:?}");
    }
    // The same disclosure made in the past without the gate: audit finds
    // M01 wronged for the same reason.
    s.write(
        "h.toml",
        r#"[[disclosure]]
to = "labour"
at = "2018-08-01"
purposes = ["PoliticalCampaign"]
categories = ["Name", "PostalCode"]
records = "all"
"#,
    );
    s.ok(&["history", "import", "emmas-diary", "h.toml"]);
    let audit = s.json(&["audit", "emmas-diary", "--json"]);
    let reasons: Vec<&str> = audit["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"consent-not-informed"), "{audit}");
    let history = &audit["disclosures"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(history["violations"], 5, "{audit}");
}

/// A person not yet collected at the disclosure's time is not held, as one
/// the holder never had is: every report counts both as the refusals it
/// tallies do.
#[test]
fn not_held_is_counted_as_the_refusals_are() {
    let s = Sandbox::emmas_case();
    // M04 to M06 signed up after 3 February 2017; M99 never did.
    s.write("list.csv", "subject\nM01\nM02\nM03\nM04\nM05\nM06\nM99\n");
    let terms = [
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "2017-02-03",
        "--json",
    ];
    for head in [
        &["screen", "emmas-diary", "list.csv"][..],
        &["share", "emmas-diary", "--records", "list.csv"],
    ] {
        let mut args = head.to_vec();
        args.extend(terms);
        args.extend(["--out", "o.csv", "--refused", "r.csv"]);
        let report = s.json(&args);
        let carrying = refused_rows(&s.read("r.csv"))
            .iter()
            .filter(|(_, r)| r.split(';').any(|r| r == "not-held"))
            .count();
        assert_eq!(carrying, 4, "{}", s.read("r.csv"));
        assert_eq!(report["not_held"], 4, "{head:?}: {report}");
        let tallied = report["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "not-held")
            .map(|r| r["records"].clone());
        assert_eq!(tallied, Some(4.into()), "{head:?}: {report}");
    }
}
