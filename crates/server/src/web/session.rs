//! Signing in and out of the web pages, and the layer that authorises every
//! page. The credential is the same as the API's (an access code or an API
//! key); the sign-in form checks it and starts a session (`sessions.rs`)
//! whose id goes in a cookie that scripts cannot read (HttpOnly) and other
//! sites cannot send (SameSite=Strict). Every page checks again that a
//! key is live, so a revoked key stops working as it does on the API.
//! Forms that change something also refuse requests another site started.

use axum::extract::{ConnectInfo, Query, RawPathParams, Request, State};
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::auth::{allowed, failed, path_org, Access, Principal};
use crate::state::{AppState, Backend};
use crate::web::layout::{self, PageError};
use crate::web::sessions;

const COOKIE_NAME: &str = "custody";
/// The cookie's Max-Age: the session's lifetime.
const MAX_AGE: u64 = sessions::LIFETIME.as_secs();

/// The raw value of the session cookie, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, v)| v)
}

fn set_cookie(value: &str, secure: bool) -> HeaderValue {
    let v = format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={MAX_AGE}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&v).expect("base64url and digits are a valid header value")
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("custody=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether a state-changing request came from a page of this server: the
/// browser's own `Sec-Fetch-Site`, else `Origin` against `Host`. A request
/// with neither (not a browser) is let through: it cannot carry the cookie
/// of a browser session anyway unless it has the credential.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match (
        headers.get(ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// A local path to go back to after signing in; anything else is dropped.
/// Only printable ASCII: browsers drop tabs and newlines from a Location, so
/// `/\t/evil.example` would leave this server.
fn local(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
}

fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

/// Where a principal starts.
fn home(who: &Principal) -> String {
    match who {
        Principal::Subject(_) => "/me".into(),
        Principal::Key(k) => match &k.org {
            Some(org) => format!("/orgs/{org}"),
            None => "/orgs".into(),
        },
        Principal::Anonymous => "/".into(),
    }
}

/// The layer in front of every page: like the API's, with the cookie for
/// the `Authorization` header, and a sign-in page instead of a 401.
pub async fn authorize<S: Backend>(
    State((state, access)): State<(AppState<S>, Access)>,
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET && !same_origin(req.headers()) {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was sent from another site. Open custody's page and try again.",
        )
        .into_response();
    }
    let raw = cookie(req.headers()).map(str::to_string);
    let present = raw.is_some();
    let ip = crate::client::client_ip(&req, &state.config().trusted_proxies);
    let who = match &raw {
        Some(v) => state.signed_in(v).await,
        None => Ok(None),
    };
    if access == Access::Public {
        // Open to anyone: a signed-in browser sees its navigation; a cookie
        // that no longer signs in is dropped, not refused (but counts as a
        // failure, like any credential that does not authenticate).
        let who = who.ok().flatten();
        if present && who.is_none() {
            failed(&state, ip, None);
        }
        req.extensions_mut()
            .insert(who.clone().unwrap_or(Principal::Anonymous));
        let mut res = next.run(req).await;
        // Dropped, unless the page just set a new one (signing in again).
        if present && who.is_none() && !res.headers().contains_key(SET_COOKIE) {
            res.headers_mut().insert(SET_COOKIE, clear_cookie());
        }
        return res;
    }
    if !present {
        return see_other(&format!(
            "/?next={}",
            form_urlencoded::byte_serialize(req.uri().path().as_bytes()).collect::<String>()
        ));
    }
    let who = match who {
        Ok(Some(p)) => p,
        Ok(None) => {
            if let Some(wait) = failed(&state, ip, None) {
                return PageError::too_many(wait).into_response();
            }
            // Ended, expired, revoked or never made: sign in again.
            let mut res = see_other("/?expired=1");
            res.headers_mut().insert(SET_COOKIE, clear_cookie());
            return res;
        }
        Err(p) => return PageError::from(p).into_response(),
    };
    let org = path_org(params);
    if !allowed(access, &who, org.as_deref()) {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "Not yours to see",
            "You are signed in, but not for this page: a key shows its own organisation only, \
             and an access code shows only its own record.",
        )
        .with(who)
        .into_response();
    }
    req.extensions_mut().insert(who);
    next.run(req).await
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    expired: Option<String>,
    failed: Option<String>,
}

/// The front page: what custody is, and the two ways in.
pub async fn start<S: Backend>(
    Extension(who): Extension<Principal>,
    Query(q): Query<StartQuery>,
) -> Response {
    let next = local(q.next.as_deref()).unwrap_or("");
    let body = html! {
        h1 { "Where did my data go?" }
        p.lead {
            "custody keeps a tamper-evident record of what people were told when their data was \
             collected, and of every time it was passed on: who asked, what for, and whether the \
             rules allowed it."
        }
        @if q.failed.is_some() {
            div.notice.bad role="alert" {
                p { "That code or key was not recognised. Check it and try again." }
            }
        }
        @if q.expired.is_some() {
            div.notice role="status" { p { "Your sign-in has ended. Sign in again to go on." } }
        }
        @if !matches!(who, Principal::Anonymous) {
            p { a href=(home(&who)) { "Go on where you were" } }
        }
        div.cards {
            section.card aria-labelledby="person" {
                h2 #person { "I want to see my own data" }
                p { "Use the access code you were given when your data was collected." }
                form method="post" action="/session" {
                    input type="hidden" name="next" value=(next);
                    label for="code" { "Your access code" }
                    input #code name="code" type="text" autocomplete="off" spellcheck="false"
                        required aria-describedby="code-help";
                    p #code-help .help { "39 capital letters and digits, from the letter or email you got when you signed up." }
                    button type="submit" { "Show my data" }
                }
            }
            section.card aria-labelledby="staff" {
                h2 #staff { "I work for an organisation or the regulator" }
                p { "Use an API key made with " code { "custody key create" } "." }
                form method="post" action="/session" {
                    input type="hidden" name="next" value=(next);
                    label for="key" { "API key" }
                    input #key name="key" type="password" autocomplete="off" required;
                    button type="submit" { "Sign in" }
                }
            }
        }
        p { "Anyone may check the " a href="/log" { "transparency log" } ": it holds no personal data." }
    };
    layout::page("Sign in", &who, body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    code: Option<String>,
    key: Option<String>,
    next: Option<String>,
}

/// Checks the code or key, as the API would, and starts a session.
pub async fn sign_in<S: Backend>(
    State(st): State<AppState<S>>,
    connected: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    let peer = connected
        .map(|Extension(ConnectInfo(a))| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ip = crate::client::forwarded_for(peer, &headers, &st.config().trusted_proxies);
    let token = f
        .code
        .or(f.key)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return see_other("/?failed=1");
    };
    let who = match st.authenticate(token.clone()).await {
        Ok(Some(who)) => who,
        Ok(None) => {
            return match failed(&st, ip, Some(&token)) {
                Some(wait) => PageError::too_many(wait).into_response(),
                None => see_other("/?failed=1"),
            };
        }
        Err(p) => return PageError::from(p).into_response(),
    };
    let to = local(f.next.as_deref())
        .map(String::from)
        .unwrap_or_else(|| home(&who));
    let mut res = see_other(&to);
    let value = st.sessions().start(who, sessions::LIFETIME);
    res.headers_mut()
        .insert(SET_COOKIE, set_cookie(&value, st.config().secure_cookies));
    res
}

/// Ends the session at once: its cookie, replayed, signs nobody in.
pub async fn sign_out<S: Backend>(State(st): State<AppState<S>>, headers: HeaderMap) -> Response {
    if let Some(v) = cookie(&headers) {
        st.sessions().end(v);
    }
    let mut res = see_other("/");
    res.headers_mut().insert(SET_COOKIE, clear_cookie());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local(Some("/orgs/a")), Some("/orgs/a"));
        assert_eq!(local(Some("/orgs/a?x=1&y=2")), Some("/orgs/a?x=1&y=2"));
        assert_eq!(local(Some("//evil.example/")), None);
        assert_eq!(local(Some("https://evil.example/")), None);
        assert_eq!(local(Some("/\\evil.example")), None);
        assert_eq!(local(Some("/\t/evil.example")), None);
        assert_eq!(local(Some("/\n/evil.example")), None);
        assert_eq!(local(Some("/ /evil.example")), None);
        assert_eq!(local(None), None);
    }

    #[test]
    fn a_form_from_another_site_is_not_same_origin() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "not a browser: no headers");
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h.insert(ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h));
    }

    #[test]
    fn the_cookie_is_read_from_among_others_and_set_http_only() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("other=1; custody=v1.2.abc.def"),
        );
        assert_eq!(cookie(&h), Some("v1.2.abc.def"));
        let set = set_cookie("v1.2.abc.def", false);
        assert!(set.to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
        assert!(set_cookie("x", true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
