//! The web pages, served by the same binary as the API: HTML rendered on
//! the server (maud) over the same engine calls, behind the same role
//! matrix (`auth::allowed`). A browser signs in with a credential (an access
//! code or an API key) and keeps only a session id (`sessions.rs`), in an
//! HttpOnly, SameSite=Strict cookie. Charts and the flow graph are drawn in
//! the browser by Chart.js and Cytoscape.js, embedded in the binary; every
//! chart has its figures in a table beside it.

mod assets;
mod audit;
mod layout;
mod log;
mod orgs;
mod people;
mod person;
pub mod session;
pub mod sessions;
mod wording;

use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use custody_engine::keys::KeyRole::Reader;

use crate::auth::Access::{self, AnyKey, Org, Public, Subject};
use crate::state::{AppState, Backend};

/// One page: like the API's routes, it cannot be added without saying who
/// may see it.
pub struct Page<S: Backend> {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState<S>>,
}

fn page<S: Backend>(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState<S>>,
) -> Page<S> {
    Page {
        method,
        path,
        access,
        handler,
    }
}

pub fn table<S: Backend>() -> Vec<Page<S>> {
    use Method as M;
    vec![
        page(M::GET, "/", Public, get(session::start::<S>)),
        page(M::POST, "/session", Public, post(session::sign_in::<S>)),
        page(
            M::POST,
            "/session/end",
            Public,
            post(session::sign_out::<S>),
        ),
        page(M::GET, "/log", Public, get(log::page::<S>)),
        page(M::GET, "/me", Subject, get(person::page::<S>)),
        page(
            M::POST,
            "/me/preferences",
            Subject,
            post(person::change::<S>),
        ),
        page(
            M::GET,
            "/me/receipts/{index}",
            Subject,
            get(person::receipt::<S>),
        ),
        page(M::GET, "/orgs", AnyKey, get(orgs::list::<S>)),
        page(M::GET, "/orgs/{org}", Org(Reader), get(orgs::overview::<S>)),
        page(
            M::GET,
            "/orgs/{org}/notices/{version}",
            Org(Reader),
            get(orgs::notice::<S>),
        ),
        page(
            M::GET,
            "/orgs/{org}/people",
            Org(Reader),
            get(people::page::<S>),
        ),
        page(
            M::GET,
            "/orgs/{org}/disclosures/{id}",
            Org(Reader),
            get(orgs::disclosure::<S>),
        ),
        page(
            M::GET,
            "/orgs/{org}/audit",
            Org(Reader),
            get(audit::page::<S>),
        ),
        page(
            M::GET,
            "/orgs/{org}/audit/report",
            Org(Reader),
            get(audit::report::<S>),
        ),
    ]
}

/// The page for a path that is none of these.
pub fn not_found() -> layout::PageError {
    layout::PageError::new(
        StatusCode::NOT_FOUND,
        "No such page",
        "There is no page at this address. Start again from the front page.",
    )
}

/// A request a page could not read (a path, query or form that does not
/// parse) answers as a page too, not as axum's plain text.
async fn html_errors(res: Response) -> Response {
    let plain = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(res.status().is_client_error() && plain) {
        return res;
    }
    let status = res.status();
    let detail = axum::body::to_bytes(res.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    layout::PageError::new(status, "That address was not understood", &detail).into_response()
}

/// Every page of [`table`], each behind the page authorisation layer, and
/// the static files pages load (public, and read without a credential).
pub fn router<S: Backend>(state: &AppState<S>) -> Router<AppState<S>> {
    let mut r = Router::new().route("/assets/{name}", get(assets::serve));
    for p in table::<S>() {
        let handler = p
            .handler
            .route_layer(from_fn_with_state(
                (state.clone(), p.access),
                session::authorize::<S>,
            ))
            .route_layer(from_fn_with_state(
                state.config().max_body,
                crate::extract::refuse_declared_oversize,
            ));
        r = r.route(p.path, handler);
    }
    r.layer(axum::middleware::map_response(html_errors))
}
