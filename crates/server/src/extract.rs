//! Extractors whose rejections are problems: axum's own answer malformed
//! JSON, wrong types and bad paths in plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{FieldError, Kind, Problem};

/// A JSON body. Syntax errors are 400 `malformed-json`; a body of the wrong
/// shape (wrong types, missing or unknown fields) is 422 `validation` naming
/// the field by its JSON path; an over-limit body is 413.
pub struct ApiJson<T>(pub T);

/// The body as bytes; over the limit or too slow, a problem.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(Kind::PayloadTooLarge, "the request body is over the limit")
        } else if crate::connections::timed_out(&e) {
            body_timed_out()
        } else {
            Problem::new(Kind::InvalidRequest, e.body_text())
        }
    })
}

pub fn body_timed_out() -> Problem {
    Problem::new(
        Kind::RequestTimeout,
        "the request body did not arrive in time (see `custody serve --body-timeout`)",
    )
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".into() } else { path };
                Problem::new(Kind::Validation, format!("{field}: {inner}")).with_errors(vec![
                    FieldError {
                        field,
                        message: strip_position(&inner.to_string()),
                    },
                ])
            }
            _ => Problem::new(Kind::MalformedJson, inner.to_string()),
        }
    })?;
    de.end()
        .map_err(|e| Problem::new(Kind::MalformedJson, e.to_string()))?;
    Ok(value)
}

/// serde_json ends data errors with "at line L column C"; the path says where.
fn strip_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !json {
            return Err(Problem::new(
                Kind::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters; a bad one is 422 `validation` naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                Problem::new(Kind::Validation, format!("query {field}: {message}"))
                    .with_errors(vec![FieldError { field, message }])
            })
    }
}

/// Path parameters; one that does not parse is 404: no such resource.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| Problem::new(Kind::NotFound, e.body_text()))
    }
}

/// The route layer before a body is read: a body whose `Content-Length`
/// is over the route's limit (`limit`, in bytes) is refused with 413 at
/// once, instead of being read up to the limit first (what the client
/// sends meanwhile is read for a moment and dropped, so that it can read
/// the answer), and the connection closed.
pub async fn refuse_declared_oversize(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            crate::connections::linger(req.into_body());
            let mut res = Problem::new(
                Kind::PayloadTooLarge,
                format!("the request body is {n} bytes; this route takes at most {limit}"),
            )
            .into_response();
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            res
        }
        _ => next.run(req).await,
    }
}
