//! A server over a fresh database with the small Emma's Diary case: three
//! organisations, a key of every role, and requests sent in-process
//! (`tower::ServiceExt::oneshot`) or over loopback.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use custody_core::organisation::{Organisation, Role};
use custody_engine::keys::KeyRole;
use custody_engine::{signing_key, Engine};
use custody_server::{AppState, Config};
use custody_store::SqliteStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;

pub const COLLECTOR_ORG: &str = "emmas-diary";

pub struct Keys {
    pub admin: String,
    pub collector: String,
    pub reader: String,
    /// Admin of another organisation (experian).
    pub other_admin: String,
    pub other_collector: String,
    pub other_reader: String,
    pub regulator: String,
}

pub struct Sandbox {
    pub dir: TempDir,
    pub db: PathBuf,
    pub key: PathBuf,
    pub keys: Keys,
    pub app: Router,
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/emmas-diary")
        .join(name)
}

/// A notice file as the JSON the API takes.
pub fn notice_json(name: &str) -> Value {
    let text = std::fs::read_to_string(example(name)).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    serde_json::to_value(v).unwrap()
}

fn open(db: &Path, key: &Path) -> Engine<SqliteStore> {
    Engine::open(
        SqliteStore::open(db).unwrap(),
        signing_key::load(key).unwrap(),
    )
    .unwrap()
}

pub fn sandbox() -> Sandbox {
    sandbox_with(Config::default())
}

pub fn sandbox_with(config: Config) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("custody.db");
    let key = dir.path().join("custody.key");
    signing_key::create(&key, "test.custody.invalid/log").unwrap();
    let mut e = open(&db, &key);
    e.init_log().unwrap();
    for (id, name, role) in [
        ("emmas-diary", "Emma's Diary", Role::Controller),
        ("experian", "Experian Marketing Services", Role::Broker),
        ("labour", "The Labour Party", Role::Campaign),
    ] {
        e.add_org(&Organisation {
            id: id.into(),
            name: name.into(),
            role,
            categories: role.default_categories(),
        })
        .unwrap();
    }
    let mut k = |org: Option<&str>, role| e.create_api_key(org, role).unwrap().token;
    let keys = Keys {
        admin: k(Some("emmas-diary"), KeyRole::Admin),
        collector: k(Some("emmas-diary"), KeyRole::Collector),
        reader: k(Some("emmas-diary"), KeyRole::Reader),
        other_admin: k(Some("experian"), KeyRole::Admin),
        other_collector: k(Some("experian"), KeyRole::Collector),
        other_reader: k(Some("experian"), KeyRole::Reader),
        regulator: k(None, KeyRole::Regulator),
    };
    drop(e);
    let (d, kk) = (db.clone(), key.clone());
    let state = AppState::new(Box::new(move || Ok(open(&d, &kk))), config).unwrap();
    let app = custody_server::router(state);
    Sandbox {
        dir,
        db,
        key,
        keys,
        app,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The problem's type slug.
    pub fn problem(&self) -> String {
        assert_eq!(
            self.content_type,
            "application/problem+json",
            "{}",
            self.text()
        );
        let t = self.json()["type"].as_str().unwrap().to_string();
        t.rsplit('/').next().unwrap().to_string()
    }
}

impl Sandbox {
    pub fn engine(&self) -> Engine<SqliteStore> {
        open(&self.db, &self.key)
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            content_type,
            headers,
            bytes,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&v).unwrap()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// Publishes notice 2017 and collects `records` under it; returns the reply.
    pub async fn collect(&self, records: Value) -> Reply {
        let r = self
            .post(
                "/v1/orgs/emmas-diary/notices",
                &self.keys.admin,
                notice_json("notice-2017.toml"),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        self.post(
            "/v1/orgs/emmas-diary/collections",
            &self.keys.collector,
            json!({"notice": "2017", "mapping": mapping(), "records": records}),
        )
        .await
    }

    /// The log's size now.
    pub fn log_size(&self) -> u64 {
        custody_store::Store::log_size(&self.engine().store).unwrap()
    }

    pub fn records(&self) -> u64 {
        custody_store::Store::state_counts(&self.engine().store)
            .unwrap()
            .records_collected
    }
}

pub fn mapping() -> Value {
    json!({
        "subject": "member_id",
        "collected_at": "signed_up",
        "columns": {"first_name": "pd:Name", "last_name": "pd:Name", "postcode": "pd:PostalCode",
                    "child_dob": "custody:ChildBirthDate"},
        "consents": {"offers": "consent_offers", "partners": "consent_partners"}
    })
}

pub fn mother(id: &str, offers: bool, partners: bool) -> Value {
    json!({"member_id": id, "signed_up": "2017-02-01", "first_name": "Ann", "last_name": "Ames",
           "postcode": "AB1 1AA", "child_dob": "2016-12-01",
           "consent_offers": offers, "consent_partners": partners})
}

/// Three mothers: M01 and M03 ticked both boxes, M02 neither.
pub fn mothers() -> Value {
    json!([
        mother("M01", true, true),
        mother("M02", false, false),
        mother("M03", true, true)
    ])
}
