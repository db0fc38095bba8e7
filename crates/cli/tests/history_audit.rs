mod common;

use common::{example_text, share_dm, Sandbox, MOTHERS};
use serde_json::Value;

fn history_case() -> Sandbox {
    let s = Sandbox::emmas_case();
    s.copy_example("history-emmas-diary.toml");
    s.copy_example("history-experian.toml");
    s
}

fn reason_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn flows(a: &Value) -> Vec<(String, String, u64, u64)> {
    a["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["from"].as_str().unwrap().into(),
                f["to"].as_str().unwrap().into(),
                f["records"].as_u64().unwrap(),
                f["violations"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn import_history_all() {
    let s = history_case();
    let out = s.ok(&[
        "history",
        "import",
        "emmas-diary",
        "history-emmas-diary.toml",
    ]);
    assert!(
        out.contains(&format!("to experian on 2017-05-10: {MOTHERS} records")),
        "{out}"
    );
    let t = s.json(&["trace", "emmas-diary", "M02", "--json"]);
    assert_eq!(t["disclosures"][0]["outcome"], "disclosed");
    assert_eq!(t["disclosures"][0]["on_behalf_of"], "labour");
    assert_eq!(t["holders"][0]["org"], "experian");
    let text = s.ok(&["trace", "emmas-diary", "M02"]);
    assert!(text.contains("disclosed, unchecked"), "{text}");
}

#[test]
fn import_history_subjects_file() {
    let s = history_case();
    s.write("sold.csv", "subject\nM01\nM02\nM77\n");
    s.write(
        "h.toml",
        &example_text("history-emmas-diary.toml")
            .replace("records = \"all\"", "records = \"sold.csv\""),
    );
    let v = s.json(&["history", "import", "emmas-diary", "h.toml", "--json"]);
    assert_eq!(v[0]["to"], "experian");
    assert_eq!(v[0]["records"], 2);
    assert_eq!(v[0]["not_held"], 1);
    assert_eq!(
        s.json(&["trace", "emmas-diary", "M03", "--json"])["disclosures"],
        serde_json::json!([])
    );
    let a = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(a["people_disclosed"], 2);
    assert_eq!(a["people_wronged"], 2);
}

#[test]
fn audit_counts_everyone_wronged() {
    let s = history_case();
    s.ok(&[
        "history",
        "import",
        "emmas-diary",
        "history-emmas-diary.toml",
    ]);
    let a = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(a["org"], "emmas-diary");
    assert_eq!(a["people_disclosed"], MOTHERS as u64);
    assert_eq!(a["people_wronged"], MOTHERS as u64);
    let ids = reason_ids(&a["reasons"]);
    for expected in [
        "purpose-not-named-explicitly",
        "recipient-not-named",
        "childrens-data",
        "no-consent",
    ] {
        assert!(
            ids.iter().any(|i| i == expected),
            "{expected} missing from {ids:?}"
        );
    }
    let pnn = a["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "purpose-not-named-explicitly")
        .unwrap();
    assert_eq!(pnn["records"], MOTHERS as u64);
    let d = &a["disclosures"][0];
    assert_eq!(d["gated"], false);
    assert_eq!(d["disclosed"], MOTHERS as u64);
    assert_eq!(d["violations"], MOTHERS as u64);
    assert_eq!(
        flows(&a),
        vec![(
            "emmas-diary".into(),
            "experian".into(),
            MOTHERS as u64,
            MOTHERS as u64
        )]
    );
    let text = s.ok(&["audit", "emmas-diary"]);
    assert!(
        text.contains(&format!("people disclosed against the rules: {MOTHERS}")),
        "{text}"
    );
    assert!(text.contains("no (history)"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("emmas-diary")
            && l.contains("experian")
            && l.split_whitespace().count() == 4),
        "{text}"
    );
}

#[test]
fn audit_of_gated_disclosures_finds_no_violation() {
    let s = Sandbox::emmas_case();
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
    let a = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(a["people_disclosed"], 3);
    assert_eq!(a["people_wronged"], 0);
    assert_eq!(a["disclosures"][0]["gated"], true);
    assert_eq!(a["disclosures"][0]["refused_at_gate"], 3);
    assert_eq!(
        flows(&a),
        vec![("emmas-diary".into(), "experian".into(), 3, 0)]
    );
}

#[test]
fn onward_share_refused_and_onward_history_audited() {
    let s = history_case();
    // experian receives M01, M05, M06 lawfully for direct marketing ...
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
    // ... and may not pass them on to labour for a campaign
    s.write("subjects.csv", "subject\nM01\nM05\nM06\n");
    s.ok(&[
        "share",
        "experian",
        "--to",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name",
        "--at",
        "2017-05-15",
        "--records",
        "subjects.csv",
        "--out",
        "onward.csv",
        "--refused",
        "onward-refused.csv",
    ]);
    assert_eq!(
        s.csv_rows("onward.csv"),
        vec!["subject,collector,first_name,last_name"]
    );
    let refused = common::refused_rows(&s.read("onward-refused.csv"));
    assert_eq!(refused.len(), 3);
    for (subject, reasons) in &refused {
        assert!(
            reasons.contains("onward-purpose-not-received"),
            "{subject}: {reasons}"
        );
        assert!(
            reasons.contains("purpose-not-named-explicitly"),
            "{subject}: {reasons}"
        );
    }
    // what actually happened: the sale, then experian's supply to labour
    s.ok(&[
        "history",
        "import",
        "emmas-diary",
        "history-emmas-diary.toml",
    ]);
    let out = s.ok(&["history", "import", "experian", "history-experian.toml"]);
    assert!(
        out.contains(&format!("to labour on 2017-05-20: {MOTHERS} records")),
        "{out}"
    );
    let a = s.json(&["audit", "emmas-diary", "--json"]);
    let f = flows(&a);
    assert!(
        f.iter().any(|(from, to, n, v)| from == "experian"
            && to == "labour"
            && *n == MOTHERS as u64
            && *v == MOTHERS as u64),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|(from, to, _, _)| from == "emmas-diary" && to == "experian"),
        "{f:?}"
    );
    assert_eq!(a["people_wronged"], MOTHERS as u64);
    let t = s.json(&["trace", "emmas-diary", "M02", "--json"]);
    let hops: Vec<(&str, &str)> = t["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["from"].as_str().unwrap(), d["to"].as_str().unwrap()))
        .collect();
    assert!(hops.contains(&("experian", "labour")), "{hops:?}");
    let holders: Vec<&str> = t["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["org"].as_str().unwrap())
        .collect();
    assert!(holders.contains(&"labour"), "{holders:?}");
}

#[test]
fn bad_history_file_names_the_field() {
    let s = history_case();
    s.write(
        "h.toml",
        &example_text("history-emmas-diary.toml")
            .replace("to = \"experian\"", "to = \"cambridge-analytica\""),
    );
    let err = s.fails(&["history", "import", "emmas-diary", "h.toml"]);
    assert!(
        err.contains("h.toml: disclosure[0].to: no organisation `cambridge-analytica`"),
        "{err}"
    );
    s.write(
        "h2.toml",
        &example_text("history-emmas-diary.toml")
            .replace("on_behalf_of = \"labour\"", "on_behalf_of = \"tories\""),
    );
    let err = s.fails(&["history", "import", "emmas-diary", "h2.toml"]);
    assert!(
        err.contains("h2.toml: disclosure[0].on_behalf_of: no organisation `tories`"),
        "{err}"
    );
    s.write(
        "h3.toml",
        &example_text("history-emmas-diary.toml")
            .replace("[\"PoliticalCampaign\"]", "[\"PoliticalCampaing\"]"),
    );
    let err = s.fails(&["history", "import", "emmas-diary", "h3.toml"]);
    assert!(
        err.contains("h3.toml: disclosure[0].purposes: unknown purpose `PoliticalCampaing`"),
        "{err}"
    );
    s.write(
        "h4.toml",
        &example_text("history-emmas-diary.toml")
            .replace("at = \"2017-05-10\"", "at = \"May 2017\""),
    );
    let err = s.fails(&["history", "import", "emmas-diary", "h4.toml"]);
    assert!(err.contains("h4.toml: disclosure[0].at"), "{err}");
    s.write(
        "h5.toml",
        &example_text("history-emmas-diary.toml").replace("note =", "price = 1\nnote ="),
    );
    let err = s.fails(&["history", "import", "emmas-diary", "h5.toml"]);
    assert!(
        err.contains("h5.toml") && err.contains("unknown field `price`"),
        "{err}"
    );
    // nothing recorded
    let a = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(a["disclosures"], serde_json::json!([]));
    assert_eq!(a["people_disclosed"], 0);
}

#[test]
fn audit_unknown_org_fails() {
    let s = Sandbox::new();
    let err = s.fails(&["audit", "nobody"]);
    assert!(
        err.contains("no organisation `nobody` (known: none)"),
        "{err}"
    );
}

#[test]
fn a_back_dated_event_does_not_rewrite_the_audit_and_is_listed_late() {
    let s = Sandbox::emmas_case();
    s.ok(&share_dm(&["--out", "out.csv", "--refused", "refused.csv"]));
    assert!(s.read("out.csv").contains("M01"), "M01 went to the broker");
    let before = s.json(&["audit", "emmas-diary", "--json"]);
    // The case's own 2017 events were entered today too: late, but before
    // the disclosure was recorded, so they count.
    assert_eq!(before["recorded_late"].as_array().unwrap().len(), 2);
    assert_eq!(before["disclosures"][0]["judged_without_later_records"], 0);
    // Recorded today, claiming a withdrawal before the 2017-04-01 disclosure.
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "DirectMarketing",
        "--at",
        "2017-03-15",
    ]);
    let after = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(
        after["disclosures"][0]["violations"], before["disclosures"][0]["violations"],
        "the disclosure is judged by what was recorded before it"
    );
    assert_eq!(after["people_wronged"], before["people_wronged"]);
    assert_eq!(after["disclosures"][0]["judged_without_later_records"], 1);
    let late = after["recorded_late"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["claims"] == "2017-03-15")
        .expect("the back-dated withdrawal is listed");
    assert_eq!(late["claims"], "2017-03-15");
    assert_eq!(late["action"], "withdraw");
    assert_eq!(late["events"], 1);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(late["recorded"], today.as_str());
    let text = s.ok(&["audit", "emmas-diary"]);
    assert!(text.contains("recorded late"), "{text}");
    assert!(text.contains(&today), "{text}");
}

#[test]
fn claimed_times_in_the_future_are_refused() {
    let s = Sandbox::emmas_case();
    let err = s.fails(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "DirectMarketing",
        "--at",
        "2099-01-01",
    ]);
    assert!(err.contains("is in the future"), "{err}");
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
        "2099-01-01",
        "--out",
        "o.csv",
        "--refused",
        "r.csv",
    ]);
    assert!(err.contains("is in the future"), "{err}");
}

#[test]
fn a_history_that_says_nothing_is_refused() {
    let s = history_case();
    s.write("nobody.csv", "subject\nM77\n");
    let base = example_text("history-emmas-diary.toml");
    let cases = [
        (
            "to = \"experian\"",
            "to = \"emmas-diary\"",
            "is the organisation itself",
        ),
        (
            "purposes = [\"PoliticalCampaign\"]",
            "purposes = []",
            "purposes: names none",
        ),
        (
            "categories = [\"Name\"",
            "categories = [",
            "categories: names none",
        ),
        (
            "records = \"all\"",
            "records = \"nobody.csv\"",
            "none of the records it names",
        ),
    ];
    for (from, to, says) in cases {
        assert!(base.contains(from), "the example has {from}");
        let text = base.replacen(from, to, 1);
        let text = if to == "categories = [" {
            // the rest of the list goes too
            let start = text.find("categories = [").unwrap();
            let end = start + text[start..].find(']').unwrap();
            format!("{}categories = []{}", &text[..start], &text[end + 1..])
        } else {
            text
        };
        s.write("h.toml", &text);
        let err = s.fails(&["history", "import", "emmas-diary", "h.toml"]);
        assert!(err.contains(says), "{to}: {err}");
    }
    assert_eq!(
        s.count("SELECT count(*) FROM disclosures"),
        0,
        "nothing recorded"
    );
}
