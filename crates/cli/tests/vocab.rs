mod common;

use common::Sandbox;

#[test]
fn show_political_campaign() {
    let s = Sandbox::new();
    let out = s.ok(&["vocab", "show", "PoliticalCampaign"]);
    assert!(
        out.starts_with("dpv:PoliticalCampaign  Political Campaign (purpose)"),
        "{out}"
    );
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line:\n{out}"))
            .to_string()
    };
    let parents = line("parents:");
    assert!(
        parents.contains("dpv:Advertising") && parents.contains("dpv:Personalisation"),
        "{parents}"
    );
    assert!(
        !parents.contains("dpv:Marketing"),
        "Marketing is an ancestor, not a parent: {parents}"
    );
    assert!(line("ancestors:").contains("dpv:Marketing"), "{out}");
    assert!(out.contains("must be named explicitly"), "{out}");
}

#[test]
fn show_json_fields() {
    let s = Sandbox::new();
    let v = s.json(&["vocab", "show", "PoliticalCampaign", "--json"]);
    assert_eq!(v["key"], "dpv:PoliticalCampaign");
    assert_eq!(v["kind"], "purpose");
    assert_eq!(v["label"], "Political Campaign");
    assert_eq!(v["iri"], "https://w3id.org/dpv#PoliticalCampaign");
    assert_eq!(
        v["parents"],
        serde_json::json!(["dpv:Advertising", "dpv:Personalisation"])
    );
    let ancestors: Vec<&str> = v["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(ancestors.contains(&"dpv:Marketing"), "{ancestors:?}");
    assert_eq!(v["must_be_named"]["because_of"], "dpv:PoliticalCampaign");
    assert!(
        v["must_be_named"]["reason"]
            .as_str()
            .unwrap()
            .contains("Art 13(1)(c)"),
        "{v}"
    );
    assert_eq!(v["special_category"], false);
    // a broad purpose carries no explicit rule
    let m = s.json(&["vocab", "show", "Marketing", "--json"]);
    assert_eq!(m["key"], "dpv:Marketing");
    assert!(m["must_be_named"].is_null(), "{m}");
    let desc: Vec<&str> = m["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        desc.contains(&"dpv:PoliticalCampaign") && desc.contains(&"dpv:DirectMarketing"),
        "{desc:?}"
    );
}

#[test]
fn data_category_kind() {
    let s = Sandbox::new();
    let v = s.json(&[
        "vocab",
        "show",
        "PostalCode",
        "--kind",
        "data-category",
        "--json",
    ]);
    assert_eq!(v["kind"], "data-category");
    assert_eq!(v["key"], "pd:PostalCode");
}

#[test]
fn unknown_term_suggests() {
    let s = Sandbox::new();
    let err = s.fails(&["vocab", "show", "PoliticalCampaing"]);
    assert!(err.contains("unknown purpose `PoliticalCampaing`"), "{err}");
    assert!(err.contains("did you mean dpv:PoliticalCampaign"), "{err}");
}

#[test]
fn add_org_term_then_show() {
    let s = Sandbox::new();
    s.ok(&[
        "org", "add", "labour", "--name", "Labour", "--role", "campaign",
    ]);
    let out = s.ok(&[
        "vocab",
        "add",
        "labour",
        "labour:DoorstepCanvass",
        "--kind",
        "purpose",
        "--parent",
        "PoliticalCampaign",
        "--label",
        "Doorstep canvassing",
        "--definition",
        "Knocking on doors",
    ]);
    assert!(
        out.contains("added labour:DoorstepCanvass under PoliticalCampaign"),
        "{out}"
    );
    let v = s.json(&["vocab", "show", "labour:DoorstepCanvass", "--json"]);
    assert_eq!(v["label"], "Doorstep canvassing");
    assert_eq!(v["definition"], "Knocking on doors");
    assert_eq!(v["parents"], serde_json::json!(["dpv:PoliticalCampaign"]));
    // it inherits the explicit rule of its parent
    assert_eq!(v["must_be_named"]["because_of"], "dpv:PoliticalCampaign");
    // and the parent now lists it
    let p = s.json(&["vocab", "show", "PoliticalCampaign", "--json"]);
    assert_eq!(
        p["descendants"],
        serde_json::json!(["labour:DoorstepCanvass"])
    );
    // the same key cannot be added twice
    let err = s.fails(&[
        "vocab",
        "add",
        "labour",
        "labour:DoorstepCanvass",
        "--kind",
        "purpose",
        "--parent",
        "Marketing",
        "--label",
        "x",
    ]);
    assert!(
        err.contains("duplicate term key `labour:DoorstepCanvass`"),
        "{err}"
    );
}

#[test]
fn add_term_bad_input() {
    let s = Sandbox::new();
    s.ok(&[
        "org", "add", "labour", "--name", "Labour", "--role", "campaign",
    ]);
    let err = s.fails(&[
        "vocab",
        "add",
        "labour",
        "emmas:Foo",
        "--kind",
        "purpose",
        "--parent",
        "Marketing",
        "--label",
        "x",
    ]);
    assert!(
        err.contains("bad term key `emmas:Foo`")
            && err.contains("prefix must be the organisation id `labour`"),
        "{err}"
    );
    let err = s.fails(&[
        "vocab",
        "add",
        "nobody",
        "nobody:Foo",
        "--kind",
        "purpose",
        "--parent",
        "Marketing",
        "--label",
        "x",
    ]);
    assert!(err.contains("no organisation `nobody`"), "{err}");
    let err = s.fails(&[
        "vocab",
        "add",
        "labour",
        "labour:Foo",
        "--kind",
        "purpose",
        "--parent",
        "Marketting",
        "--label",
        "x",
    ]);
    assert!(
        err.contains("unknown purpose `Marketting`") && err.contains("dpv:Marketing"),
        "{err}"
    );
    // nothing was added
    let err = s.fails(&["vocab", "show", "labour:Foo"]);
    assert!(err.contains("unknown purpose `labour:Foo`"), "{err}");
}

#[test]
fn explicit_lists_political_campaign() {
    let s = Sandbox::new();
    let out = s.ok(&["vocab", "explicit"]);
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("dpv:PoliticalCampaign ")),
        "{out}"
    );
    assert!(out.contains("dpv:SellDataToThirdParties"), "{out}");
    let v = s.json(&["vocab", "explicit", "--json"]);
    let pc = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["term"] == "dpv:PoliticalCampaign")
        .expect("listed");
    assert!(!pc["reason"].as_str().unwrap().is_empty());
}

#[test]
fn explicit_set_replaces_list() {
    let s = Sandbox::new();
    s.write(
        "explicit.toml",
        "[[explicit]]\nterm = \"dpv:DirectMarketing\"\nreason = \"test reason\"\n",
    );
    let v = s.json(&["vocab", "explicit", "--set", "explicit.toml", "--json"]);
    assert_eq!(
        v,
        serde_json::json!([{"term": "dpv:DirectMarketing", "reason": "test reason"}])
    );
    // it persists, and PoliticalCampaign is no longer special
    let pc = s.json(&["vocab", "show", "PoliticalCampaign", "--json"]);
    assert!(pc["must_be_named"].is_null(), "{pc}");
}

#[test]
fn search_finds_terms_and_recipient_categories_by_their_words() {
    let s = Sandbox::new();
    // (query, kind, a key the answer must hold first, one it must not hold)
    let table: [(&str, Option<&str>, &str, &str); 3] = [
        (
            "due date",
            None,
            "custody:PregnancyDueDate",
            "dpv:Marketing",
        ),
        ("insurer", None, "insurer", "pd:Name"),
        (
            "Direct Marketing",
            Some("purpose"),
            "dpv:DirectMarketing",
            "insurer",
        ),
    ];
    for (query, kind, first, absent) in table {
        let mut args = vec!["vocab", "search", query, "--json"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        let v = s.json(&args);
        let keys: Vec<&str> = v["terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap())
            .chain(
                v["recipient_categories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["slug"].as_str().unwrap()),
            )
            .collect();
        assert_eq!(keys.first(), Some(&first), "{query}: {keys:?}");
        assert!(!keys.contains(&absent), "{query}: {keys:?}");
    }
    let out = s.ok(&["vocab", "search", "insurer"]);
    assert!(out.contains("under DPV dpv:ForProfitOrganisation"), "{out}");
    assert!(s
        .ok(&["vocab", "search", "zzqq"])
        .contains("no term or recipient category holds every word of `zzqq`"));
}

#[test]
fn a_term_of_the_wrong_kind_says_what_it_is() {
    let s = Sandbox::new();
    let err = s.fails(&["vocab", "show", "pd:Health", "--kind", "purpose"]);
    assert!(
        err.contains("unknown purpose `pd:Health` (that is a data-category"),
        "{err}"
    );
    // vocab show says what a link joins.
    let out = s.ok(&["vocab", "show", "fides:marketing"]);
    assert!(
        out.contains("same as dpv:Marketing (vocab/links.toml)"),
        "{out}"
    );
}
