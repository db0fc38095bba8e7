//! `custody serve`: the HTTP API over the engine. Thin handlers (parse,
//! authorise, call the engine, answer JSON); errors as RFC 9457 problems;
//! API keys and per-record access codes; Prometheus metrics; an OpenAPI 3.1
//! document generated from the code.

pub mod auth;
pub mod client;
pub mod connections;
mod expensive;
pub mod extract;
mod group_commit;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod problem;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::Router;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use connections::{serve, Limits};
use problem::{Kind, Problem};
pub use state::{AppState, Backend, Config, Opener};

/// The router over `state`: every route of [`routes::table`], each behind
/// its body limit, the authorisation layer and the metrics layer.
pub fn router<S: Backend>(state: AppState<S>) -> Router {
    // The recorder first, or requests before the first scrape go unrecorded.
    metrics::handle();
    let mut r = Router::new();
    for route in routes::table::<S>() {
        let limit = if route.upload {
            state.config().max_upload
        } else {
            state.config().max_body
        };
        // route_layer: only requests that match the route, outermost last.
        let handler = route
            .handler
            .route_layer(DefaultBodyLimit::max(limit))
            .route_layer(from_fn_with_state(
                (state.clone(), route.access),
                auth::authorize::<S>,
            ))
            .route_layer(from_fn_with_state(limit, extract::refuse_declared_oversize))
            .route_layer(from_fn_with_state(route.path, metrics::track));
        r = r.route(route.path, handler);
    }
    r.merge(web::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            Problem::new(
                Kind::MethodNotAllowed,
                "this route does not take that method",
            )
        })
        .layer(
            // One span and one line per request at info: method, path, status, latency.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// No such route: a problem for a client, a page for a browser (one that
/// asks for HTML).
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    let browser = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if browser {
        web::not_found().into_response()
    } else {
        Problem::new(Kind::NotFound, "no such route").into_response()
    }
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
