//! Who may do what, in one place. Every route in the table
//! (`routes::table`) names an [`Access`]; one middleware authenticates the
//! `Authorization: Bearer` credential, checks it against the route's access
//! and the organisation in its path, and hands the [`Principal`] on.
//!
//! Two kinds of credential share the header: API keys (`ck_...`, made with
//! `custody key create`) and per-record access codes. A credential that does
//! not authenticate, whatever is wrong with it, gets the same 401 body, and
//! counts against its client address's and its own failure buckets
//! (`ratelimit.rs`); past them, 429.

use std::net::IpAddr;

use axum::extract::{RawPathParams, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use custody_engine::access::CodeHolder;
use custody_engine::keys::{ApiKey, KeyRole};

use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials: health, metrics, the OpenAPI document,
    /// the transparency log (which holds no personal data in clear).
    Public,
    /// Any API key (organisations are listed to every organisation and the regulator).
    AnyKey,
    /// An admin key of any organisation (adding organisations).
    AnyAdmin,
    /// A key of the organisation in the path with at least this role. With
    /// `Reader`, the regulator too: it reads everything, and changes nothing.
    Org(KeyRole),
    /// A person's access code, for their own record only.
    Subject,
}

/// Who is asking, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    Key(ApiKey),
    Subject(CodeHolder),
}

fn rank(r: KeyRole) -> u8 {
    match r {
        KeyRole::Reader => 1,
        KeyRole::Collector => 2,
        KeyRole::Admin => 3,
        KeyRole::Regulator => 0,
    }
}

/// Whether `who` may use a route of `access` for organisation `org` (the
/// path's, if it has one). The whole role matrix.
pub fn allowed(access: Access, who: &Principal, org: Option<&str>) -> bool {
    match (access, who) {
        (Access::Public, _) => true,
        (Access::AnyKey, Principal::Key(_)) => true,
        (Access::AnyAdmin, Principal::Key(k)) => k.role == KeyRole::Admin,
        (Access::Org(need), Principal::Key(k)) => {
            if k.role == KeyRole::Regulator {
                need == KeyRole::Reader
            } else {
                k.org.as_deref().is_some() && k.org.as_deref() == org && rank(k.role) >= rank(need)
            }
        }
        (Access::Subject, Principal::Subject(_)) => true,
        _ => false,
    }
}

/// The organisation a request's path names (`{org}`), if any.
pub fn path_org(
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
) -> Option<String> {
    params.ok().and_then(|p| {
        p.iter()
            .find(|(k, _)| *k == "org")
            .map(|(_, v)| v.to_string())
    })
}

/// Counts a credential that did not authenticate (`token`, if one was
/// given) against the failure limiter; the seconds to wait if that was a
/// failure too many.
pub fn failed<S: Backend>(state: &AppState<S>, ip: IpAddr, token: Option<&str>) -> Option<u64> {
    state
        .limiter()
        .failed(ip, token.and_then(crate::ratelimit::credential_id))
}

/// The route layer: authenticate, authorise, pass the principal on.
pub async fn authorize<S: Backend>(
    State((state, access)): State<(AppState<S>, Access)>,
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    mut req: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        req.extensions_mut().insert(Principal::Anonymous);
        return next.run(req).await;
    }
    let ip = crate::client::client_ip(&req, &state.config().trusted_proxies);
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    let Some(token) = token else {
        return Problem::bare(Kind::Unauthenticated).into_response();
    };
    let who = match state.authenticate(token.clone()).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return match failed(&state, ip, Some(&token)) {
                Some(wait) => Problem::new(
                    Kind::TooManyFailures,
                    "too many failed authentications from this address or with this credential; \
                     wait and try again",
                )
                .retry_after(wait)
                .into_response(),
                None => Problem::bare(Kind::Unauthenticated).into_response(),
            };
        }
        Err(p) => return p.into_response(),
    };
    let org = path_org(params);
    if !allowed(access, &who, org.as_deref()) {
        return Problem::new(
            Kind::Forbidden,
            "this credential may not do this (a key acts for its own organisation only; \
             an access code reads and changes only its own record)",
        )
        .into_response();
    }
    req.extensions_mut().insert(who);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(org: Option<&str>, role: KeyRole) -> Principal {
        Principal::Key(ApiKey {
            id: "k".into(),
            org: org.map(String::from),
            role,
            created_at: String::new(),
            revoked: false,
        })
    }

    #[test]
    fn a_key_acts_for_its_own_organisation_and_the_regulator_only_reads() {
        let admin = key(Some("a"), KeyRole::Admin);
        assert!(allowed(Access::Org(KeyRole::Admin), &admin, Some("a")));
        assert!(!allowed(Access::Org(KeyRole::Reader), &admin, Some("b")));
        let reader = key(Some("a"), KeyRole::Reader);
        assert!(!allowed(
            Access::Org(KeyRole::Collector),
            &reader,
            Some("a")
        ));
        let reg = key(None, KeyRole::Regulator);
        assert!(allowed(Access::Org(KeyRole::Reader), &reg, Some("b")));
        assert!(!allowed(Access::Org(KeyRole::Collector), &reg, Some("b")));
        assert!(!allowed(Access::AnyAdmin, &reg, None));
        assert!(!allowed(Access::AnyKey, &Principal::Anonymous, None));
    }
}
