mod common;

use common::{Sandbox, DM_TO_BROKER};

/// The base case plus two gated disclosures on 2017-04-01 and 2017-05-10.
fn traced() -> Sandbox {
    let s = Sandbox::emmas_case();
    s.share(DM_TO_BROKER).success();
    s.share(&[
        "--to",
        "experian",
        "--on-behalf-of",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name",
        "--at",
        "2017-05-10",
    ])
    .success();
    s
}

#[test]
fn text_shows_collection_notice_consents_and_disclosures() {
    let s = traced();
    let out = s.ok(&["trace", "emmas-diary", "M03"]);
    assert!(
        out.starts_with(
            "M03 collected by emmas-diary on 2017-02-03 under notice version 2017 (effective 2015-01-01)"
        ),
        "{out}"
    );
    assert!(
        out.contains("the notice said: \"We use your details"),
        "{out}"
    );
    assert!(
        out.contains("partners: dpv:Marketing (consent) to marketing-company, data-broker"),
        "{out}"
    );
    assert!(
        out.contains("consented at collection: offers, partners"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("2017-03-01")
            && l.contains("withdraw")
            && l.contains("dpv:DirectMarketing")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("2017-04-01")
            && l.contains("dpv:DirectMarketing")
            && l.contains("refused")
            && l.contains("consent-withdrawn")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("2017-05-10")
            && l.contains("experian (for labour)")
            && l.contains("purpose-not-named-explicitly")),
        "{out}"
    );
    // each reason explained with its provisions
    assert!(out.contains("consent-withdrawn: This person withdrew consent before the disclosure. (UK GDPR Art 7(3)"), "{out}");
    assert!(out.contains("held now by\n  emmas-diary only"), "{out}");
}

#[test]
fn allowed_disclosure_shows_new_holder() {
    let s = traced();
    let out = s.ok(&["trace", "emmas-diary", "M01"]);
    assert!(
        out.lines()
            .any(|l| l.contains("2017-04-01") && l.contains("allowed")),
        "{out}"
    );
    assert!(
        out.contains("experian since 2017-04-01 (from emmas-diary, for dpv:DirectMarketing)"),
        "{out}"
    );
    assert!(!out.contains("emmas-diary only"), "{out}");
}

#[test]
fn json_shape() {
    let s = traced();
    let t = s.json(&["trace", "emmas-diary", "M04", "--json"]);
    assert_eq!(t["subject"], "M04");
    assert_eq!(t["collected_by"], "emmas-diary");
    assert_eq!(t["collected_at"], "2017-02-04");
    assert_eq!(t["notice"]["version"], "2017");
    assert_eq!(t["notice"]["effective"], "2015-01-01");
    assert_eq!(t["notice"]["declarations"].as_array().unwrap().len(), 3);
    assert_eq!(t["consented"], serde_json::json!(["offers", "partners"]));
    assert_eq!(
        t["preferences"],
        serde_json::json!([{"at": "2017-03-01", "action": "object-direct-marketing", "purpose": null, "notice": null}])
    );
    let d = t["disclosures"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0]["at"], "2017-04-01");
    assert_eq!(d[0]["from"], "emmas-diary");
    assert_eq!(d[0]["to"], "experian");
    assert_eq!(d[0]["on_behalf_of"], serde_json::Value::Null);
    assert_eq!(d[0]["purposes"], serde_json::json!(["dpv:DirectMarketing"]));
    assert_eq!(
        d[0]["categories"],
        serde_json::json!(["pd:Name", "pd:PostalCode"])
    );
    assert_eq!(d[0]["outcome"], "refused");
    assert_eq!(
        d[0]["reasons"],
        serde_json::json!(["objected-direct-marketing"])
    );
    assert_eq!(d[1]["on_behalf_of"], "labour");
    let reasons: Vec<&str> = d[1]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"purpose-not-named-explicitly")
            && reasons.contains(&"objected-direct-marketing"),
        "{reasons:?}"
    );
    assert_eq!(t["holders"], serde_json::json!([]));

    let m1 = s.json(&["trace", "emmas-diary", "M01", "--json"]);
    assert_eq!(m1["disclosures"][0]["outcome"], "allowed");
    assert_eq!(m1["disclosures"][0]["reasons"], serde_json::json!([]));
    assert_eq!(m1["holders"][0]["org"], "experian");
    assert_eq!(m1["holders"][0]["from"], "emmas-diary");
}

#[test]
fn no_disclosures_yet() {
    let s = Sandbox::collected();
    let out = s.ok(&["trace", "emmas-diary", "M02"]);
    assert!(out.contains("consented at collection: nothing"), "{out}");
    assert!(out.contains("disclosures\n  none"), "{out}");
    assert!(!out.contains("preferences"), "{out}");
}

#[test]
fn unknown_subject_or_org_fails() {
    let s = Sandbox::collected();
    let err = s.fails(&["trace", "emmas-diary", "M99"]);
    assert!(
        err.contains("emmas-diary holds no record of subject `M99`"),
        "{err}"
    );
    let err = s.fails(&["trace", "nobody", "M01"]);
    assert!(err.contains("no organisation `nobody`"), "{err}");
    let err = s.fails(&["trace", "experian", "M01"]);
    assert!(
        err.contains("experian holds no record of subject `M01`"),
        "{err}"
    );
}
