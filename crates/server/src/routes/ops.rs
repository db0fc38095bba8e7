//! Operations: liveness, readiness, metrics, the OpenAPI document, and the
//! refusal reasons (static, public).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use custody_core::reason::Reason;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub status: String,
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Status, description = "the process is up")))]
pub async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Status, description = "the store answers"), (status = 503, body = Problem)))]
pub async fn readyz<S: Backend>(State(st): State<AppState<S>>) -> Result<Json<Status>, Problem> {
    let probe = st.read(|e| {
        Ok(custody_store::Store::log_size(&e.store).map_err(custody_engine::Error::from)?)
    });
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => Ok(Json(Status {
            status: "ready".into(),
        })),
        _ => Err(Problem::new(Kind::Unavailable, "the store does not answer")),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format")))]
pub async fn metrics() -> Response {
    let mut res = crate::metrics::handle().render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, body = Object, description = "this document")))]
pub async fn openapi() -> Response {
    (StatusCode::OK, Json(crate::openapi::document())).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    pub id: String,
    pub message: String,
    pub provisions: Vec<String>,
}

#[utoipa::path(get, path = "/v1/reasons", tag = "operations",
    responses((status = 200, body = Vec<ReasonView>)))]
pub async fn reasons() -> Json<Vec<ReasonView>> {
    Json(
        Reason::ALL
            .iter()
            .map(|r| ReasonView {
                id: r.id().into(),
                message: r.message().into(),
                provisions: r.provisions().iter().map(|p| p.to_string()).collect(),
            })
            .collect(),
    )
}
