//! The Emma's Diary case over real HTTP on loopback: notices published,
//! mothers collected, a political disclosure refused with its reasons, a
//! mother's own trace with her code, her withdrawal, and her receipts
//! verifying against the log's published key.

mod common;

use std::time::Duration;

use custody_log::note::Verifier;
use serde_json::{json, Value};

struct Live {
    base: String,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn live(sb: &common::Sandbox) -> Live {
    let (addr, stop, done) = common::listen(sb, Default::default()).await;
    Live {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        stop: Some(stop),
        done,
    }
}

impl Live {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn text(&self, path: &str) -> (u16, String, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        (res.status().as_u16(), ct, res.text().await.unwrap())
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.done)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emmas_diary_over_http() {
    let sb = common::sandbox();
    let k = &sb.keys;
    let s = live(&sb).await;

    let (st, v) = s
        .post(
            "/v1/orgs/emmas-diary/notices",
            &k.admin,
            common::notice_json("notice-2017.toml"),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["notice"]["version"], "2017");
    // The same content again changes nothing.
    let (st, v) = s
        .post(
            "/v1/orgs/emmas-diary/notices",
            &k.admin,
            common::notice_json("notice-2017.toml"),
        )
        .await;
    assert_eq!((st, v["unchanged"].clone()), (200, json!(true)));

    let (st, v) = s
        .post(
            "/v1/orgs/emmas-diary/collections",
            &k.collector,
            json!({"notice": "2017", "mapping": common::mapping(), "records": common::mothers()}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["inserted"], 3);
    let code = v["codes"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(v["codes"][0]["subject"], "M01");

    // The 2017 request: Experian, for Labour, for a political campaign.
    let (st, v) = s
        .post(
            "/v1/orgs/emmas-diary/disclosures",
            &k.collector,
            json!({"to": "experian", "on_behalf_of": "labour", "purposes": ["PoliticalCampaign"],
                   "categories": ["Name", "PostalCode", "custody:ChildBirthDate"], "records": "all",
                   "at": "2017-05-10"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        (
            v["requested"].clone(),
            v["allowed"].clone(),
            v["refused"].clone()
        ),
        (json!(3), json!(0), json!(3))
    );
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"purpose-not-named-explicitly"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"recipient-not-named"), "{reasons:?}");
    let id = v["disclosure"].as_i64().unwrap();

    // Its decisions, two to a page.
    let (_, p1) = s
        .get(
            &format!("/v1/orgs/emmas-diary/disclosures/{id}/decisions?limit=2"),
            &k.reader,
        )
        .await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(p1["items"][0]["outcome"], "refused");
    let next = p1["next"].as_str().unwrap();
    let (_, p2) = s
        .get(
            &format!("/v1/orgs/emmas-diary/disclosures/{id}/decisions?limit=2&after={next}"),
            &k.reader,
        )
        .await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    // The regulator reads it, and cannot make one.
    assert_eq!(
        s.get(
            &format!("/v1/orgs/emmas-diary/disclosures/{id}"),
            &k.regulator
        )
        .await
        .0,
        200
    );
    assert_eq!(
        s.get("/v1/orgs/emmas-diary/audit", &k.regulator).await.0,
        200
    );
    let (st, _) = s
        .post("/v1/orgs/emmas-diary/disclosures", &k.regulator, json!({"to": "experian", "purposes": ["Marketing"], "categories": ["Name"], "records": "all"}))
        .await;
    assert_eq!(st, 403);

    // The mother, with her code and nothing else.
    let (st, me) = s.get("/v1/me", &code).await;
    assert_eq!(
        (st, me["subject"].clone(), me["org"].clone()),
        (200, json!("M01"), json!("emmas-diary"))
    );
    let (st, trace) = s.get("/v1/me/trace", &code).await;
    assert_eq!(st, 200, "{trace}");
    assert_eq!(trace["disclosures"][0]["outcome"], "refused");
    assert_eq!(trace["notice"]["version"], "2017");
    let (st, v) = s
        .post(
            "/v1/me/preferences",
            &code,
            json!({"action": "withdraw", "purpose": "Marketing"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (_, trace) = s.get("/v1/me/trace", &code).await;
    assert_eq!(trace["preferences"][0]["action"], "withdraw");
    // Her code opens nothing of the organisation's.
    assert_eq!(
        s.get("/v1/orgs/emmas-diary/subjects/M02/trace", &code)
            .await
            .0,
        403
    );

    // Her receipts verify with the key the log publishes.
    let (st, ct, key) = s.text("/v1/log/key").await;
    assert_eq!((st, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let verifier = Verifier::from_text(key.trim()).unwrap();
    let (st, receipts) = s.get("/v1/me/receipts", &code).await;
    assert_eq!(st, 200);
    let receipts = receipts.as_array().unwrap();
    // Collection, the refusal, the withdrawal.
    assert_eq!(receipts.len(), 3, "{receipts:?}");
    for r in receipts {
        let v =
            custody_engine::log::receipt::verify_receipt(r["receipt"].as_str().unwrap(), &verifier)
                .unwrap();
        assert_eq!(v.index, r["index"].as_u64().unwrap());
    }

    // The log: a checkpoint, its tiles, a consistency proof from an old one.
    let (st, ct, checkpoint) = s.text("/v1/log/checkpoint").await;
    assert_eq!((st, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    let res = reqwest::get(format!("{}/v1/log/tile/0/000.p/{size}", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.bytes().await.unwrap().len() as u64, size * 32);
    let res = reqwest::get(format!("{}/v1/log/tile/entries/000.p/{size}", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bundle = res.bytes().await.unwrap();
    assert_eq!(
        custody_log::tiles::decode_bundle(&bundle).unwrap().len() as u64,
        size
    );
    // Compressed for a client that accepts gzip, the same bytes inside.
    let res = s
        .http
        .get(format!("{}/v1/log/tile/entries/000.p/{size}", s.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let gzipped = res.bytes().await.unwrap();
    assert!(
        gzipped.len() < bundle.len(),
        "{} vs {}",
        gzipped.len(),
        bundle.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzipped[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, bundle);
    assert_eq!(
        reqwest::get(format!("{}/v1/log/tile/0/000", s.base))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{}/v1/log/tile/0/000.p/{}", s.base, size + 1))
            .await
            .unwrap()
            .status(),
        404
    );
    let (st, v) = s.get("/v1/log/proof/inclusion?index=1", "").await;
    assert_eq!(st, 200, "{v}");
    s.post(
        "/v1/me/preferences",
        &code,
        json!({"action": "object-direct-marketing"}),
    )
    .await;
    let res = s
        .http
        .post(format!("{}/v1/log/proof/consistency", s.base))
        .body(checkpoint.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["from_size"].as_u64().unwrap(), size);
    assert!(v["to_size"].as_u64().unwrap() > size);

    // Metrics saw it all.
    let (st, _, metrics) = s.text("/metrics").await;
    assert_eq!(st, 200);
    assert!(metrics.contains("custody_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/v1/me/trace\""));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_a_request_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sb = common::sandbox();
    let s = live(&sb).await;
    let body =
        serde_json::to_vec(&json!({"id": "newco", "name": "New Co", "role": "broker"})).unwrap();
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/orgs HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        sb.keys.admin,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Shut down while the request's body is still arriving.
    let Live { stop, done, .. } = s;
    stop.unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !done.is_finished(),
        "the server stopped with a request in flight"
    );
    conn.write_all(&body[5..]).await.unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let held = sb.with_engine(|e| custody_store::Store::org(&e.store, "newco").unwrap());
    assert!(held.is_some());
    // And it takes no new connections.
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}

const SIGNUPS: &str = "\
member_id,signed_up,first_name,last_name,postcode,child_dob,consent_offers,consent_partners
U01,2017-02-01,Ann,Ames,AB1 1AA,2016-12-01,yes,yes
U02,2017-02-02,Bea,Bell,AB1 2BB,2016-11-02,no,no
";

const MAPPING: &str = r#"
subject = "member_id"
collected_at = "signed_up"
[columns]
first_name = "pd:Name"
postcode = "pd:PostalCode"
[consents]
offers = "consent_offers"
"#;

fn upload_form(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("notice", "2017")
        .text("mapping", MAPPING)
        .text("codes", "true")
        .part(
            "records",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_parquet_uploads_collect_and_huge_ones_are_refused() {
    let sb = common::sandbox_with(custody_server::Config {
        max_upload: 64 * 1024,
        ..Default::default()
    });
    let s = live(&sb).await;
    let (st, _) = s
        .post(
            "/v1/orgs/emmas-diary/notices",
            &sb.keys.admin,
            common::notice_json("notice-2017.toml"),
        )
        .await;
    assert_eq!(st, 201);
    let url = format!("{}/v1/orgs/emmas-diary/collections/upload", s.base);
    let send = |form| {
        s.http
            .post(&url)
            .bearer_auth(&sb.keys.collector)
            .multipart(form)
            .send()
    };

    let res = send(upload_form("signups.csv", SIGNUPS.into()))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["inserted"], 2);
    assert_eq!(v["codes"].as_array().unwrap().len(), 2);

    // The same rows as Parquet, under other subject ids.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    let text = SIGNUPS.replace("U0", "P0");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut w = custody_engine::table::RowWriter::new(
        std::fs::File::create(&path).unwrap(),
        custody_engine::table::Format::Parquet,
        &header,
    )
    .unwrap();
    for r in reader.records() {
        w.write(r.unwrap().iter()).unwrap();
    }
    w.finish().unwrap();
    let res = send(upload_form(
        "signups.parquet",
        std::fs::read(&path).unwrap(),
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(sb.records(), 4);

    // A bad row names its line; nothing lands.
    let bad = SIGNUPS
        .replace("U0", "B0")
        .replace("2017-02-02", "not a date");
    let res = send(upload_form("bad.csv", bad.into())).await.unwrap();
    assert_eq!(res.status(), 422);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "line 3: signed_up", "{v}");
    // Over the upload limit: 413, nothing stored.
    let mut huge = String::from(SIGNUPS.lines().next().unwrap());
    huge.push('\n');
    for i in 0..3000 {
        huge.push_str(&format!(
            "H{i:05},2017-02-01,Ann,Ames,AB1 1AA,2016-12-01,yes,yes\n"
        ));
    }
    let res = send(upload_form("huge.csv", huge.into())).await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(sb.records(), 4);
    s.stop().await;
}
