//! Issue 13, point 6: the server holds under hostile clients. Silent, slow
//! and idle connections are cut off; past the connection cap a client is
//! told 503 at once; a declared oversize body is refused before it is
//! read; bad tokens do not lock out a good key; concurrent audits are made
//! once; a signed-out cookie signs nobody in. Over loopback where the
//! connection matters, with small timeouts so that the tests are quick.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use custody_server::{Config, Limits};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const QUICK: Duration = Duration::from_millis(300);

fn quick() -> Limits {
    Limits {
        header_timeout: QUICK,
        body_timeout: QUICK,
        max_connections: 64,
    }
}

/// Everything the server sends until it closes the connection (or `cap`
/// passes: then the test fails), and how long that took from `since`.
async fn until_closed(s: &mut TcpStream, since: Instant, cap: Duration) -> (String, Duration) {
    let mut got = Vec::new();
    let read = tokio::time::timeout(cap, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "still open after {cap:?}: {}",
        String::from_utf8_lossy(&got)
    );
    (String::from_utf8_lossy(&got).into_owned(), since.elapsed())
}

#[tokio::test]
async fn silent_slow_and_idle_connections_are_closed_after_the_header_timeout() {
    let sb = common::sandbox();
    let (addr, _stop, _done) = common::listen(&sb, quick()).await;
    let cases = [
        ("says nothing", "", ""),
        (
            "sends half its headers",
            "GET /healthz HTTP/1.1\r\nhost: t\r\n",
            "",
        ),
        (
            "stays idle after a response",
            "GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n",
            "HTTP/1.1 200",
        ),
    ];
    for (what, send, answer) in cases {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let start = Instant::now();
        s.write_all(send.as_bytes()).await.unwrap();
        let (got, took) = until_closed(&mut s, start, Duration::from_secs(5)).await;
        assert!(got.starts_with(answer), "{what}: {got}");
        assert!(
            took >= QUICK - Duration::from_millis(50),
            "{what}: closed after {took:?}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{what}: closed after {took:?}"
        );
    }
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_cut_off_after_the_body_timeout_in_all() {
    let sb = common::sandbox();
    let (addr, _stop, _done) = common::listen(&sb, quick()).await;
    // (what, pause between the body's bytes): a byte every 100 ms never
    // waits the whole timeout for one byte, but does in all.
    for (what, pause) in [
        ("stalls", Duration::from_secs(3)),
        ("drips", Duration::from_millis(100)),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /v1/orgs/emmas-diary/preferences HTTP/1.1\r\nhost: t\r\n\
             authorization: Bearer {}\r\ncontent-type: application/json\r\n\
             content-length: 100\r\n\r\n",
            sb.keys.collector
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let start = Instant::now();
        let (mut reader, mut writer) = s.into_split();
        let drip = tokio::spawn(async move {
            for _ in 0..100 {
                if writer.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
        });
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut got)).await;
        let took = start.elapsed();
        drip.abort();
        let got = String::from_utf8_lossy(&got);
        assert!(read.is_ok(), "{what}: still open");
        assert!(got.starts_with("HTTP/1.1 408"), "{what}: {got}");
        assert!(got.contains("/problems/request-timeout"), "{what}: {got}");
        assert!(took < Duration::from_secs(3), "{what}: after {took:?}");
    }
}

#[tokio::test]
async fn past_the_connection_cap_a_client_is_told_503_at_once() {
    let sb = common::sandbox();
    let limits = Limits {
        header_timeout: Duration::from_secs(30),
        max_connections: 2,
        ..quick()
    };
    let (addr, _stop, _done) = common::listen(&sb, limits).await;
    let idle_a = TcpStream::connect(addr).await.unwrap();
    let _idle_b = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ask = "GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n";
    let mut s = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    s.write_all(ask.as_bytes()).await.unwrap();
    let (got, took) = until_closed(&mut s, start, Duration::from_secs(5)).await;
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(got.contains("retry-after: 1\r\n"), "{got}");
    assert!(got.contains("/problems/unavailable"), "{got}");
    let metrics = sb.call("GET", "/metrics", None, None).await.text();
    assert!(
        metrics.contains("custody_http_connections_refused_total 1"),
        "{metrics}"
    );
    assert!(took < Duration::from_secs(2), "after {took:?}");
    // A place freed is a place taken.
    drop(idle_a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = until_closed(&mut s, Instant::now(), Duration::from_secs(5)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

#[tokio::test]
async fn a_declared_oversize_body_is_refused_before_it_is_read() {
    let sb = common::sandbox();
    let limits = Limits {
        body_timeout: Duration::from_secs(30),
        ..quick()
    };
    let (addr, _stop, _done) = common::listen(&sb, limits).await;
    // (path, credential header): the API and a page's form.
    let auth = format!("authorization: Bearer {}\r\n", sb.keys.collector);
    for (path, extra) in [
        ("/v1/orgs/emmas-diary/preferences", auth.as_str()),
        ("/session", ""),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: t\r\n{extra}content-type: application/json\r\n\
             content-length: 1000000000\r\n\r\n"
        );
        let start = Instant::now();
        s.write_all(head.as_bytes()).await.unwrap();
        let mut got = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut got))
            .await
            .expect("an answer")
            .unwrap();
        let took = start.elapsed();
        let got = String::from_utf8_lossy(&got[..n]);
        assert!(got.starts_with("HTTP/1.1 413"), "{path}: {got}");
        assert!(got.contains("/problems/payload-too-large"), "{path}: {got}");
        assert!(took < Duration::from_secs(2), "{path}: after {took:?}");
        // ...and closed, after reading a moment for what the client sent.
        let (_, closed) = until_closed(&mut s, start, Duration::from_secs(5)).await;
        assert!(
            closed < Duration::from_secs(3),
            "{path}: closed after {closed:?}"
        );
    }
}

/// `GET /v1/orgs` with `token`, as forwarded for `client` by the proxy
/// the test's loopback connection stands for.
async fn orgs_for(base: &str, token: &str, client: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/v1/orgs"))
        .bearer_auth(token)
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn failures_count_per_client_and_per_credential_and_never_refuse_a_valid_key() {
    let sb = common::sandbox_with(Config {
        auth_burst: 2,
        auth_refill: Duration::from_secs(3600),
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Config::default()
    });
    let (addr, _stop, _done) = common::listen(&sb, quick()).await;
    let base = format!("http://{addr}");
    let reader = sb.keys.reader.clone();
    // The reader's key id with a wrong secret.
    let wrong = format!("{}AAAA", &reader[..reader.len() - 4]);
    let wrong = if wrong == reader {
        format!("{}BBBB", &reader[..reader.len() - 4])
    } else {
        wrong
    };
    let steps: &[(&str, &str, u16)] = &[
        // (token, client, status)
        ("ck_bad", "198.51.100.1", 401),
        ("ck_bad", "198.51.100.1", 401),
        ("ck_bad", "198.51.100.1", 429),
        // Another client behind the same proxy.
        ("ck_bad", "198.51.100.2", 401),
        // A valid key from the client that failed too often.
        (&reader, "198.51.100.1", 200),
        // One key's secret tried from many addresses.
        (&wrong, "198.51.100.3", 401),
        (&wrong, "198.51.100.4", 401),
        (&wrong, "198.51.100.5", 429),
        // ...and the key itself still works.
        (&reader, "198.51.100.5", 200),
    ];
    for (i, (token, client, status)) in steps.iter().enumerate() {
        assert_eq!(orgs_for(&base, token, client).await, *status, "step {i}");
    }

    // Without a trusted proxy the header is the client's word: ignored.
    let sb = common::sandbox_with(Config {
        auth_burst: 2,
        auth_refill: Duration::from_secs(3600),
        ..Config::default()
    });
    let (addr, _stop, _done) = common::listen(&sb, quick()).await;
    let base = format!("http://{addr}");
    for (i, (client, status)) in [
        ("198.51.100.1", 401),
        ("198.51.100.2", 401),
        ("198.51.100.3", 429),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(
            orgs_for(&base, "ck_bad", client).await,
            *status,
            "untrusted {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_one_audit_make_it_once() {
    let sb = common::sandbox();
    assert_eq!(
        sb.collect(common::mothers()).await.status,
        StatusCode::CREATED
    );
    let disclose = json!({"to": "experian", "purposes": ["PoliticalCampaign"],
                          "categories": ["Name"], "records": "all"});
    let r = sb
        .post(
            "/v1/orgs/emmas-diary/disclosures",
            &sb.keys.collector,
            disclose.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cookie = sb.sign_in(&sb.keys.regulator).await;
    let asks = (0..6).map(|i| {
        let sb = &sb;
        let cookie = &cookie;
        async move {
            if i % 2 == 0 {
                sb.get("/v1/orgs/emmas-diary/audit", &sb.keys.regulator)
                    .await
                    .status
            } else {
                sb.page("GET", "/orgs/emmas-diary/audit", Some(cookie), None, None)
                    .await
                    .status
            }
        }
    });
    let statuses = join_all(asks.collect()).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(sb.state.audits_made(), 1, "six requests, one audit");
    // The log grows: the next request makes it again, once.
    sb.post(
        "/v1/orgs/emmas-diary/disclosures",
        &sb.keys.collector,
        disclose,
    )
    .await;
    sb.get("/v1/orgs/emmas-diary/audit", &sb.keys.regulator)
        .await;
    sb.get("/v1/orgs/emmas-diary/audit", &sb.keys.regulator)
        .await;
    assert_eq!(sb.state.audits_made(), 2);
}

/// Every future polled at once on this task, their outputs in order.
async fn join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut fs: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = fs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in fs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn a_cookie_carries_no_credential_and_signing_out_ends_it_at_once() {
    let sb = common::sandbox();
    let cookie = sb.sign_in(&sb.keys.reader).await;
    let secret = sb.keys.reader.rsplit('_').next().unwrap();
    let id = sb.keys.reader.split('_').nth(1).unwrap();
    assert!(
        !cookie.contains(secret) && !cookie.contains(id),
        "the credential is not in the cookie: {cookie}"
    );
    let page = |c: String| {
        let sb = &sb;
        async move {
            sb.page("GET", "/orgs/emmas-diary", Some(&c), None, None)
                .await
        }
    };
    assert_eq!(page(cookie.clone()).await.status, StatusCode::OK);
    let other = sb.sign_in(&sb.keys.reader).await;
    let r = sb
        .page("POST", "/session/end", Some(&cookie), Some(""), None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // Replayed after signing out: refused, as if never made.
    let r = page(cookie).await;
    assert_eq!(r.headers["location"], "/?expired=1");
    // Another sign-in of the same key is its own session.
    assert_eq!(page(other).await.status, StatusCode::OK);
}
