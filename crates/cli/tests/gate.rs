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

/// A broker holds `M01` from two clubs: Emma's Diary's notice names
/// marketing companies as recipients, Bounty's only data brokers. They are
/// two people to custody (a subject identifier belongs to the organisation
/// that assigned it), decided each on their own terms, and every row says
/// which it carries; a list that names `M01` without saying whose is refused
/// before anything is decided.
#[test]
fn one_identifier_from_two_collectors_is_two_holdings_on_every_path() {
    let s = Sandbox::collected();
    s.ok(&[
        "org",
        "add",
        "bounty",
        "--name",
        "Bounty",
        "--role",
        "controller",
    ]);
    s.ok(&[
        "org",
        "add",
        "acme",
        "--name",
        "Acme Offers",
        "--role",
        "controller",
        "--category",
        "marketing-company",
    ]);
    s.write(
        "bounty-2017.toml",
        &common::example_text("notice-2017.toml").replace(
            "recipients.categories = [\"marketing company\", \"data broker\"]",
            "recipients.categories = [\"data broker\"]",
        ),
    );
    s.ok(&["notice", "publish", "bounty", "bounty-2017.toml"]);
    s.write(
        "bounty.csv",
        &s.read("signups.csv")
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    s.ok(&[
        "collect",
        "bounty",
        "bounty.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    for club in ["emmas-diary", "bounty"] {
        s.ok(&[
            "share",
            club,
            "--to",
            "experian",
            "--purpose",
            "Marketing",
            "--categories",
            "Name",
            "--at",
            "2017-04-01",
            "--out",
            "sold.csv",
            "--refused",
            "kept.csv",
        ]);
    }
    let onward = [
        "--to",
        "acme",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "2017-05-01",
    ];
    let run = |head: &[&str], tag: &str| {
        let mut args = head.to_vec();
        args.extend(onward);
        let (out, refused) = (format!("{tag}.csv"), format!("{tag}-refused.csv"));
        args.extend(["--out", &out, "--refused", &refused]);
        s.ok(&args);
        let allowed: Vec<String> = s.csv_rows(&out).into_iter().skip(1).collect();
        (allowed, common::refused_holdings(&s.read(&refused)))
    };
    let bounty_refused = (
        "M01".to_string(),
        "bounty".to_string(),
        "recipient-not-named".to_string(),
    );
    // Everyone experian holds: M01 twice, told apart by the collector.
    let (allowed, refused) = run(&["share", "experian"], "all");
    assert!(
        allowed.iter().any(|r| r.starts_with("M01,emmas-diary,")),
        "{allowed:?}"
    );
    assert!(refused.contains(&bounty_refused), "{refused:?}");
    assert!(
        !allowed.iter().any(|r| r.starts_with("M01,bounty,")),
        "{allowed:?}"
    );
    // A list naming each holding: the same answers from share and screen.
    s.write(
        "both.csv",
        "subject,collector\nM01,emmas-diary\nM01,bounty\n",
    );
    for head in [
        &["share", "experian", "--records", "both.csv"][..],
        &["screen", "experian", "both.csv"],
    ] {
        let (allowed, refused) = run(head, "listed");
        assert_eq!(allowed.len(), 1, "{head:?}: {allowed:?}");
        assert!(
            allowed[0].starts_with("M01,emmas-diary"),
            "{head:?}: {allowed:?}"
        );
        assert_eq!(refused, vec![bounty_refused.clone()], "{head:?}");
    }
    // A list naming M01 alone is ambiguous: refused with its line, nothing recorded.
    s.write("m01.csv", "subject\nM01\n");
    let disclosures = s.json(&["audit", "experian", "--json"])["disclosures"].clone();
    for head in [
        &["share", "experian", "--records", "m01.csv"][..],
        &["screen", "experian", "m01.csv"],
    ] {
        let mut args = head.to_vec();
        args.extend(onward);
        args.extend(["--out", "no.csv", "--refused", "no-refused.csv"]);
        let err = s.fails(&args);
        assert!(err.contains("m01.csv:2"), "{head:?}: {err}");
        assert!(
            err.contains("bounty") && err.contains("emmas-diary"),
            "{err}"
        );
        assert!(err.contains("collector"), "{err}");
    }
    assert_eq!(
        s.json(&["audit", "experian", "--json"])["disclosures"],
        disclosures
    );
}
