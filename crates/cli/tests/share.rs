mod common;

use common::{refused_rows, share_dm, Sandbox, DM_TO_BROKER, MAPPING_TOML};
use serde_json::Value;

fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn allowed_direct_marketing_to_broker_sends_only_requested_columns() {
    let s = Sandbox::emmas_case();
    let out = s.share(DM_TO_BROKER).success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("emmas-diary -> experian for dpv:DirectMarketing (pd:Name, pd:PostalCode)"),
        "{out}"
    );
    assert!(out.contains("requested 6   allowed 3   refused 3"), "{out}");
    let sent = s.csv_rows("out.csv");
    assert_eq!(sent[0], "subject,collector,first_name,last_name,postcode");
    assert_eq!(
        &sent[1..],
        &[
            "M01,emmas-diary,Ann,Ames,AB1 1AA",
            "M05,emmas-diary,Eve,Ede,AB1 5EE",
            "M06,emmas-diary,Fay,Fox,AB1 6FF"
        ]
    );
    let all = s.read("out.csv");
    for leaked in ["@example.org", "Ash Rd", "2016-12-01", "2017-02-01"] {
        assert!(!all.contains(leaked), "{leaked} must not be sent:\n{all}");
    }
}

#[test]
fn refused_file_lists_reasons() {
    let s = Sandbox::emmas_case();
    s.share(DM_TO_BROKER).success();
    assert_eq!(
        refused_rows(&s.read("refused.csv")),
        rows(&[
            ("M02", "no-consent"),
            ("M03", "consent-withdrawn"),
            ("M04", "objected-direct-marketing")
        ])
    );
}

#[test]
fn report_counts_per_reason() {
    let s = Sandbox::emmas_case();
    let mut args = DM_TO_BROKER.to_vec();
    args.extend(["--report", "report.json"]);
    s.share(&args).success();
    let r: Value = serde_json::from_str(&s.read("report.json")).unwrap();
    assert_eq!(
        (
            r["requested"].as_u64(),
            r["allowed"].as_u64(),
            r["refused"].as_u64()
        ),
        (Some(6), Some(3), Some(3))
    );
    assert_eq!(r["not_held"], 0);
    assert_eq!(r["from"], "emmas-diary");
    assert_eq!(r["to"], "experian");
    assert_eq!(r["purposes"], serde_json::json!(["dpv:DirectMarketing"]));
    assert_eq!(
        r["categories"],
        serde_json::json!(["pd:Name", "pd:PostalCode"])
    );
    assert_eq!(
        r["columns_sent"],
        serde_json::json!(["first_name", "last_name", "postcode"])
    );
    let counts: Vec<(String, u64)> = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("no-consent".into(), 1),
            ("consent-withdrawn".into(), 1),
            ("objected-direct-marketing".into(), 1)
        ]
    );
    assert!(r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| !c["provisions"].as_array().unwrap().is_empty()));
}

#[test]
fn json_stdout_matches_report() {
    let s = Sandbox::emmas_case();
    let mut args = DM_TO_BROKER.to_vec();
    args.extend(["--report", "report.json", "--json"]);
    let out = s.share(&args).success().get_output().stdout.clone();
    let stdout: Value = serde_json::from_slice(&out).expect("--json prints JSON");
    let file: Value = serde_json::from_str(&s.read("report.json")).unwrap();
    assert_eq!(stdout, file);
    assert!(stdout["disclosure"].as_i64().unwrap() > 0);
}

#[test]
fn political_campaign_refuses_everyone() {
    let s = Sandbox::emmas_case();
    s.share(&[
        "--to",
        "experian",
        "--on-behalf-of",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name,PostalCode",
        "--at",
        "2017-05-10",
        "--report",
        "report.json",
    ])
    .success();
    assert_eq!(
        s.csv_rows("out.csv"),
        vec!["subject,collector,first_name,last_name,postcode"],
        "nobody sent"
    );
    let refused = refused_rows(&s.read("refused.csv"));
    assert_eq!(refused.len(), 6);
    for (subject, reasons) in &refused {
        assert!(
            reasons
                .split(';')
                .any(|r| r == "purpose-not-named-explicitly"),
            "{subject}: {reasons}"
        );
    }
    let r: Value = serde_json::from_str(&s.read("report.json")).unwrap();
    assert_eq!(r["allowed"], 0);
    assert_eq!(r["on_behalf_of"], "labour");
    let pnn = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "purpose-not-named-explicitly")
        .unwrap();
    assert_eq!(pnn["records"], 6);
}

#[test]
fn political_campaign_allowed_under_2018_notice_after_reconsent() {
    let s = Sandbox::emmas_case();
    s.copy_example("notice-2018-05.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2018-05.toml"]);
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "PoliticalCampaign",
        "--at",
        "2018-06-01",
        "--notice",
        "2018-05",
    ]);
    s.write("subjects.csv", "subject\nM01\nM05\n");
    s.share(&[
        "--to",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name,PostalCode",
        "--at",
        "2018-07-01",
        "--records",
        "subjects.csv",
    ])
    .success();
    assert_eq!(
        s.csv_rows("out.csv"),
        vec![
            "subject,collector,first_name,last_name,postcode",
            "M01,emmas-diary,Ann,Ames,AB1 1AA"
        ]
    );
    let refused = refused_rows(&s.read("refused.csv"));
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "M05");
    assert!(
        refused[0].1.contains("purpose-not-named-explicitly"),
        "{refused:?}"
    );
}

#[test]
fn records_file_with_unknown_subject_is_not_held() {
    let s = Sandbox::emmas_case();
    s.write("subjects.csv", "subject\nM01\nM99\nM02\n");
    let mut args = DM_TO_BROKER.to_vec();
    args.extend(["--records", "subjects.csv", "--report", "report.json"]);
    s.share(&args).success();
    assert_eq!(
        s.csv_rows("out.csv"),
        vec![
            "subject,collector,first_name,last_name,postcode",
            "M01,emmas-diary,Ann,Ames,AB1 1AA"
        ]
    );
    assert_eq!(
        refused_rows(&s.read("refused.csv")),
        rows(&[("M02", "no-consent"), ("M99", "not-held")])
    );
    let r: Value = serde_json::from_str(&s.read("report.json")).unwrap();
    assert_eq!(
        (
            r["requested"].as_u64(),
            r["not_held"].as_u64(),
            r["refused"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
}

#[test]
fn basis_and_children_and_undeclared_categories() {
    let s = Sandbox::emmas_case();
    s.write("subjects.csv", "subject\nM01\n");
    s.share(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--basis",
        "legitimate-interests",
        "--records",
        "subjects.csv",
        "--at",
        "2017-04-01",
    ])
    .success();
    assert_eq!(
        refused_rows(&s.read("refused.csv")),
        rows(&[("M01", "basis-mismatch")])
    );
    s.share(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name,custody:ChildBirthDate",
        "--records",
        "subjects.csv",
        "--at",
        "2017-04-01",
    ])
    .success();
    let refused = refused_rows(&s.read("refused.csv"));
    assert_eq!(refused[0].0, "M01");
    let reasons: Vec<&str> = refused[0].1.split(';').collect();
    assert!(
        reasons.contains(&"category-not-declared") && reasons.contains(&"childrens-data"),
        "{reasons:?}"
    );
}

fn assert_no_outputs(s: &Sandbox) {
    for f in ["out.csv", "refused.csv", "report.json"] {
        assert!(
            !s.exists(f),
            "{f} must not be written when the command fails"
        );
    }
}

#[test]
fn unknown_purpose_category_org_fail_without_outputs() {
    let s = Sandbox::emmas_case();
    let share_err = |extra: &[&str]| {
        let mut args = vec![
            "share",
            "emmas-diary",
            "--out",
            "out.csv",
            "--refused",
            "refused.csv",
            "--report",
            "report.json",
        ];
        args.extend_from_slice(extra);
        let err = s.fails(&args);
        assert_no_outputs(&s);
        err
    };
    let err = share_err(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketting",
        "--categories",
        "Name",
    ]);
    assert!(
        err.contains("unknown purpose `DirectMarketting`; did you mean dpv:DirectMarketing"),
        "{err}"
    );
    let err = share_err(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Nmae",
    ]);
    assert!(
        err.contains("unknown data-category `Nmae`") && err.contains("pd:Name"),
        "{err}"
    );
    let err = share_err(&[
        "--to",
        "nobody",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
    ]);
    assert!(
        err.contains("no organisation `nobody` (known: emmas-diary, experian, labour)"),
        "{err}"
    );
    let err = share_err(&[
        "--to",
        "experian",
        "--on-behalf-of",
        "tories",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
    ]);
    assert!(err.contains("no organisation `tories`"), "{err}");
    let err = share_err(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--basis",
        "vibes",
    ]);
    assert!(err.contains("vibes"), "{err}");
    let err = share_err(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--records",
        "missing.csv",
    ]);
    assert!(err.contains("missing.csv"), "{err}");
    let err = share_err(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "soon",
    ]);
    assert!(err.contains("`soon` is not a date"), "{err}");
    // nothing was recorded either
    assert_eq!(
        s.json(&["trace", "emmas-diary", "M01", "--json"])["disclosures"],
        serde_json::json!([])
    );
}

#[test]
fn sharing_to_self_fails() {
    let s = Sandbox::emmas_case();
    let err = s.fails(&[
        "share",
        "emmas-diary",
        "--to",
        "emmas-diary",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
    ]);
    assert!(
        err.contains("a disclosure goes to another organisation"),
        "{err}"
    );
    assert_no_outputs(&s);
}

#[test]
fn missing_required_flags_are_usage_errors() {
    let s = Sandbox::emmas_case();
    s.custody(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--categories",
        "Name",
        "--out",
        "o.csv",
        "--refused",
        "r.csv",
    ])
    .failure()
    .code(2)
    .stderr(predicates::str::contains("--purpose"));
    assert!(!s.exists("o.csv"));
}

#[test]
fn failed_report_leaves_no_outputs_and_records_nothing() {
    let s = Sandbox::emmas_case();
    let err = s.fails(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "2017-04-01",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
        "--report",
        "no-such-dir/report.json",
    ]);
    assert!(err.contains("no-such-dir/report.json"), "{err}");
    assert!(
        !s.exists("out.csv"),
        "out.csv written although the run failed"
    );
    assert!(
        !s.exists("refused.csv"),
        "refused.csv written although the run failed"
    );
    assert_eq!(
        s.json(&["trace", "emmas-diary", "M01", "--json"])["disclosures"],
        serde_json::json!([])
    );
}

#[test]
fn consent_to_own_offers_does_not_cover_third_party_declaration() {
    let s = Sandbox::new();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    s.write("signups.mapping.toml", MAPPING_TOML);
    s.write(
        "signups.csv",
        "member_id,signed_up,first_name,last_name,email,address,postcode,child_dob,consent_offers,consent_partners\n\
         G01,2017-02-01,Gia,Gold,gia@example.org,7 Yew Rd,AB1 7GG,2016-12-01,yes,no\n",
    );
    s.ok(&["collect", "emmas-diary", "signups.csv", "--notice", "2017"]);
    s.share(&[
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "2017-04-01",
    ])
    .success();
    // G01 ticked "our own offers" only; the broker is named only by "partners", which she left unticked.
    assert_eq!(
        s.csv_rows("out.csv"),
        vec!["subject,collector,first_name,last_name"],
        "G01 must not go to the broker"
    );
    assert_eq!(refused_rows(&s.read("refused.csv")).len(), 1);
}

#[test]
fn missing_file_error_is_said_once() {
    let s = Sandbox::emmas_case();
    let err = s.fails(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--records",
        "missing.csv",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
    ]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_share_of_many_chunks_stores_and_logs_every_outcome() {
    // Outcomes wait on disk and reach the store 65,536 at a time: every one
    // must land, in order, with its entry, and the copies with them.
    let n = 140_000;
    let s = Sandbox::with_mothers(n);
    let v = s.json(&share_dm(&[
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
        "--json",
    ]));
    let (allowed, refused) = (
        v["allowed"].as_u64().unwrap(),
        v["refused"].as_u64().unwrap(),
    );
    assert_eq!(
        (allowed + refused, allowed),
        (n as u64, n as u64 / 2),
        "{v}"
    );
    let count = |sql: &str| s.count(sql);
    assert_eq!(count("SELECT count(*) FROM decisions"), n as i64);
    assert_eq!(
        count("SELECT count(*) FROM decisions WHERE reasons = 0"),
        allowed as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM records WHERE org = 'experian'"),
        allowed as i64
    );
    let out = s.ok(&["log", "verify"]);
    assert!(
        out.contains(&format!("{n} decisions").replace("140000", "140,000")),
        "{out}"
    );
    assert_eq!(s.csv_rows("out.csv").len() - 1, allowed as usize);
}

/// An output named as the list it reads (or as the other output) would
/// overwrite it: refused before anything is decided, the list as it was,
/// nothing recorded. The same for `screen`.
#[test]
fn an_output_that_is_the_list_is_refused() {
    let s = Sandbox::emmas_case();
    let list = "subject\nM01\nM05\n";
    s.write("list.csv", list);
    let cases: [&[&str]; 3] = [
        &[
            "--records",
            "list.csv",
            "--out",
            "list.csv",
            "--refused",
            "r.csv",
        ],
        &[
            "--records",
            "list.csv",
            "--out",
            "o.csv",
            "--refused",
            "./list.csv",
        ],
        &["--out", "o.csv", "--refused", "o.csv"],
    ];
    for extra in cases {
        let err = s.fails(&share_dm(extra));
        assert!(err.contains("is named both for"), "{extra:?}: {err}");
        assert_eq!(s.read("list.csv"), list, "{extra:?}");
    }
    let mut screen = vec!["screen", "emmas-diary", "list.csv"];
    screen.extend_from_slice(DM_TO_BROKER);
    screen.extend(["--out", "list.csv", "--refused", "r.csv"]);
    let err = s.fails(&screen);
    assert!(err.contains("the list"), "{err}");
    assert_eq!(s.read("list.csv"), list);
    assert_eq!(s.count("SELECT count(*) FROM disclosures"), 0);
    assert!(!s.exists("o.csv") && !s.exists("r.csv"));
}
