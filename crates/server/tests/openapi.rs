//! The OpenAPI document covers exactly the routes the router serves, and
//! the checked-in docs/openapi.json is the generated document.
//! Regenerate: `UPDATE_OPENAPI=1 cargo nextest run -p custody-server -E 'test(the_checked_in_document)'`.

use std::collections::BTreeSet;
use std::path::Path;

use custody_server::openapi::{document, document_json};
use custody_server::routes::{openapi_path, table};
use custody_store::SqliteStore;

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let served: BTreeSet<(String, String)> = table::<SqliteStore>()
        .iter()
        .map(|r| (r.method.as_str().to_lowercase(), openapi_path(r.path)))
        .collect();
    let doc = serde_json::to_value(document()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );
    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
}

#[test]
fn the_checked_in_document_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json differs from the server's document: regenerate it with \
         `UPDATE_OPENAPI=1 cargo nextest run -p custody-server -E 'test(the_checked_in_document)'` and commit it"
    );
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let key = dir.path().join("c.key");
    custody_engine::log::signing_key::create(&key, "t/log").unwrap();
    let state = custody_server::AppState::new(
        Box::new(move || {
            custody_engine::Engine::open(
                SqliteStore::open(&db)?,
                custody_engine::log::signing_key::load(&key)?,
            )
        }),
        Default::default(),
    )
    .unwrap();
    let res = custody_server::router(state)
        .oneshot(
            axum::http::Request::get("/openapi.json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let served: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served, serde_json::to_value(document()).unwrap());
}
