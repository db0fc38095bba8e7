//! Privacy notices: read by the organisation's keys and the regulator,
//! published by its admin. A published version never changes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use custody_core::notice::{Notice, NoticeSource};
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::problem::Problem;
use crate::state::{AppState, Backend};

/// A published notice version.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub org: String,
    pub version: String,
    pub effective: String,
    /// SHA-256 of the notice's canonical JSON.
    pub content_hash: String,
    /// The notice as published, terms normalised to their keys (the same
    /// fields as a notice file: version, effective, title, url, text, declarations).
    #[schema(value_type = Object)]
    pub notice: NoticeSource,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> NoticeView {
        NoticeView {
            effective: n.effective_text(),
            id: n.id,
            org: n.org,
            version: n.version,
            content_hash: n.content_hash,
            notice: n.source,
        }
    }
}

/// The answer to a publication.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedView {
    /// true: this version was already published with this content; nothing changed.
    pub unchanged: bool,
    pub notice: NoticeView,
    /// What custody questions in the notice (as `custody notice check`),
    /// each with its field and provision; published all the same.
    pub warnings: Vec<WarningView>,
}

/// One thing custody questions in a notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningView {
    /// `error`: unlawful or misleading; `warning`: something left out.
    pub severity: String,
    pub field: String,
    pub message: String,
    pub provision: String,
}

#[utoipa::path(get, path = "/v1/orgs/{org}/notices", tag = "notices",
    params(("org" = String, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<NoticeView>), (status = 404, body = Problem)))]
pub async fn list<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<NoticeView>>, Problem> {
    let (limit, after) = (q.limit()?, q.after_id()?);
    let items = st
        .read(move |e| {
            Ok(e.notices(&org)?
                .into_iter()
                .filter(|n| !matches!(after, Some(a) if n.id <= a))
                .take(limit + 1)
                .map(NoticeView::from)
                .collect())
        })
        .await?;
    Ok(Json(Page::of(items, limit, |n| n.id.to_string())))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/notices/{version}", tag = "notices",
    params(("org" = String, Path), ("version" = String, Path, description = "a version label, or `latest`")),
    security(("bearer" = [])),
    responses((status = 200, body = NoticeView), (status = 404, body = Problem)))]
pub async fn get<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, version)): ApiPath<(String, String)>,
) -> Result<Json<NoticeView>, Problem> {
    let n = st
        .read(move |e| {
            let v = (version != "latest").then_some(version.as_str());
            Ok(e.notice(&org, v)?)
        })
        .await?;
    Ok(Json(n.into()))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/notices", tag = "notices",
    params(("org" = String, Path)), security(("bearer" = [])),
    request_body(content = Object, description = "a notice, as in a notice file (README: File formats), in JSON"),
    responses((status = 201, body = PublishedView), (status = 200, body = PublishedView, description = "already published with this content"),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn publish<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiJson(source): ApiJson<NoticeSource>,
) -> Result<(StatusCode, Json<PublishedView>), Problem> {
    let p = st
        .write(move |e| Ok(e.publish_notice_source(&org, "notice", &source)?))
        .await?;
    let status = if p.unchanged {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(PublishedView {
            unchanged: p.unchanged,
            warnings: p
                .findings
                .into_iter()
                .map(|f| WarningView {
                    severity: f.severity.to_string(),
                    field: f.field,
                    message: f.message,
                    provision: f.provision.to_string(),
                })
                .collect(),
            notice: p.notice.into(),
        }),
    ))
}
