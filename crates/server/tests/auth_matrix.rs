//! Every route of the table, with every role and with no credentials: the
//! refusals the issue asks for, and nothing stored by a refused request.
//! Driven from `routes::table`, so a new route is tried too; and the same
//! for every web page of `web::table`, with the credential in the sign-in
//! cookie.

mod common;

use axum::http::StatusCode;
use custody_server::auth::Access;
use custody_server::routes::table;
use custody_server::Config;
use custody_store::SqliteStore;
use serde_json::json;

fn sample(path: &str) -> String {
    path.replace("{org}", "emmas-diary")
        .replace("{version}", "2017")
        .replace("{id}", "1")
        .replace("{subject}", "M01")
        .replace("{*path}", "0/000.p/1")
        .replace("{index}", "1")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    BadToken,
    Admin,
    Collector,
    Reader,
    OtherAdmin,
    OtherCollector,
    OtherReader,
    Regulator,
    SubjectCode,
}

/// What the issue says, independently of the table's own check: who must
/// be refused on a route of this access and method.
fn must_refuse(access: Access, method: &str, who: Who) -> bool {
    use Who::*;
    if access == Access::Public {
        return false;
    }
    match who {
        Nobody | BadToken => true,
        // A code opens its own record's /v1/me routes, nothing else.
        SubjectCode => access != Access::Subject,
        // Keys never act as a person.
        _ if access == Access::Subject => true,
        // The regulator changes nothing, and never acts as a collector.
        Regulator => {
            method != "GET"
                || matches!(access, Access::Org(r) if r != custody_engine::keys::KeyRole::Reader)
                || access == Access::AnyAdmin
        }
        // Another organisation's keys: only the organisation lists.
        OtherAdmin | OtherCollector | OtherReader => match access {
            Access::AnyKey => false,
            Access::AnyAdmin => who != OtherAdmin,
            _ => true,
        },
        Reader => {
            method != "GET"
                || matches!(access, Access::Org(r) if r != custody_engine::keys::KeyRole::Reader)
                || access == Access::AnyAdmin
        }
        Collector => {
            matches!(access, Access::Org(custody_engine::keys::KeyRole::Admin))
                || access == Access::AnyAdmin
        }
        Admin => false,
    }
}

#[tokio::test]
async fn every_route_refuses_every_role_it_should_and_stores_nothing() {
    let sb = common::sandbox_with(Config {
        auth_burst: 100_000,
        ..Config::default()
    });
    let who = everyone(&sb).await;
    let before = sb.log_size();
    let mut refused = 0;
    for route in table::<SqliteStore>() {
        let path = sample(route.path);
        let method = route.method.as_str();
        for (w, token) in &who {
            if !must_refuse(route.access, method, *w) {
                continue;
            }
            let body = (method == "POST").then(|| json!({}));
            let r = sb.call(method, &path, token.as_deref(), body).await;
            let want = if matches!(w, Who::Nobody | Who::BadToken) {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{method} {path} as {w:?}: {}", r.text());
            assert_eq!(r.content_type, "application/problem+json");
            refused += 1;
        }
    }
    assert!(refused > 120, "only {refused} refusals tried");
    assert_eq!(sb.log_size(), before, "a refused request changed the log");
}

#[tokio::test]
async fn every_route_lets_in_whom_it_should() {
    let sb = common::sandbox();
    let r = sb.collect(common::mothers()).await;
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    for route in table::<SqliteStore>() {
        let path = sample(route.path);
        let method = route.method.as_str();
        let token = match route.access {
            Access::Public => None,
            Access::Subject => Some(code.clone()),
            _ => Some(sb.keys.admin.clone()),
        };
        // Reads only: a write here would change what later routes see.
        if method != "GET" {
            continue;
        }
        let r = sb.call(method, &path, token.as_deref(), None).await;
        assert!(
            !matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
    }
}

/// Every credential the matrix tries, after collecting the three mothers.
async fn everyone(sb: &common::Sandbox) -> Vec<(Who, Option<String>)> {
    let r = sb.collect(common::mothers()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    let k = &sb.keys;
    vec![
        (Who::Nobody, None),
        (
            Who::BadToken,
            Some("ck_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        ),
        (Who::Admin, Some(k.admin.clone())),
        (Who::Collector, Some(k.collector.clone())),
        (Who::Reader, Some(k.reader.clone())),
        (Who::OtherAdmin, Some(k.other_admin.clone())),
        (Who::OtherCollector, Some(k.other_collector.clone())),
        (Who::OtherReader, Some(k.other_reader.clone())),
        (Who::Regulator, Some(k.regulator.clone())),
        (Who::SubjectCode, Some(code)),
    ]
}

const CHANGE: &str = "action=withdraw&purpose=Marketing";

#[tokio::test]
async fn every_page_refuses_every_role_it_should_and_stores_nothing() {
    let sb = common::sandbox_with(Config {
        auth_burst: 100_000,
        ..Config::default()
    });
    let who = everyone(&sb).await;
    let before = sb.log_size();
    let mut refused = 0;
    for page in custody_server::web::table::<SqliteStore>() {
        let path = sample(page.path);
        let method = page.method.as_str();
        for (w, token) in &who {
            if !must_refuse(page.access, method, *w) {
                continue;
            }
            let form = (method == "POST").then_some(CHANGE);
            let r = sb.page(method, &path, token.as_deref(), form, None).await;
            match w {
                // No credential: to the sign-in page, coming back here after.
                Who::Nobody => {
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "{method} {path}");
                    let to = r.headers["location"].to_str().unwrap();
                    assert!(to.starts_with("/?next=%2F"), "{method} {path}: {to}");
                }
                // A key or code that does not authenticate: signed out.
                Who::BadToken => {
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "{method} {path}");
                    assert_eq!(r.headers["location"], "/?expired=1");
                    assert!(r.headers["set-cookie"]
                        .to_str()
                        .unwrap()
                        .contains("Max-Age=0"));
                }
                _ => {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} as {w:?}");
                    assert!(r.content_type.starts_with("text/html"));
                    assert!(r.text().contains("Not yours to see"));
                }
            }
            refused += 1;
        }
    }
    assert!(refused >= 60, "only {refused} refusals tried");
    assert_eq!(sb.log_size(), before, "a refused page changed the log");
}

#[tokio::test]
async fn every_page_lets_in_whom_it_should() {
    let sb = common::sandbox();
    let who = everyone(&sb).await;
    let code = who.last().unwrap().1.clone();
    for page in custody_server::web::table::<SqliteStore>() {
        let path = sample(page.path);
        let method = page.method.as_str();
        if method != "GET" {
            continue;
        }
        let token = match page.access {
            Access::Public => None,
            Access::Subject => code.clone(),
            _ => Some(sb.keys.admin.clone()),
        };
        let r = sb.page(method, &path, token.as_deref(), None, None).await;
        // Disclosure 1 was never made and entry 1 is not her receipt: 404s,
        // once let in.
        let want = if path.contains("/disclosures/") || path == "/me/receipts/1" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status, want, "{method} {path}: {}", r.text());
        if want == StatusCode::OK {
            assert_eq!(r.headers["cache-control"], "no-store", "{path}");
            assert!(r.headers.contains_key("content-security-policy"), "{path}");
        }
    }
}

#[tokio::test]
async fn a_form_sent_from_another_site_changes_nothing() {
    let sb = common::sandbox();
    let who = everyone(&sb).await;
    let code = who.last().unwrap().1.clone().unwrap();
    let before = sb.log_size();
    let r = sb
        .page(
            "POST",
            "/me/preferences",
            Some(&code),
            Some(CHANGE),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(sb.log_size(), before);
    // The same form from the server's own page is taken.
    let r = sb
        .page(
            "POST",
            "/me/preferences",
            Some(&code),
            Some(CHANGE),
            Some("http://custody.test"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(sb.log_size() > before);
    let page = sb.page("GET", "/me", Some(&code), None, None).await;
    assert!(page.text().contains("You withdrew consent for Marketing"));
}

#[tokio::test]
async fn signing_in_keeps_the_credential_where_scripts_cannot_read_it() {
    let sb = common::sandbox();
    let who = everyone(&sb).await;
    let code = who.last().unwrap().1.clone().unwrap();
    let form = format!("code={code}&next=");
    let r = sb.page("POST", "/session", None, Some(&form), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/me");
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(&code),
        "the cookie is encoded, not the code in clear"
    );

    let form = format!(
        "key={}&next=%2Forgs%2Femmas-diary%2Faudit",
        sb.keys.regulator
    );
    let r = sb.page("POST", "/session", None, Some(&form), None).await;
    assert_eq!(r.headers["location"], "/orgs/emmas-diary/audit");
    // Only paths of this server are followed.
    let form = format!("key={}&next=%2F%2Fevil.example", sb.keys.regulator);
    let r = sb.page("POST", "/session", None, Some(&form), None).await;
    assert_eq!(r.headers["location"], "/orgs");

    let r = sb
        .page("POST", "/session", None, Some("code=WRONG"), None)
        .await;
    assert_eq!(r.headers["location"], "/?failed=1");
    assert!(!r.headers.contains_key("set-cookie"));
}
