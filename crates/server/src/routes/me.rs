//! A person with their access code, and nothing else: whose record it
//! opens, its trace, its receipts (changing consents is in `preferences`).

use axum::extract::State;
use axum::{Extension, Json};
use custody_engine::trace::Trace;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::problem::{Kind, Problem};
use crate::routes::subjects::ReceiptView;
use crate::state::{AppState, Backend};

/// The record an access code opens.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The organisation that collected the record.
    pub org: String,
    pub subject: String,
}

fn me(who: Principal) -> Result<custody_engine::access::CodeHolder, Problem> {
    match who {
        Principal::Subject(h) => Ok(h),
        _ => Err(Problem::bare(Kind::Forbidden)),
    }
}

#[utoipa::path(get, path = "/v1/me", tag = "data subjects", security(("access_code" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn whoami(Extension(who): Extension<Principal>) -> Result<Json<Me>, Problem> {
    let h = me(who)?;
    Ok(Json(Me {
        org: h.org,
        subject: h.subject,
    }))
}

#[utoipa::path(get, path = "/v1/me/trace", tag = "data subjects", security(("access_code" = [])),
    responses((status = 200, body = Object, description = "as /v1/orgs/{org}/subjects/{subject}/trace"), (status = 401, body = Problem)))]
pub async fn trace<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Trace>, Problem> {
    let h = me(who)?;
    Ok(Json(
        st.read(move |e| Ok(e.trace(&h.org, &h.subject)?)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/me/receipts", tag = "data subjects", security(("access_code" = [])),
    responses((status = 200, body = Vec<ReceiptView>), (status = 401, body = Problem)))]
pub async fn receipts<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<ReceiptView>>, Problem> {
    let h = me(who)?;
    let r = st
        .read(move |e| Ok(e.receipt_proofs(&h.org, &h.subject)?))
        .await?;
    Ok(Json(r.into_iter().map(ReceiptView::from).collect()))
}
