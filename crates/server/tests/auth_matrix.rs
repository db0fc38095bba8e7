//! Every route of the table, with every role and with no credentials: the
//! refusals the issue asks for, and nothing stored by a refused request.
//! Driven from `routes::table`, so a new route is tried too.

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
    let r = sb.collect(common::mothers()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let code = r.json()["codes"][0]["code"].as_str().unwrap().to_string();
    let k = &sb.keys;
    let who: Vec<(Who, Option<String>)> = vec![
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
    ];
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
