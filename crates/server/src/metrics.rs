//! Prometheus metrics: requests by route template, method and status, and
//! their latency; connections open and refused (`connections.rs`). One recorder per process (the `metrics` facade is global);
//! every router built in the process reports to it.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "custody_http_requests_total";
const LATENCY: &str = "custody_http_request_duration_seconds";
/// Connections open now, and those refused past the cap.
pub const CONNECTIONS: &str = "custody_http_connections";
pub const REFUSED: &str = "custody_http_connections_refused_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(LATENCY.into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            )
            .expect("buckets are not empty");
        let handle = match builder.install_recorder() {
            Ok(h) => h,
            // Another recorder is installed (an embedding program's): keep
            // an unattached one so /metrics still answers.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        };
        // Histogram samples wait for upkeep (a scrape does it too); without
        // a scraper they would pile up, 8 bytes a request.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            })
            .expect("a thread for metrics upkeep");
        handle
    })
}

/// The route layer that counts and times each request under its template.
pub async fn track(State(route): State<&'static str>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [
        ("route", route.to_owned()),
        ("method", method),
        ("status", status),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(LATENCY, &labels).record(start.elapsed().as_secs_f64());
    res
}
