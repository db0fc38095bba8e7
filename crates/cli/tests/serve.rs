//! `custody key`, `custody access-code` and `custody serve`: keys made by the
//! CLI open the server; a person's code opens her record; SIGTERM stops it
//! cleanly.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::Sandbox;

/// A plain HTTP/1.1 GET; returns the status line and the body.
fn get(addr: &str, path: &str, token: Option<&str>) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = reply.lines().next().unwrap_or_default().to_string();
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn keys_codes_and_a_server_that_stops_on_sigterm() {
    let s = Sandbox::collected();
    let token = s
        .ok(&["key", "create", "emmas-diary", "--role", "reader"])
        .trim()
        .to_string();
    assert!(token.starts_with("ck_"), "{token}");
    let regulator = s.ok(&["key", "create", "--regulator"]).trim().to_string();
    s.fails(&["key", "create", "emmas-diary", "--role", "regulator"]);
    let listed = s.ok(&["key", "list", "emmas-diary"]);
    assert!(
        listed.contains("reader") && listed.contains("live"),
        "{listed}"
    );
    // Only the hash is kept.
    assert_eq!(
        s.count("SELECT count(*) FROM api_keys WHERE role = 'reader' AND length(hash) = 32"),
        1
    );
    if !common::on_postgres() {
        assert!(!std::fs::read(s.db())
            .unwrap()
            .windows(token.len())
            .any(|w| w == token.as_bytes()));
    }

    let codes = s.ok(&["access-code", "emmas-diary", "M01"]);
    let code = codes.trim().split('\t').nth(1).unwrap().to_string();
    // Derived, not stored: the same every time.
    assert_eq!(s.ok(&["access-code", "emmas-diary", "M01"]), codes);

    let mut child = Command::new(assert_cmd::cargo::cargo_bin("custody"))
        .env_remove("CUSTODY_DB")
        .env("CUSTODY_SIGNING_KEY", s.key())
        .arg("--db")
        .arg(s.db_arg())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the server said nothing"
        );
        if let Some(rest) = line.trim().strip_prefix("custody serving on http://") {
            break rest.to_string();
        }
    };
    assert!(get(&addr, "/healthz", None).0.contains("200"));
    assert!(get(&addr, "/readyz", None).0.contains("200"));
    let (status, body) = get(&addr, "/v1/orgs", Some(&token));
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("emmas-diary"));
    assert!(get(&addr, "/v1/orgs", None).0.contains("401"));
    assert!(get(&addr, "/v1/orgs/emmas-diary/audit", Some(&regulator))
        .0
        .contains("200"));
    let (status, body) = get(&addr, "/v1/me/trace", Some(&code));
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("\"subject\":\"M01\""));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "custody serve exited with {status:?}");

    s.ok(&["key", "revoke", &token[3..19]]);
    assert!(s.ok(&["key", "list", "emmas-diary"]).contains("revoked"));
}
