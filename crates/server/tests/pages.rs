//! What the pages say, read as HTML: the person's page speaks to her, and
//! an investigator can look up one person by reference.

mod common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn her_page_says_who_holds_her_data_and_what_she_can_do() {
    let sb = common::sandbox();
    let r = sb.collect(common::mothers()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    // A refusal to tell her about.
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/disclosures",
            &sb.keys.collector,
            json!({"to": "experian", "purposes": ["PoliticalCampaign"], "categories": ["Name"], "records": "all"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cookie = sb.sign_in(&code).await;
    let page = sb
        .page("GET", "/me", Some(&cookie), None, None)
        .await
        .text();
    let opening = page.find("organisation holds your data:").expect(&page);
    for (later, what) in [
        ("What you were told", "who holds it comes before the notice"),
        ("What you can do next", "next steps"),
    ] {
        assert!(page[opening..].contains(later), "{what}");
    }
    for want in [
        "Your data used for this: Name",
        "You were told only of something broader",
        "<details class=\"provisions\"><summary>The law behind this</summary>",
        "ico.org.uk/make-a-complaint",
        "to correct what is wrong or to erase your data",
        "A receipt is proof that one event above was written down",
        "For engineers: how to check a receipt",
    ] {
        assert!(page.contains(want), "{want}");
    }
    assert!(
        !page.contains("this person"),
        "spoken to her, not about her"
    );
}

#[tokio::test]
async fn an_investigator_looks_up_one_person_by_reference() {
    let sb = common::sandbox();
    sb.collect(common::mothers()).await;
    let cookie = sb.sign_in(&sb.keys.regulator).await;
    let overview = sb
        .page("GET", "/orgs/emmas-diary", Some(&cookie), None, None)
        .await
        .text();
    assert!(
        overview.contains("action=\"/orgs/emmas-diary/people\""),
        "{overview}"
    );
    assert!(overview.contains("3 declarations"), "{overview}");
    let r = sb
        .page(
            "GET",
            "/orgs/emmas-diary/people?subject=M02",
            Some(&cookie),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(
        page.contains("<h2>M02</h2>") && page.contains("under notice version 2017"),
        "{page}"
    );
    assert!(page.contains("0 disclosures of the record"), "{page}");
    assert!(page.contains("held now by 1 organisation"), "{page}");
    let missing = sb
        .page(
            "GET",
            "/orgs/emmas-diary/people?subject=NOBODY",
            Some(&cookie),
            None,
            None,
        )
        .await
        .text();
    assert!(missing.contains("role=\"alert\""), "{missing}");
}

#[tokio::test]
async fn the_audit_counts_records_and_people_apart() {
    let sb = common::sandbox();
    sb.collect(common::mothers()).await;
    // Two of the three ticked the partners' box; passed on twice each.
    for _ in 0..2 {
        let r = sb
            .post(
                "/v1/orgs/emmas-diary/disclosures",
                &sb.keys.collector,
                json!({"to": "experian", "purposes": ["Marketing"], "categories": ["Name"], "records": "all", "at": "2017-06-01"}),
            )
            .await;
        assert_eq!(r.json()["allowed"], 2, "{}", r.text());
    }
    let cookie = sb.sign_in(&sb.keys.regulator).await;
    let page = sb
        .page("GET", "/orgs/emmas-diary/audit", Some(&cookie), None, None)
        .await
        .text();
    assert!(page.contains("4 records, 2 people"), "{page}");
}

#[tokio::test]
async fn her_page_refuses_a_choice_about_nothing_she_was_told() {
    let sb = common::sandbox();
    let r = sb.collect(common::mothers()).await;
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    let cookie = sb.sign_in(&code).await;
    let before = sb.log_size();
    let r = sb
        .page(
            "POST",
            "/me/preferences",
            Some(&cookie),
            Some("action=give&purpose=ResearchAndDevelopment"),
            Some("http://custody.test"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("is not among the purposes emmas-diary told")
            && page.contains("dpv:Marketing (Marketing)"),
        "{page}"
    );
    assert_eq!(sb.log_size(), before, "nothing recorded");
}
