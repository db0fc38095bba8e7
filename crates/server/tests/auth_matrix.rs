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
    let mut cookies = Vec::new();
    for (w, token) in &who {
        let cookie = match token {
            Some(t) => Some(sb.sign_in(t).await),
            None => None,
        };
        cookies.push((*w, cookie));
    }
    let before = sb.log_size();
    let mut refused = 0;
    for page in custody_server::web::table::<SqliteStore>() {
        let path = sample(page.path);
        let method = page.method.as_str();
        for (w, cookie) in &cookies {
            if !must_refuse(page.access, method, *w) {
                continue;
            }
            let form = (method == "POST").then_some(CHANGE);
            let r = sb.page(method, &path, cookie.as_deref(), form, None).await;
            match w {
                // No credential: to the sign-in page, coming back here after.
                Who::Nobody => {
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "{method} {path}");
                    let to = r.headers["location"].to_str().unwrap();
                    assert!(to.starts_with("/?next=%2F"), "{method} {path}: {to}");
                }
                // A cookie that does not sign in: signed out.
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
    let code = who.last().unwrap().1.clone().unwrap();
    let (person, admin) = (sb.sign_in(&code).await, sb.sign_in(&sb.keys.admin).await);
    for page in custody_server::web::table::<SqliteStore>() {
        let path = sample(page.path);
        let method = page.method.as_str();
        if method != "GET" {
            continue;
        }
        let cookie = match page.access {
            Access::Public => None,
            Access::Subject => Some(person.as_str()),
            _ => Some(admin.as_str()),
        };
        let r = sb.page(method, &path, cookie, None, None).await;
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
    let cookie = sb.sign_in(&code).await;
    let before = sb.log_size();
    let change_from = |origin: &'static str| {
        sb.page(
            "POST",
            "/me/preferences",
            Some(&cookie),
            Some(CHANGE),
            Some(origin),
        )
    };
    let r = change_from("https://evil.example").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(sb.log_size(), before);
    // The same form from the server's own page is taken.
    let r = change_from("http://custody.test").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        r.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/me?changed=withdraw"),
        "{:?}",
        r.headers
    );
    assert!(sb.log_size() > before);
    let page = sb.page("GET", "/me", Some(&cookie), None, None).await;
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
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = set
        .strip_prefix("custody=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let r = sb.page("GET", "/me", Some(session), None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    // The cookie is a session id, not the code; an id one letter off, or
    // a cookie of the former `v1.<expiry>.<credential>.<mac>` shape, opens
    // nothing.
    assert!(!session.contains(&code), "{session}");
    let last = session.chars().last().unwrap();
    let other = format!(
        "{}{}",
        &session[..session.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let old_shape = format!(
        "v1.99999999999.{}.AAAA",
        base64::Engine::encode(&base64::prelude::BASE64_URL_SAFE_NO_PAD, &code)
    );
    for forged in [other, old_shape] {
        let r = sb.page("GET", "/me", Some(&forged), None, None).await;
        assert_eq!(r.headers["location"], "/?expired=1", "{forged}");
    }

    let form = format!(
        "key={}&next=%2Forgs%2Femmas-diary%2Faudit",
        sb.keys.regulator
    );
    let r = sb.page("POST", "/session", None, Some(&form), None).await;
    assert_eq!(r.headers["location"], "/orgs/emmas-diary/audit");
    // Only paths of this server are followed.
    for next in [
        "%2F%2Fevil.example",
        "%2F%09%2Fevil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let form = format!("key={}&next={next}", sb.keys.regulator);
        let r = sb.page("POST", "/session", None, Some(&form), None).await;
        assert_eq!(r.headers["location"], "/orgs", "{next}");
    }

    let r = sb
        .page("POST", "/session", None, Some("code=WRONG"), None)
        .await;
    assert_eq!(r.headers["location"], "/?failed=1");
    assert!(!r.headers.contains_key("set-cookie"));

    // A revoked key's session ends on the next page (keys are taken on
    // trust for a second after they authenticate)...
    let stale = sb.sign_in(&sb.keys.reader).await;
    let id = sb.keys.reader.split('_').nth(1).unwrap().to_string();
    std::thread::scope(|t| {
        t.spawn(|| sb.engine().revoke_api_key(&id).unwrap())
            .join()
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = sb
        .page("GET", "/orgs/emmas-diary", Some(&stale), None, None)
        .await;
    assert_eq!(r.headers["location"], "/?expired=1");
    // ...the open pages drop it rather than refuse...
    let r = sb.page("GET", "/", Some(&stale), None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // ...and it does not stand in the way of signing in again.
    let form = format!("code={code}");
    let r = sb
        .page("POST", "/session", Some(&stale), Some(&form), None)
        .await;
    assert_eq!(r.headers["location"], "/me");
    let set: Vec<_> = r.headers.get_all("set-cookie").iter().collect();
    assert_eq!(set.len(), 1, "signed in, not signed straight out: {set:?}");
    assert!(!set[0].to_str().unwrap().contains("Max-Age=0"));
    // A page address that does not parse, or is no page, answers as a page.
    let admin = sb.sign_in(&sb.keys.admin).await;
    let r = sb
        .page(
            "GET",
            "/orgs/emmas-diary/disclosures/abc",
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.content_type.starts_with("text/html"),
        "{}",
        r.content_type
    );
    let req = axum::http::Request::builder()
        .uri("/no/such/page")
        .header("accept", "text/html,application/xhtml+xml")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = sb.send(req).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("No such page"));
    // The files pages load need no credential at all.
    let r = sb
        .page("GET", "/assets/custody.css", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/css");
}
