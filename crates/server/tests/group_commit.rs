//! Disclosures of named records under load: a burst of concurrent requests
//! is group-committed, yet every request gets its own disclosure and its own
//! decision, a bad request among them fails alone, and the log verifies.

mod common;

use std::collections::HashSet;

use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_requests_each_get_their_own_disclosure() {
    let sb = common::sandbox();
    let mothers: Vec<Value> = (0..40)
        .map(|i| common::mother(&format!("M{i:02}"), i % 2 == 0, i % 3 == 0))
        .collect();
    let r = sb.collect(json!(mothers)).await;
    assert!(r.status.is_success(), "{}", r.text());
    let before = sb.log_size();

    let mut tasks = Vec::new();
    for i in 0..200 {
        let (app, token) = (sb.app.clone(), sb.keys.collector.clone());
        tasks.push(tokio::spawn(async move {
            // Every tenth names a recipient that does not exist.
            let to = if i % 10 == 7 { "nobody" } else { "experian" };
            let body = json!({
                "to": to, "purposes": ["Marketing"], "categories": ["Name"],
                "records": [format!("M{:02}", i % 40)], "at": "2017-05-01"
            });
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/orgs/emmas-diary/disclosures")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
            let status = res.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap()
                .to_bytes();
            (i, status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }));
    }
    let mut ids = HashSet::new();
    let mut allowed = 0;
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        if i % 10 == 7 {
            assert_eq!(status, 404, "{body}");
            continue;
        }
        assert_eq!(status, 201, "{body}");
        assert!(ids.insert(body["disclosure"].as_i64().unwrap()), "{body}");
        assert_eq!(body["requested"], 1);
        // M00, M06, ...: partners ticked, so Experian (a broker) may have them.
        let partners = (i % 40) % 3 == 0;
        assert_eq!(body["allowed"], u64::from(partners), "request {i}: {body}");
        allowed += u64::from(partners);
    }
    assert_eq!(ids.len(), 180);
    assert!(allowed > 0);
    // One entry per disclosure and one per decision, however they were grouped.
    assert_eq!(sb.log_size(), before + 180 * 2);
    let v = sb.with_engine(|e| e.verify_log(None, &custody_engine::Silent).unwrap());
    assert_eq!(v.size, before + 360);
}

/// A named holding may say whose identifier it is (README: The rules, one
/// person, one holding): `{"subject", "collector"}` beside plain subjects;
/// a holding of another collector is not held; a misspelt field is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_holding_may_say_its_collector() {
    let sb = common::sandbox();
    let r = sb
        .collect(json!([
            common::mother("M01", true, true),
            common::mother("M02", true, true)
        ]))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let ask = |records: Value| {
        json!({"to": "experian", "purposes": ["Marketing"], "categories": ["Name"],
               "records": records, "at": "2017-05-01"})
    };
    // (records, status, allowed, not held)
    let table = [
        (
            json!([{"subject": "M01", "collector": "emmas-diary"}, "M02"]),
            201,
            2,
            0,
        ),
        (
            json!([{"subject": "M01", "collector": "experian"}]),
            201,
            0,
            1,
        ),
        (
            json!([{"subject": "M01", "collecter": "emmas-diary"}]),
            422,
            0,
            0,
        ),
    ];
    for (records, status, allowed, not_held) in table {
        let r = sb
            .post(
                "/v1/orgs/emmas-diary/disclosures",
                &sb.keys.collector,
                ask(records.clone()),
            )
            .await;
        assert_eq!(r.status.as_u16(), status, "{records}: {}", r.text());
        if status == 201 {
            let v = r.json();
            assert_eq!(
                (v["allowed"].clone(), v["not_held"].clone()),
                (json!(allowed), json!(not_held)),
                "{records}: {v}"
            );
            // Each decision says whose identifier it is about.
            let path = format!(
                "/v1/orgs/emmas-diary/disclosures/{}/decisions",
                v["disclosure"]
            );
            let items = sb.get(&path, &sb.keys.collector).await.json()["items"].clone();
            let items = items.as_array().unwrap();
            assert_eq!(items.len(), allowed, "{items:?}");
            for item in items {
                assert_eq!(item["collector"], "emmas-diary", "{items:?}");
            }
        }
    }
}
