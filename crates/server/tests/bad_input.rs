//! Bad input gets a clear 4xx problem, and nothing is stored.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use custody_server::Config;
use serde_json::json;

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_refused() {
    let sb = common::sandbox();
    let before = sb.log_size();
    let raw = |body: &'static str| {
        Request::builder()
            .method("POST")
            .uri("/v1/orgs")
            .header("authorization", format!("Bearer {}", sb.keys.admin))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let r = sb.send(raw("{\"id\": \"x\",")).await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::BAD_REQUEST, "malformed-json".into())
    );

    let r = sb
        .send(raw(r#"{"id": 5, "name": "X", "role": "broker"}"#))
        .await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation".into())
    );
    assert_eq!(r.json()["errors"][0]["field"], "id");

    let r = sb.send(raw(r#"{"id": "x", "role": "broker"}"#)).await;
    assert_eq!(r.problem(), "validation");

    let r = sb
        .send(raw(
            r#"{"id": "x", "name": "X", "role": "broker", "colour": "red"}"#,
        ))
        .await;
    assert_eq!(r.problem(), "validation");

    let r = sb
        .send(raw(r#"{"id": "x", "name": "X", "role": "pirate"}"#))
        .await;
    assert_eq!(r.problem(), "validation");
    assert_eq!(r.json()["errors"][0]["field"], "role");

    let r = sb
        .send(
            Request::builder()
                .method("POST")
                .uri("/v1/orgs")
                .header("authorization", format!("Bearer {}", sb.keys.admin))
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (r.status, r.problem()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type".into()
        )
    );
    assert_eq!(sb.log_size(), before);
}

#[tokio::test]
async fn a_bad_record_names_its_field_and_nothing_of_the_batch_lands() {
    let sb = common::sandbox();
    let mut records = common::mothers();
    records[1]["signed_up"] = json!("2014-01-01"); // before notice 2017 took effect
    let r = sb.collect(records).await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-record".into())
    );
    assert_eq!(r.json()["errors"][0]["field"], "records[1].signed_up");
    assert_eq!(sb.records(), 0);

    let r = sb
        .post(
            "/v1/orgs/emmas-diary/collections",
            &sb.keys.collector,
            json!({"notice": "2017", "mapping": common::mapping(), "records": [{"member_id": {"nested": 1}}]}),
        )
        .await;
    assert_eq!(r.problem(), "validation");
    assert_eq!(r.json()["errors"][0]["field"], "records[0].member_id");

    let r = sb
        .post(
            "/v1/orgs/emmas-diary/collections",
            &sb.keys.collector,
            json!({"notice": "2017", "mapping": {"subject": "member_id", "columns": {"first_name": "pd:Nonsense"}}, "records": [common::mother("M09", true, true)]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(sb.records(), 0);
}

#[tokio::test]
async fn unknown_purposes_are_their_own_problem() {
    let sb = common::sandbox();
    sb.collect(common::mothers()).await;
    let before = sb.log_size();
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/disclosures",
            &sb.keys.collector,
            json!({"to": "experian", "purposes": ["Astrology"], "categories": ["Name"], "records": "all"}),
        )
        .await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown-purpose".into())
    );
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/preferences",
            &sb.keys.collector,
            json!({"subject": "M01", "action": "withdraw", "purpose": "Astrology"}),
        )
        .await;
    assert_eq!(r.problem(), "unknown-purpose");
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/preferences",
            &sb.keys.collector,
            json!({"subject": "M01", "action": "shrug"}),
        )
        .await;
    assert_eq!(r.problem(), "validation");
    assert_eq!(sb.log_size(), before);
}

#[tokio::test]
async fn a_preference_about_nothing_declared_is_refused_with_the_declared_purposes() {
    let sb = common::sandbox();
    sb.collect(common::mothers()).await;
    let before = sb.log_size();
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/preferences",
            &sb.keys.collector,
            json!({"subject": "M01", "action": "withdraw", "purpose": "ResearchAndDevelopment"}),
        )
        .await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation".into())
    );
    let problem = r.json();
    assert_eq!(problem["errors"][0]["field"], "purpose");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("dpv:Marketing (Marketing)"), "{message}");
    assert_eq!(sb.log_size(), before);
    // A name of the declared purpose in another vocabulary is that purpose,
    // and the answer says which term it became.
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/preferences",
            &sb.keys.collector,
            json!({"subject": "M01", "action": "withdraw", "purpose": "marketing"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["purpose"].as_str(), v["purpose_label"].as_str()),
        (Some("dpv:Marketing"), Some("Marketing"))
    );
}

#[tokio::test]
async fn an_over_limit_body_is_413_and_stores_nothing() {
    let sb = common::sandbox_with(Config {
        max_body: 16 * 1024,
        ..Config::default()
    });
    let records: Vec<_> = (0..400)
        .map(|i| common::mother(&format!("M{i:04}"), true, true))
        .collect();
    let r = sb.collect(json!(records)).await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large".into())
    );
    assert_eq!(sb.records(), 0);
}

#[tokio::test]
async fn pagination_is_bounded_and_unknown_routes_are_problems() {
    let sb = common::sandbox();
    for q in [
        "limit=0",
        "limit=5000",
        "after=abc",
        "limit=x",
        "colour=red",
    ] {
        let r = sb
            .get(
                &format!("/v1/orgs/emmas-diary/disclosures?{q}"),
                &sb.keys.reader,
            )
            .await;
        assert_eq!(
            (r.status, r.problem()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation".into()),
            "{q}"
        );
    }
    let r = sb.get("/v1/orgs?limit=2", &sb.keys.reader).await;
    let page = r.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap().to_string();
    let r = sb
        .get(&format!("/v1/orgs?limit=2&after={next}"), &sb.keys.reader)
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    assert!(r.json().get("next").is_none());

    let r = sb.call("GET", "/v1/nothing-here", None, None).await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::NOT_FOUND, "not-found".into())
    );
    let r = sb
        .call("DELETE", "/v1/orgs", Some(&sb.keys.admin), None)
        .await;
    assert_eq!(
        (r.status, r.problem()),
        (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed".into())
    );
}
