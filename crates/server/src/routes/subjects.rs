//! One person's record as an organisation sees it: the trace, the receipts,
//! the access code to hand on; and an organisation's audit. The same reads
//! for the person themselves are in `me`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use custody_engine::audit::Audit;
use custody_engine::log::receipt::ReceiptProof;
use custody_engine::trace::Trace;
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::ApiPath;
use crate::problem::Problem;
use crate::routes::collect::AccessCode;
use crate::state::{AppState, Backend};

/// A receipt: the entry in words, and the C2SP tlog-proof to check offline
/// with the log's key (`custody verify-receipt`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub index: u64,
    pub kind: String,
    pub summary: String,
    /// The `c2sp.org/tlog-proof@v1` text.
    pub receipt: String,
}

impl From<ReceiptProof> for ReceiptView {
    fn from(r: ReceiptProof) -> Self {
        ReceiptView {
            index: r.index,
            kind: r.kind.into(),
            summary: r.summary,
            receipt: r.receipt,
        }
    }
}

#[utoipa::path(get, path = "/v1/orgs/{org}/subjects/{subject}/trace", tag = "subjects",
    params(("org" = String, Path), ("subject" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "collection, notice, consents, preference events, every disclosure downstream, current holders"),
        (status = 404, body = Problem)))]
pub async fn trace<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, subject)): ApiPath<(String, String)>,
) -> Result<Json<Trace>, Problem> {
    Ok(Json(st.read(move |e| Ok(e.trace(&org, &subject)?)).await?))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/subjects/{subject}/receipts", tag = "subjects",
    params(("org" = String, Path), ("subject" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ReceiptView>), (status = 404, body = Problem)))]
pub async fn receipts<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, subject)): ApiPath<(String, String)>,
) -> Result<Json<Vec<ReceiptView>>, Problem> {
    let r = st
        .read(move |e| Ok(e.receipt_proofs(&org, &subject)?))
        .await?;
    Ok(Json(r.into_iter().map(ReceiptView::from).collect()))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/subjects/{subject}/access-code", tag = "subjects",
    params(("org" = String, Path), ("subject" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AccessCode), (status = 404, body = Problem)))]
pub async fn access_code<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, subject)): ApiPath<(String, String)>,
) -> Result<Json<AccessCode>, Problem> {
    let code = st
        .write(move |e| {
            let code = e.access_code(&org, &subject)?;
            Ok(AccessCode { subject, code })
        })
        .await?;
    Ok(Json(code))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/audit", tag = "audit",
    params(("org" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "every recorded disclosure of the organisation's data, re-evaluated; people wronged per reason"),
        (status = 404, body = Problem)))]
pub async fn audit<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
) -> Result<Json<Audit>, Problem> {
    let (_, audit) = st.audit(org).await?;
    Ok(Json(Arc::unwrap_or_clone(audit)))
}
