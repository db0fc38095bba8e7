//! The files pages load, embedded in the binary: the stylesheet, the small
//! script that draws charts and the flow graph, and the two libraries it
//! draws them with (Chart.js and Cytoscape.js, MIT; their licences are
//! beside them in `assets/vendor`, and `assets/vendor/README.md` says where
//! they came from).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "custody.css",
        "text/css",
        include_bytes!("../../assets/custody.css"),
    ),
    (
        "custody.js",
        "text/javascript",
        include_bytes!("../../assets/custody.js"),
    ),
    (
        "chart.umd.min.js",
        "text/javascript",
        include_bytes!("../../assets/vendor/chart.umd.min.js"),
    ),
    (
        "cytoscape.min.js",
        "text/javascript",
        include_bytes!("../../assets/vendor/cytoscape.min.js"),
    ),
];

/// Where a page links `name`: the version in the query, so a new binary's
/// files are fetched afresh whatever the browser kept.
pub fn url(name: &str) -> String {
    format!("/assets/{name}?v={}", env!("CARGO_PKG_VERSION"))
}

pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(kind)),
                (
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
