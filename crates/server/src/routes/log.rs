//! The transparency log, public: it holds no personal data in clear (people
//! appear as keyed commitments), and witnesses and tlog-tiles clients fetch
//! without credentials. `/v1/log` is a C2SP tlog-tiles prefix:
//! `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_log::tiles::TileId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{body_bytes, ApiPath, ApiQuery};
use crate::problem::{Kind, Problem};
use crate::state::{AppState, Backend};

fn text(body: String, cache: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

#[utoipa::path(get, path = "/v1/log/checkpoint", tag = "log",
    responses((status = 200, content_type = "text/plain", body = String, description = "the latest signed checkpoint (C2SP tlog-checkpoint)")))]
pub async fn checkpoint<S: Backend>(State(st): State<AppState<S>>) -> Result<Response, Problem> {
    let note = st.read(|e| Ok(e.checkpoint()?)).await?;
    // Mutable: cached for seconds at most, as tlog-tiles asks.
    Ok(text(note, "max-age=2"))
}

#[utoipa::path(get, path = "/v1/log/key", tag = "log",
    responses((status = 200, content_type = "text/plain", body = String, description = "the verifier key, `<origin>+<key id>+<base64 key>`")))]
pub async fn key<S: Backend>(State(st): State<AppState<S>>) -> Result<Response, Problem> {
    let k = st.read(|e| Ok(e.verifier_key())).await?;
    Ok(text(format!("{k}\n"), "max-age=3600"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's index.
    pub index: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionView {
    pub index: u64,
    /// The entry's bytes, base64.
    pub entry: String,
    /// The RFC 6962 inclusion proof, base64 hashes, against `checkpoint`.
    pub proof: Vec<String>,
    pub checkpoint: String,
}

#[utoipa::path(get, path = "/v1/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionView), (status = 404, body = Problem)))]
pub async fn inclusion<S: Backend>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionView>, Problem> {
    let (entry, proof, checkpoint) = st.read(move |e| Ok(e.inclusion(q.index)?)).await?;
    Ok(Json(InclusionView {
        index: q.index,
        entry: BASE64_STANDARD.encode(entry),
        proof: proof.iter().map(|h| BASE64_STANDARD.encode(h)).collect(),
        checkpoint,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyView {
    pub from_size: u64,
    pub to_size: u64,
    /// Base64 hashes: the RFC 6962 consistency proof to the latest checkpoint.
    pub proof: Vec<String>,
}

#[utoipa::path(post, path = "/v1/log/proof/consistency", tag = "log",
    request_body(content = String, content_type = "text/plain", description = "a checkpoint of this log you kept"),
    responses((status = 200, body = ConsistencyView), (status = 422, body = Problem)))]
pub async fn consistency<S: Backend>(
    State(st): State<AppState<S>>,
    req: Request,
) -> Result<Json<ConsistencyView>, Problem> {
    let bytes: Bytes = body_bytes(req, &()).await?;
    let old = String::from_utf8(bytes.to_vec())
        .map_err(|_| Problem::field(Kind::Validation, "body", "a checkpoint is UTF-8 text"))?;
    let c = st
        .read(move |e| {
            e.consistency(&old).map_err(|err| match err {
                // The given checkpoint is the client's: say why it fails.
                custody_engine::Error::Log(m) => Problem::new(Kind::LogMismatch, m),
                other => other.into(),
            })
        })
        .await?;
    Ok(Json(ConsistencyView {
        from_size: c.from_size,
        to_size: c.to_size,
        proof: c.proof,
    }))
}

#[utoipa::path(get, path = "/v1/log/tile/{path}", tag = "log",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (C2SP tlog-tiles)")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn tile<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(path): ApiPath<String>,
) -> Result<Response, Problem> {
    let full = format!("tile/{path}");
    let not_found = || Problem::new(Kind::NotFound, format!("no tile at {full}"));
    let (id, entries) = if path.starts_with("entries/") {
        (TileId::parse_entries(&full).map_err(|_| not_found())?, true)
    } else {
        (TileId::parse(&full).map_err(|_| not_found())?, false)
    };
    let bytes = st
        .read(move |e| {
            Ok(if entries {
                e.entry_bundle(id)?
            } else {
                e.tile(id)?
            })
        })
        .await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // Immutable: a tile at a path never changes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}
