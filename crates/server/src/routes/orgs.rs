//! Organisations: listed to every key, added by an admin.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use custody_core::organisation::{Organisation, Role};
use custody_core::recipient::RecipientCategory;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::page::{Page, PageQuery};
use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

/// An organisation: a collector, broker, campaign or regulator.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: String,
    pub name: String,
    /// controller, broker, campaign or regulator
    pub role: String,
    /// Recipient categories it falls in (`data-broker`, `political-party`, ...).
    pub categories: Vec<String>,
}

impl From<Organisation> for OrgView {
    fn from(o: Organisation) -> OrgView {
        OrgView {
            id: o.id,
            name: o.name,
            role: o.role.as_str().into(),
            categories: o.categories.iter().map(|c| c.to_string()).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Lower-case letters, digits and hyphens.
    pub id: String,
    pub name: String,
    /// controller, broker, campaign or regulator
    pub role: String,
    /// Default: the role's (brokers are `data-broker`, campaigns `political-party`).
    #[serde(default)]
    pub categories: Vec<String>,
}

#[utoipa::path(get, path = "/v1/orgs", tag = "organisations", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<OrgView>), (status = 401, body = Problem)))]
pub async fn list<S: Backend>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<OrgView>>, Problem> {
    let limit = q.limit()?;
    let after = q.after.clone();
    let orgs = st
        .read(move |e| {
            let mut all =
                custody_store::Store::orgs(&e.store).map_err(custody_engine::Error::from)?;
            all.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(all
                .into_iter()
                .filter(|o| !matches!(after.as_deref(), Some(a) if o.id.as_str() <= a))
                .take(limit + 1)
                .map(OrgView::from)
                .collect())
        })
        .await?;
    Ok(Json(Page::of(orgs, limit, |o| o.id.clone())))
}

#[utoipa::path(get, path = "/v1/orgs/{org}", tag = "organisations",
    params(("org" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrgView), (status = 404, body = Problem)))]
pub async fn get<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
) -> Result<Json<OrgView>, Problem> {
    Ok(Json(st.read(move |e| Ok(e.org(&org)?.into())).await?))
}

#[utoipa::path(post, path = "/v1/orgs", tag = "organisations", request_body = NewOrg,
    security(("bearer" = [])),
    responses((status = 201, body = OrgView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add<S: Backend>(
    State(st): State<AppState<S>>,
    ApiJson(new): ApiJson<NewOrg>,
) -> Result<(StatusCode, Json<OrgView>), Problem> {
    let role: Role = new
        .role
        .parse()
        .map_err(|m: String| Problem::field(Kind::Validation, "role", m))?;
    let categories = if new.categories.is_empty() {
        role.default_categories()
    } else {
        new.categories
            .iter()
            .enumerate()
            .map(|(i, c)| {
                RecipientCategory::parse(c)
                    .map_err(|m| Problem::field(Kind::Validation, format!("categories[{i}]"), m))
            })
            .collect::<Result<_, _>>()?
    };
    let org = Organisation {
        id: new.id,
        name: new.name,
        role,
        categories,
    };
    let view = st
        .write(move |e| {
            e.add_org(&org)?;
            Ok(OrgView::from(org))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}
