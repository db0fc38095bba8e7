//! RFC 9457 problem details: every error the API gives is
//! `application/problem+json` with a `type` URI that is stable per kind of
//! error, so clients branch on `type`, never on the wording of `detail`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use custody_core::vocab::{TermKind, VocabError};
use custody_engine::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// Where the problem types live. `.invalid` is reserved: the URIs name, they
/// do not resolve.
pub const TYPE_BASE: &str = "https://custody.invalid/problems/";

/// Every kind of problem the API reports; the slug is the end of its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unauthenticated,
    Forbidden,
    TooManyFailures,
    NotFound,
    MethodNotAllowed,
    MalformedJson,
    UnsupportedMediaType,
    Validation,
    UnknownPurpose,
    UnknownTerm,
    InvalidNotice,
    InvalidMapping,
    InvalidRecord,
    InvalidRequest,
    Conflict,
    PayloadTooLarge,
    RequestTimeout,
    LogMismatch,
    StoreUnverified,
    Unavailable,
    Internal,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Unauthenticated,
        Kind::Forbidden,
        Kind::TooManyFailures,
        Kind::NotFound,
        Kind::MethodNotAllowed,
        Kind::MalformedJson,
        Kind::UnsupportedMediaType,
        Kind::Validation,
        Kind::UnknownPurpose,
        Kind::UnknownTerm,
        Kind::InvalidNotice,
        Kind::InvalidMapping,
        Kind::InvalidRecord,
        Kind::InvalidRequest,
        Kind::Conflict,
        Kind::PayloadTooLarge,
        Kind::RequestTimeout,
        Kind::LogMismatch,
        Kind::StoreUnverified,
        Kind::Unavailable,
        Kind::Internal,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Unauthenticated => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::TooManyFailures => "too-many-failed-authentications",
            Kind::NotFound => "not-found",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::MalformedJson => "malformed-json",
            Kind::UnsupportedMediaType => "unsupported-media-type",
            Kind::Validation => "validation",
            Kind::UnknownPurpose => "unknown-purpose",
            Kind::UnknownTerm => "unknown-term",
            Kind::InvalidNotice => "invalid-notice",
            Kind::InvalidMapping => "invalid-mapping",
            Kind::InvalidRecord => "invalid-record",
            Kind::InvalidRequest => "invalid-request",
            Kind::Conflict => "conflict",
            Kind::PayloadTooLarge => "payload-too-large",
            Kind::RequestTimeout => "request-timeout",
            Kind::LogMismatch => "log-mismatch",
            Kind::StoreUnverified => "store-unverified",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::TooManyFailures => StatusCode::TOO_MANY_REQUESTS,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::MalformedJson => StatusCode::BAD_REQUEST,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Validation
            | Kind::UnknownPurpose
            | Kind::UnknownTerm
            | Kind::InvalidNotice
            | Kind::InvalidMapping
            | Kind::InvalidRecord
            | Kind::InvalidRequest
            | Kind::LogMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Kind::Unavailable | Kind::StoreUnverified => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Unauthenticated => "Authentication required",
            Kind::Forbidden => "Not allowed for this credential",
            Kind::TooManyFailures => "Too many failed authentications",
            Kind::NotFound => "Not found",
            Kind::MethodNotAllowed => "Method not allowed",
            Kind::MalformedJson => "The body is not valid JSON",
            Kind::UnsupportedMediaType => "Unsupported media type",
            Kind::Validation => "The request does not validate",
            Kind::UnknownPurpose => "Unknown purpose",
            Kind::UnknownTerm => "Unknown vocabulary term",
            Kind::InvalidNotice => "Invalid notice",
            Kind::InvalidMapping => "Invalid collection mapping",
            Kind::InvalidRecord => "Invalid record",
            Kind::InvalidRequest => "Invalid request",
            Kind::Conflict => "Conflict",
            Kind::PayloadTooLarge => "Request body too large",
            Kind::RequestTimeout => "The request body was not sent in time",
            Kind::LogMismatch => "The log does not extend the given checkpoint",
            Kind::StoreUnverified => "The store no longer verifies against its log",
            Kind::Unavailable => "Service unavailable",
            Kind::Internal => "Internal error",
        }
    }

    pub fn type_uri(self) -> String {
        format!("{TYPE_BASE}{}", self.slug())
    }
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where in the request: a JSON path (`records[2].email`), a query
    /// parameter, or a multipart field.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable per kind of error, e.g. `https://custody.invalid/problems/unknown-purpose`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level errors of a request that did not validate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem {
            type_: kind.type_uri(),
            title: kind.title().into(),
            status: kind.status().as_u16(),
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A problem with no detail: the same bytes whatever caused it.
    pub fn bare(kind: Kind) -> Problem {
        Problem {
            detail: None,
            ..Problem::new(kind, "")
        }
    }

    pub fn field(kind: Kind, field: impl Into<String>, message: impl Into<String>) -> Problem {
        let message = message.into();
        let field = field.into();
        Problem::new(kind, format!("{field}: {message}"))
            .with_errors(vec![FieldError { field, message }])
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn is(&self, kind: Kind) -> bool {
        self.type_ == kind.type_uri()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).expect("problems serialise");
        let mut res = (self.status(), body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.is(Kind::Unauthenticated) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

/// Where a bad line of an input file sits, as the request names it.
pub type Locate<'a> = &'a dyn Fn(u64, &str) -> String;

/// An engine error as a problem. `locate` turns an input file's line and
/// field into what the client sent (`records[3].email`, or `line 5: email`).
pub fn from_engine(e: Error, locate: Locate) -> Problem {
    match e {
        Error::Vocab(VocabError::Unknown { kind, .. }) => {
            let k = if kind == TermKind::Purpose {
                Kind::UnknownPurpose
            } else {
                Kind::UnknownTerm
            };
            Problem::new(k, e.to_string())
        }
        Error::Vocab(v) => Problem::new(Kind::InvalidRequest, v.to_string()),
        Error::Notice(n) => {
            let (field, message) = match &n {
                custody_core::notice::NoticeError::Field { field, message, .. } => {
                    (field.clone(), message.clone())
                }
                custody_core::notice::NoticeError::Syntax { message, .. } => {
                    ("notice".into(), message.clone())
                }
            };
            Problem::field(Kind::InvalidNotice, field, message)
        }
        Error::Mapping(m) => Problem::field(
            Kind::InvalidMapping,
            format!("mapping.{}", m.field),
            m.message,
        ),
        Error::Input {
            line,
            field,
            message,
            ..
        } => Problem::field(Kind::InvalidRecord, locate(line, &field), message),
        Error::Field { field, message } => Problem::field(Kind::Validation, field, message),
        Error::Invalid(m) => Problem::new(Kind::InvalidRequest, m),
        Error::NotFound(m) => Problem::new(Kind::NotFound, m),
        Error::Conflict(m) => Problem::new(Kind::Conflict, m),
        Error::Store(custody_store::StoreError::Conflict(m)) => Problem::new(Kind::Conflict, m),
        // The row that differs may be anyone's: the operator's log names
        // it, the client hears that nothing was decided.
        Error::Unverified(m) => {
            tracing::error!(error = %m, "the store no longer verifies");
            Problem::new(
                Kind::StoreUnverified,
                "the store no longer verifies against its log, so nothing was decided or \
                 disclosed; the server's log names the first row that differs",
            )
        }
        other => {
            // Store, I/O and log faults are the server's: logged in full,
            // reported without paths or internals.
            tracing::error!(error = %other, "request failed");
            Problem::new(Kind::Internal, "the server could not complete the request")
        }
    }
}

/// Locates an input error in a file upload: `line N: field`.
pub fn in_file(line: u64, field: &str) -> String {
    if line == 0 {
        field.to_string()
    } else {
        format!("line {line}: {field}")
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        from_engine(e, &in_file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_type() {
        let mut slugs: Vec<&str> = Kind::ALL.iter().map(|k| k.slug()).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), Kind::ALL.len());
    }
}
