//! A server over a fresh database with the small Emma's Diary case: three
//! organisations, a key of every role, and requests sent in-process
//! (`tower::ServiceExt::oneshot`) or over loopback.
//!
//! The database is SQLite, or with `CUSTODY_TEST_BACKEND=postgres` a fresh
//! schema on `CUSTODY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use custody_core::organisation::{Organisation, Role};
use custody_engine::keys::KeyRole;
use custody_engine::log::signing_key;
use custody_engine::Engine;
use custody_server::{AppState, Config};
use custody_store::AnyStore;
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
    /// A SQLite file's path or the PostgreSQL schema's URL.
    pub db: String,
    _schema: Option<Schema>,
    pub key: PathBuf,
    pub keys: Keys,
    pub app: Router,
    /// The state behind `app`, for what only it can tell.
    pub state: AppState<AnyStore>,
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

fn open(db: &str, key: &Path) -> Engine<AnyStore> {
    Engine::open(AnyStore::open(db).unwrap(), signing_key::load(key).unwrap()).unwrap()
}

/// A schema of its own on the test server, dropped with the sandbox.
struct Schema {
    server: String,
    name: String,
}

impl Schema {
    fn create() -> Schema {
        let server = std::env::var("CUSTODY_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("srv_{}_{nanos}_{made}", std::process::id());
        let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap_or_else(|e| {
            panic!("CUSTODY_TEST_BACKEND=postgres, but no PostgreSQL at {server}: {e}")
        });
        c.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap();
        Schema { server, name }
    }

    fn url(&self) -> String {
        let sep = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.server, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // The blocking client may not run on a test's async thread.
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&server, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA {name} CASCADE"));
            }
        })
        .join();
    }
}

pub fn sandbox() -> Sandbox {
    sandbox_with(Config::default())
}

pub fn sandbox_with(config: Config) -> Sandbox {
    // Set up on a thread of its own: PostgreSQL's blocking client may not
    // run on the async thread of a #[tokio::test].
    std::thread::spawn(move || set_up(config)).join().unwrap()
}

fn set_up(config: Config) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let schema =
        (std::env::var("CUSTODY_TEST_BACKEND").as_deref() == Ok("postgres")).then(Schema::create);
    let db = match &schema {
        Some(s) => s.url(),
        None => dir.path().join("custody.db").display().to_string(),
    };
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
    let app = custody_server::router(state.clone());
    Sandbox {
        dir,
        db,
        _schema: schema,
        key,
        keys,
        app,
        state,
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
    /// An engine on the sandbox's database. In async tests use
    /// [`with_engine`](Self::with_engine).
    pub fn engine(&self) -> Engine<AnyStore> {
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

    /// A browser's request for a page: `cookie` the session cookie's value
    /// (from [`sign_in`](Self::sign_in)), a form body for a POST, and the
    /// headers a browser sends (`origin` None: a same-origin navigation
    /// with no Origin header).
    pub async fn page(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<&str>,
        origin: Option<&str>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "custody.test");
        if let Some(c) = cookie {
            b = b.header("cookie", format!("custody={c}"));
        }
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        let req = match form {
            Some(f) => b
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(f.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// Signs in to the web pages with an API key or an access code; the
    /// session cookie's value. A credential that does not sign in gets a
    /// well-formed cookie naming no session.
    pub async fn sign_in(&self, token: &str) -> String {
        let field = if token.starts_with("ck_") {
            "key"
        } else {
            "code"
        };
        let form = format!("{field}={token}");
        let r = self.page("POST", "/session", None, Some(&form), None).await;
        match r.headers.get("set-cookie") {
            Some(v) => {
                let v = v.to_str().unwrap();
                v.strip_prefix("custody=")
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_string()
            }
            None => "s1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        }
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
    /// `f` on a fresh engine, on a thread of its own: PostgreSQL's blocking
    /// client may not run on a test's async thread.
    pub fn with_engine<T: Send>(&self, f: impl FnOnce(&Engine<AnyStore>) -> T + Send) -> T {
        std::thread::scope(|t| t.spawn(|| f(&self.engine())).join().unwrap())
    }

    pub fn log_size(&self) -> u64 {
        self.with_engine(|e| custody_store::Store::log_size(&e.store).unwrap())
    }

    pub fn records(&self) -> u64 {
        self.with_engine(|e| {
            custody_store::Store::state_counts(&e.store, custody_store::Tally::Whole).unwrap()
        })
        .records_collected
    }
}

/// The sandbox's app served on loopback under `limits` until the sender
/// is dropped or sent to; its address and the server's task.
pub async fn listen(
    sb: &Sandbox,
    limits: custody_server::Limits,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(custody_server::serve(
        listener,
        sb.app.clone(),
        limits,
        async {
            let _ = rx.await;
        },
    ));
    (addr, tx, done)
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
