//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the request and response types. `docs/openapi.json` is this document,
//! checked in; a test fails when they differ (regenerate with
//! `UPDATE_OPENAPI=1 cargo nextest run -p custody-server -E 'test(the_checked_in_document)'`).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::routes::*;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `custody key create` (`ck_...`): acts for its organisation, \
                         with its role (admin, collector, reader), or reads everything (regulator).",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "access_code",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The problems any operation of a kind may answer with, whatever its
/// handler declares (the extractors', the authorisation layer's and the
/// connection layer's), all as `application/problem+json`: schemathesis
/// found them answered but undocumented.
struct Problems;

const PROBLEM_JSON: &str = "application/problem+json";

impl Modify for Problems {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                document_problems(op);
            }
        }
    }
}

fn document_problems(op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let answers: [(bool, &str, &str); 10] = [
        (has_body, "400", "The body is not well-formed JSON"),
        (secured, "401", "No valid credential"),
        (secured, "403", "The credential may not do this"),
        (has_path, "404", "Nothing at this path"),
        (has_body, "408", "The body did not arrive in time"),
        (has_body, "413", "The body is over the limit"),
        (
            has_body,
            "415",
            "The body is not of a type this operation takes",
        ),
        (
            has_body || has_query,
            "422",
            "A field or query parameter is invalid",
        ),
        (secured, "429", "Too many failed authentications"),
        (
            true,
            "503",
            "The server is at its connection limit, not ready, or its store no longer verifies against its log",
        ),
    ];
    let responses = &mut op.responses.responses;
    // Declared problems are problem+json too, not plain JSON.
    for (status, response) in responses.iter_mut() {
        if let (true, RefOr::T(r)) = (status.as_str() >= "400", response) {
            if is_problem(r) {
                if let Some(content) = r.content.shift_remove("application/json") {
                    r.content.insert(PROBLEM_JSON.into(), content);
                }
            }
        }
    }
    for (applies, status, description) in answers {
        if applies && !responses.contains_key(status) {
            let mut r = Response::new(description);
            r.content.insert(
                PROBLEM_JSON.into(),
                Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                )))),
            );
            responses.insert(status.into(), RefOr::T(r));
        }
    }
}

/// Whether a response's body is a [`Problem`](crate::problem::Problem).
fn is_problem(r: &Response) -> bool {
    r.content.values().any(|c| {
        matches!(&c.schema, Some(RefOr::Ref(reference)) if reference.ref_location.ends_with("/Problem"))
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "custody",
        description = "A chain of custody for personal data under UK GDPR: notices, collection, \
consents, the disclosure gate, trace, audit and the transparency log. Errors are RFC 9457 \
problem details (`application/problem+json`) whose `type` is stable per kind of error."
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, ops::reasons,
        log::checkpoint, log::key, log::inclusion, log::consistency, log::tile,
        orgs::list, orgs::add, orgs::get,
        notices::list, notices::publish, notices::get,
        collect::batch, collect::upload,
        preferences::post, preferences::post_mine,
        disclosures::request, disclosures::list, disclosures::get, disclosures::decisions,
        subjects::trace, subjects::receipts, subjects::access_code, subjects::audit,
        me::whoami, me::trace, me::receipts,
    ),
    components(schemas(crate::problem::Problem, crate::problem::FieldError)),
    modifiers(&Security, &Problems),
)]
struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as checked in: pretty JSON and a final newline.
pub fn document_json() -> String {
    let mut s = document()
        .to_pretty_json()
        .expect("the document serialises");
    s.push('\n');
    s
}
