//! Every route, in one table: method, path, who may use it, handler. The
//! router, the authorisation layer, the OpenAPI check and the role-matrix
//! test are all driven from it, so a route cannot be added without saying
//! who may use it.

pub mod collect;
pub mod disclosures;
pub mod log;
pub mod me;
pub mod notices;
pub mod ops;
pub mod orgs;
pub mod preferences;
pub mod subjects;

use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use custody_engine::keys::KeyRole::{Admin, Collector, Reader};

use crate::auth::Access::{self, AnyAdmin, AnyKey, Org, Public, Subject};
use crate::state::{AppState, Backend};

pub struct Route<S: Backend> {
    pub method: Method,
    /// The axum path (`{param}`, `{*rest}`).
    pub path: &'static str,
    pub access: Access,
    /// Takes a file upload: the upload body limit, not the JSON one.
    pub upload: bool,
    pub handler: MethodRouter<AppState<S>>,
}

fn route<S: Backend>(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState<S>>,
) -> Route<S> {
    Route {
        method,
        path,
        access,
        upload: false,
        handler,
    }
}

pub fn table<S: Backend>() -> Vec<Route<S>> {
    use Method as M;
    let mut upload = route(
        M::POST,
        "/v1/orgs/{org}/collections/upload",
        Org(Collector),
        post(collect::upload::<S>),
    );
    upload.upload = true;
    vec![
        route(M::GET, "/healthz", Public, get(ops::healthz)),
        route(M::GET, "/readyz", Public, get(ops::readyz::<S>)),
        route(M::GET, "/metrics", Public, get(ops::metrics)),
        route(M::GET, "/openapi.json", Public, get(ops::openapi)),
        route(M::GET, "/v1/reasons", Public, get(ops::reasons)),
        route(
            M::GET,
            "/v1/log/checkpoint",
            Public,
            get(log::checkpoint::<S>),
        ),
        route(M::GET, "/v1/log/key", Public, get(log::key::<S>)),
        route(
            M::GET,
            "/v1/log/proof/inclusion",
            Public,
            get(log::inclusion::<S>),
        ),
        route(
            M::POST,
            "/v1/log/proof/consistency",
            Public,
            post(log::consistency::<S>),
        ),
        route(
            M::GET,
            "/v1/log/tile/{*path}",
            Public,
            // Entry bundles are text-like and compress well; a client that
            // says it accepts gzip gets them so (hashes do not compress,
            // but the layer is per route).
            get(log::tile::<S>).layer(tower_http::compression::CompressionLayer::new().gzip(true)),
        ),
        route(M::GET, "/v1/orgs", AnyKey, get(orgs::list::<S>)),
        route(M::POST, "/v1/orgs", AnyAdmin, post(orgs::add::<S>)),
        route(M::GET, "/v1/orgs/{org}", AnyKey, get(orgs::get::<S>)),
        route(
            M::GET,
            "/v1/orgs/{org}/notices",
            Org(Reader),
            get(notices::list::<S>),
        ),
        route(
            M::POST,
            "/v1/orgs/{org}/notices",
            Org(Admin),
            post(notices::publish::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/notices/{version}",
            Org(Reader),
            get(notices::get::<S>),
        ),
        route(
            M::POST,
            "/v1/orgs/{org}/collections",
            Org(Collector),
            post(collect::batch::<S>),
        ),
        upload,
        route(
            M::POST,
            "/v1/orgs/{org}/preferences",
            Org(Collector),
            post(preferences::post::<S>),
        ),
        route(
            M::POST,
            "/v1/orgs/{org}/disclosures",
            Org(Collector),
            post(disclosures::request::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/disclosures",
            Org(Reader),
            get(disclosures::list::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/disclosures/{id}",
            Org(Reader),
            get(disclosures::get::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/disclosures/{id}/decisions",
            Org(Reader),
            get(disclosures::decisions::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/subjects/{subject}/trace",
            Org(Reader),
            get(subjects::trace::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/subjects/{subject}/receipts",
            Org(Reader),
            get(subjects::receipts::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/subjects/{subject}/access-code",
            Org(Collector),
            get(subjects::access_code::<S>),
        ),
        route(
            M::GET,
            "/v1/orgs/{org}/audit",
            Org(Reader),
            get(subjects::audit::<S>),
        ),
        route(M::GET, "/v1/me", Subject, get(me::whoami)),
        route(M::GET, "/v1/me/trace", Subject, get(me::trace::<S>)),
        route(
            M::POST,
            "/v1/me/preferences",
            Subject,
            post(preferences::post_mine::<S>),
        ),
        route(M::GET, "/v1/me/receipts", Subject, get(me::receipts::<S>)),
    ]
}

/// The OpenAPI spelling of an axum path: `{*rest}` is `{rest}`.
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}
