//! Consent and objection events, by an organisation's collector or by the
//! person themselves (`/v1/me/preferences`). Appended, never overwritten.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use custody_core::time::format_instant;
use custody_engine::preferences::{Change, PreferenceRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceEvent {
    /// The subject identifier (for `/v1/me/preferences`: omit; the code says whose).
    pub subject: Option<String>,
    /// give, withdraw, object-direct-marketing or withdraw-objection
    pub action: String,
    /// The purpose given or withdrawn (any spelling `custody vocab show` accepts).
    pub purpose: Option<String>,
    /// When (YYYY-MM-DD or RFC 3339); default now.
    pub at: Option<String>,
    /// The notice version the person was shown, when they re-consented under a newer one.
    pub notice: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedView {
    pub org: String,
    pub subject: String,
    pub action: String,
    /// The purpose as resolved: its full key (`dpv:Marketing` for `marketing`).
    pub purpose: Option<String>,
    /// The resolved purpose's label.
    pub purpose_label: Option<String>,
    pub at: String,
}

async fn record<S: Backend>(
    st: AppState<S>,
    org: String,
    subject: String,
    ev: PreferenceEvent,
    source: &'static str,
) -> Result<(StatusCode, Json<RecordedView>), Problem> {
    let change = Change::parse(&ev.action, ev.purpose.as_deref().unwrap_or("")).map_err(|m| {
        let field = if m.contains("needs a purpose") {
            "purpose"
        } else {
            "action"
        };
        Problem::field(Kind::Validation, field, m)
    })?;
    let at = match ev.at.as_deref() {
        Some(s) => custody_core::time::parse_instant(s)
            .map_err(|e| Problem::field(Kind::Validation, "at", e.to_string()))?,
        None => chrono::Utc::now(),
    };
    let (o, s) = (org.clone(), subject.clone());
    let recorded = st
        .write(move |e| {
            Ok(e.record_preference(&PreferenceRequest {
                org: &o,
                subject: &s,
                change: &change,
                at,
                notice: ev.notice.as_deref(),
                source,
            })?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RecordedView {
            org,
            subject,
            action: recorded.action,
            purpose: recorded.purpose,
            purpose_label: recorded.label,
            at: format_instant(&at),
        }),
    ))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/preferences", tag = "preferences",
    params(("org" = String, Path)), security(("bearer" = [])), request_body = PreferenceEvent,
    responses((status = 201, body = RecordedView), (status = 422, body = Problem)))]
pub async fn post<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiJson(ev): ApiJson<PreferenceEvent>,
) -> Result<(StatusCode, Json<RecordedView>), Problem> {
    let subject = ev
        .subject
        .clone()
        .ok_or_else(|| Problem::field(Kind::Validation, "subject", "missing"))?;
    record(st, org, subject, ev, "api").await
}

#[utoipa::path(post, path = "/v1/me/preferences", tag = "data subjects",
    security(("access_code" = [])), request_body = PreferenceEvent,
    responses((status = 201, body = RecordedView), (status = 422, body = Problem)))]
pub async fn post_mine<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    ApiJson(ev): ApiJson<PreferenceEvent>,
) -> Result<(StatusCode, Json<RecordedView>), Problem> {
    let Principal::Subject(me) = who else {
        return Err(Problem::bare(Kind::Forbidden));
    };
    if ev.subject.as_deref().is_some_and(|s| s != me.subject) {
        return Err(Problem::field(
            Kind::Validation,
            "subject",
            "an access code changes only its own record; omit `subject`",
        ));
    }
    record(st, me.org, me.subject, ev, "api:subject").await
}
