//! Keys and access codes cannot be told apart by how they fail: wrong,
//! unknown and malformed credentials get byte-identical answers, and a
//! client that keeps failing is made to wait.

mod common;

use axum::http::StatusCode;
use custody_server::Config;

async fn failure(
    sb: &common::Sandbox,
    token: &str,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let r = sb.get("/v1/orgs", token).await;
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| *k != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    headers.sort();
    (r.status, headers, r.bytes)
}

#[tokio::test]
async fn wrong_unknown_and_malformed_credentials_fail_the_same_way() {
    let sb = common::sandbox_with(Config {
        auth_burst: 1000,
        ..Config::default()
    });
    let r = sb.collect(common::mothers()).await;
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    let real = sb.keys.reader.clone();
    // The right id with another secret; an id nobody has; not a key at all.
    let wrong_secret = format!("{}{}", &real[..20], "B".repeat(real.len() - 20));
    let unknown_id = format!("ck_{}{}", "f".repeat(16), &real[19..]);
    let mut code_bytes = code.clone().into_bytes();
    let last = code_bytes.len() - 1;
    code_bytes[last] = if code_bytes[last] == b'A' { b'B' } else { b'A' };
    let wrong_code = String::from_utf8(code_bytes).unwrap();
    let mut unknown_record = code.clone();
    unknown_record.replace_range(0..13, "AAAAAAAAAAAAA");
    let tries = [
        wrong_secret,
        unknown_id,
        "ck_nonsense".to_string(),
        "nonsense".to_string(),
        wrong_code,
        unknown_record,
        String::new(),
    ];
    let first = failure(&sb, &tries[0]).await;
    assert_eq!(first.0, StatusCode::UNAUTHORIZED);
    for t in &tries[1..] {
        assert_eq!(
            failure(&sb, t).await,
            first,
            "token {t:?} failed differently"
        );
    }
    // And no credentials at all, the same body.
    let none = sb.call("GET", "/v1/orgs", None, None).await;
    assert_eq!(none.bytes, first.2);
    // The real ones work.
    assert_eq!(sb.get("/v1/orgs", &real).await.status, StatusCode::OK);
    assert_eq!(sb.get("/v1/me", &code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn failed_authentications_are_rate_limited_but_a_valid_key_always_gets_in() {
    let sb = common::sandbox_with(Config {
        auth_burst: 5,
        auth_refill: std::time::Duration::from_secs(3600),
        ..Config::default()
    });
    for _ in 0..5 {
        assert_eq!(
            sb.get("/v1/orgs", "ck_guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = sb.get("/v1/orgs", "ck_guess").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.problem(), "too-many-failed-authentications");
    assert!(r.headers.get("retry-after").is_some());
    // Another client at the same address (behind the same proxy) with a
    // right key is checked and let in, API and pages alike.
    let r = sb.get("/v1/orgs", &sb.keys.reader).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let cookie = sb.sign_in(&sb.keys.reader).await;
    let r = sb
        .page("GET", "/orgs/emmas-diary", Some(&cookie), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Public routes stay open.
    assert_eq!(
        sb.call("GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
}
