//! `custody key`, `custody access-code` and `custody serve`: keys made by the
//! CLI open the server; a person's code opens her record; SIGTERM stops it
//! cleanly; two servers on one PostgreSQL database keep one log.
//!
//! The second needs PostgreSQL, so this file has a harness of its own
//! (libtest-mimic): without a server that test is listed as skipped.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::Sandbox;
use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let no_postgres = common::skipped(common::postgres_missing());
    let trials = vec![
        Trial::test("keys_codes_and_a_server_that_stops_on_sigterm", || {
            keys_codes_and_a_server_that_stops_on_sigterm();
            Ok(())
        }),
        Trial::test(
            "silent_clients_are_cut_off_and_past_the_cap_a_client_is_told_503",
            || {
                silent_clients_are_cut_off_and_past_the_cap_a_client_is_told_503();
                Ok(())
            },
        ),
        Trial::test(
            "a_row_edited_while_the_server_runs_refuses_its_next_disclosure",
            || {
                a_row_edited_while_the_server_runs_refuses_its_next_disclosure();
                Ok(())
            },
        ),
        Trial::test("two_servers_on_one_postgres_database_keep_one_log", || {
            two_servers_on_one_postgres_database_keep_one_log();
            Ok(())
        })
        .with_ignored_flag(no_postgres),
    ];
    libtest_mimic::run(&args, trials).exit();
}

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

/// A plain HTTP/1.1 POST of JSON; returns the status line and the body.
fn post(addr: &str, path: &str, token: &str, json: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
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

/// A server process, killed if a test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `custody serve` on an ephemeral port with `extra` arguments; returns
/// the server and its address.
fn serve(s: &Sandbox, extra: &[&str]) -> (Server, String) {
    // Owned by a Server at once: killed and waited for if this panics.
    let mut server = Server(
        Command::new(assert_cmd::cargo::cargo_bin("custody"))
            .env_remove("CUSTODY_DB")
            .env("CUSTODY_SIGNING_KEY", s.key())
            .env("RUST_LOG", "warn")
            .arg("--db")
            .arg(s.db_arg())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the server said nothing"
        );
        if let Some(rest) = line.trim().strip_prefix("custody serving on http://") {
            // Keep draining its stderr so it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (server, rest.to_string());
        }
    }
}

fn silent_clients_are_cut_off_and_past_the_cap_a_client_is_told_503() {
    let s = Sandbox::collected();
    let (_server, addr) = serve(
        &s,
        &[
            "--header-timeout",
            "400ms",
            "--max-connections",
            "2",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let start = std::time::Instant::now();
    let (status, body) = get(&addr, "/healthz", None);
    assert!(status.contains("503"), "{status} {body}");
    assert!(body.contains("/problems/unavailable"), "{body}");
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    // The silent ones are closed after the header timeout...
    for mut c in idle {
        c.set_read_timeout(Some(std::time::Duration::from_secs(3)))
            .unwrap();
        match c.read(&mut [0u8; 64]) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("a silent connection still open after 3 s")
            }
            _ => {}
        }
    }
    // ...and their places are free again.
    assert!(get(&addr, "/healthz", None).0.contains("200"));
}

/// The server's disclosures of named records rest on what the log vouches
/// for (issue 13, point 2): its writer verifies the store, keeps it
/// verified by its own writes, and verifies again after a write from
/// anywhere else: custody's CLI (taken in) or a database tool (refused).
fn a_row_edited_while_the_server_runs_refuses_its_next_disclosure() {
    let s = Sandbox::collected();
    let key = s
        .ok(&["key", "create", "emmas-diary", "--role", "collector"])
        .trim()
        .to_string();
    let (_server, addr) = serve(&s, &[]);
    let disclose = |subject: &str| {
        post(
            &addr,
            "/v1/orgs/emmas-diary/disclosures",
            &key,
            &format!(
                r#"{{"to":"experian","purposes":["Marketing"],"categories":["Name"],"records":["{subject}"]}}"#
            ),
        )
    };
    for subject in ["M01", "M02"] {
        let (status, body) = disclose(subject);
        assert!(status.contains("201"), "{status} {body}");
    }
    // The CLI's own write: verified again and taken in.
    s.ok(&["consent", "emmas-diary", "M02", "--withdraw", "Marketing"]);
    let (status, body) = disclose("M02");
    assert!(status.contains("201"), "{status} {body}");
    // An edit no entry records.
    assert_eq!(
        s.execute("UPDATE records SET at = at + 1 WHERE subject = 'M01' AND origin IS NULL"),
        1
    );
    let before = s.count("SELECT count(*) FROM disclosures");
    let (status, body) = disclose("M01");
    assert!(status.contains("503"), "{status} {body}");
    assert!(body.contains("/problems/store-unverified"), "{body}");
    assert_eq!(s.count("SELECT count(*) FROM disclosures"), before);
}

fn two_servers_on_one_postgres_database_keep_one_log() {
    // Sequencing across processes: two servers take writes at once on one
    // PostgreSQL log. Each transaction must see the log as the last one left
    // it (an advisory lock), or entries collide, tiles fork, or a checkpoint
    // is signed that the next does not extend; `log verify` would say so.
    let s = Sandbox::on_postgres_only().with_signups();
    let key = s
        .ok(&["key", "create", "emmas-diary", "--role", "collector"])
        .trim()
        .to_string();
    let before = s.ok(&["log", "checkpoint"]);
    let servers = [serve(&s, &[]), serve(&s, &[])];
    let addrs: Vec<String> = servers.iter().map(|(_, a)| a.clone()).collect();
    let (threads, each) = (6, 20);
    std::thread::scope(|t| {
        for i in 0..threads {
            let (addrs, key) = (&addrs, &key);
            t.spawn(move || {
                for j in 0..each {
                    let action = if j % 2 == 0 { "withdraw" } else { "give" };
                    let body = format!(
                        r#"{{"subject":"M0{}","action":"{action}","purpose":"DirectMarketing"}}"#,
                        1 + (i + j) % 6
                    );
                    let (status, reply) = post(
                        &addrs[(i + j) % 2],
                        "/v1/orgs/emmas-diary/preferences",
                        key,
                        &body,
                    );
                    assert!(status.contains("201"), "{status} {reply}");
                }
            });
        }
    });
    for (mut server, _) in servers {
        let _ = Command::new("kill")
            .args(["-TERM", &server.0.id().to_string()])
            .status();
        assert!(server.0.wait().unwrap().success());
    }
    assert_eq!(
        s.count("SELECT count(*) FROM preferences"),
        (threads * each) as i64
    );
    let out = s.ok(&["log", "verify"]);
    assert!(
        out.contains("every stored row matches the entry that made it"),
        "{out}"
    );
    // Every checkpoint signed meanwhile extends the one before the servers.
    s.write("before.checkpoint", &before);
    s.ok(&["log", "verify", "--from", "before.checkpoint"]);
    let signed = s.count("SELECT count(*) FROM log_checkpoints");
    assert!(
        signed as usize > threads * each,
        "one checkpoint per write: {signed}"
    );
}
