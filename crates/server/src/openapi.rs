//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the request and response types. `docs/openapi.json` is this document,
//! checked in; a test fails when they differ (regenerate with
//! `UPDATE_OPENAPI=1 cargo nextest run -p custody-server -E 'test(the_checked_in_document)'`).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
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
    modifiers(&Security),
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
