//! The disclosure gate over HTTP: a request is decided record by record and
//! recorded; the answer is the summary with counts per reason. The allowed
//! records are not sent by the server: the decisions say which they are.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use custody_core::time::{format_instant, parse_instant};
use custody_engine::disclosure::{
    DecisionView, Named, NamedShare, ReasonCount, Selection, ShareReport, ShareSpec, Terms,
};
use custody_store::DisclosureRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

/// Lists of at most this many subjects are decided by reading only those
/// records, and recorded in a group commit; longer lists and `all` by
/// walking everything the organisation holds, one request to a transaction.
const FEW: usize = 64;

/// Which records: `"all"`, or a list of holdings, each a subject
/// identifier or `{"subject", "collector"}` where the holder holds the
/// identifier from more than one collector (README: The rules).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Records {
    All(String),
    Subjects(Vec<RecordName>),
}

/// One holding: a subject identifier, and the organisation that assigned
/// it where that is not plain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RecordName {
    Subject(String),
    Holding(Holding),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holding {
    pub subject: String,
    /// The organisation that collected the person and assigned the identifier.
    pub collector: String,
}

impl From<RecordName> for Named {
    fn from(r: RecordName) -> Named {
        match r {
            RecordName::Subject(subject) => Named::subject(subject),
            RecordName::Holding(h) => Named {
                subject: h.subject,
                collector: Some(h.collector),
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    /// The receiving organisation.
    pub to: String,
    /// The organisation the recipient acts for, if any.
    pub on_behalf_of: Option<String>,
    pub purposes: Vec<String>,
    /// Data categories to disclose.
    pub categories: Vec<String>,
    /// The lawful basis claimed.
    pub basis: Option<String>,
    pub records: Records,
    /// When the disclosure happens; default now.
    pub at: Option<String>,
}

/// A reason and how many records it refused.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCountView {
    pub id: String,
    pub message: String,
    pub provisions: Vec<String>,
    pub records: u64,
}

impl From<&ReasonCount> for ReasonCountView {
    fn from(r: &ReasonCount) -> Self {
        ReasonCountView {
            id: r.id.into(),
            message: r.message.into(),
            provisions: r.provisions.iter().map(|p| p.to_string()).collect(),
            records: r.records,
        }
    }
}

/// A disclosure decided by the gate.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedView {
    pub disclosure: i64,
    pub from: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub at: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub basis: Option<String>,
    pub requested: u64,
    pub allowed: u64,
    pub refused: u64,
    pub not_held: u64,
    /// Refused records per reason.
    pub reasons: Vec<ReasonCountView>,
    /// The columns an allowed record carries.
    pub columns_sent: Vec<String>,
}

impl From<ShareReport> for DecidedView {
    fn from(r: ShareReport) -> Self {
        DecidedView {
            reasons: r.reasons.iter().map(ReasonCountView::from).collect(),
            disclosure: r.disclosure,
            from: r.from,
            to: r.to,
            on_behalf_of: r.on_behalf_of,
            at: r.at,
            purposes: r.purposes,
            categories: r.categories,
            basis: r.basis,
            requested: r.requested,
            allowed: r.allowed,
            refused: r.refused,
            not_held: r.not_held,
            columns_sent: r.columns_sent,
        }
    }
}

/// A recorded disclosure, gated or imported history.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureView {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub at: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub basis: Option<String>,
    /// false: imported history, never checked by custody.
    pub gated: bool,
    pub requested: i64,
    pub allowed: i64,
    pub refused: i64,
    pub not_held: i64,
}

impl From<DisclosureRow> for DisclosureView {
    fn from(d: DisclosureRow) -> Self {
        DisclosureView {
            id: d.id,
            from: d.from_org,
            to: d.to_org,
            on_behalf_of: d.on_behalf_of,
            at: format_instant(&chrono::DateTime::from_timestamp(d.at, 0).unwrap_or_default()),
            purposes: d.purposes,
            categories: d.categories,
            basis: d.basis,
            gated: d.gated,
            requested: d.requested,
            allowed: d.allowed,
            refused: d.refused,
            not_held: d.not_held,
        }
    }
}

/// One record's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionItem {
    pub record: i64,
    pub subject: String,
    /// The organisation that assigned the subject identifier (README: The
    /// rules, one person, one holding).
    pub collector: String,
    /// allowed, refused, or disclosed (imported history)
    pub outcome: String,
    /// Reason ids (`custody reasons`).
    pub reasons: Vec<String>,
}

impl From<DecisionView> for DecisionItem {
    fn from(d: DecisionView) -> Self {
        DecisionItem {
            record: d.record,
            subject: d.subject,
            collector: d.collector,
            outcome: d.outcome.into(),
            reasons: d.reasons.into_iter().map(String::from).collect(),
        }
    }
}

#[utoipa::path(post, path = "/v1/orgs/{org}/disclosures", tag = "disclosures",
    params(("org" = String, Path, description = "the disclosing organisation")), security(("bearer" = [])),
    request_body = DisclosureRequest,
    responses((status = 201, body = DecidedView), (status = 422, body = Problem)))]
pub async fn request<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiJson(r): ApiJson<DisclosureRequest>,
) -> Result<(StatusCode, Json<DecidedView>), Problem> {
    let at =
        r.at.as_deref()
            .map(|s| {
                parse_instant(s).map_err(|e| Problem::field(Kind::Validation, "at", e.to_string()))
            })
            .transpose()?;
    // The body's terms are the engine's, field for field.
    let terms = Terms {
        from: org,
        to: r.to,
        on_behalf_of: r.on_behalf_of,
        purposes: r.purposes,
        categories: r.categories,
        basis: r.basis,
        at,
    };
    let records = match r.records {
        Records::All(s) if s == "all" => Selection::All,
        Records::All(_) => {
            return Err(Problem::field(
                Kind::Validation,
                "records",
                "`all` or a list of subjects",
            ))
        }
        // A few named records: read only those, many requests to a commit.
        Records::Subjects(subjects) if subjects.len() <= FEW => {
            let report = st
                .share_named(NamedShare {
                    terms,
                    subjects: subjects.into_iter().map(Named::from).collect(),
                })
                .await?;
            return Ok((StatusCode::CREATED, Json(report.into())));
        }
        Records::Subjects(v) => Selection::List(v.into_iter().map(Named::from).collect()),
    };
    // Opened on the blocking pool: PostgreSQL's client blocks as it connects.
    let vouching = st.clone();
    let report = st
        .write(move |e| {
            let voucher = vouching.voucher()?;
            let spec = ShareSpec {
                terms: &terms,
                records,
                out: None,
                refused: None,
                report: None,
                out_format: None,
            };
            Ok(e.share(&spec, Some(voucher), &custody_engine::Silent)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/disclosures", tag = "disclosures",
    params(("org" = String, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<DisclosureView>)))]
pub async fn list<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<DisclosureView>>, Problem> {
    let (limit, after) = (q.limit()?, q.after_id()?);
    let items = st
        .read(move |e| Ok(e.disclosures_by(&org, after, limit + 1)?))
        .await?;
    let items = items.into_iter().map(DisclosureView::from).collect();
    Ok(Json(Page::of(items, limit, |d| d.id.to_string())))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/disclosures/{id}", tag = "disclosures",
    params(("org" = String, Path), ("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DisclosureView), (status = 404, body = Problem)))]
pub async fn get<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, id)): ApiPath<(String, i64)>,
) -> Result<Json<DisclosureView>, Problem> {
    let d = st.read(move |e| Ok(e.disclosure_by(&org, id)?)).await?;
    Ok(Json(d.into()))
}

#[utoipa::path(get, path = "/v1/orgs/{org}/disclosures/{id}/decisions", tag = "disclosures",
    params(("org" = String, Path), ("id" = i64, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<DecisionItem>), (status = 404, body = Problem)))]
pub async fn decisions<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath((org, id)): ApiPath<(String, i64)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<DecisionItem>>, Problem> {
    let (limit, after) = (q.limit()?, q.after_id()?);
    let items = st
        .read(move |e| Ok(e.decisions(&org, id, after, limit + 1)?))
        .await?;
    let items = items.into_iter().map(DecisionItem::from).collect();
    Ok(Json(Page::of(items, limit, |d| d.record.to_string())))
}
