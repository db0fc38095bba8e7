//! The transparency log as a page, open to anyone (it holds no personal
//! data): the latest signed checkpoint, how the log grew, and a
//! consistency check between two checkpoints with its verdict in words.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Principal;
use crate::state::{AppState, Backend};
use crate::web::layout::{self, num, Chart, PageError, Series};

#[derive(Debug, Deserialize)]
pub struct Check {
    /// Sizes of two signed checkpoints to check one extends the other.
    old: Option<u64>,
    new: Option<u64>,
    /// A checkpoint someone kept (the signed note), to check the log now
    /// extends it.
    kept: Option<String>,
}

/// At most this many points in the growth chart: a log signed under load
/// has tens of thousands of checkpoints.
const POINTS: usize = 200;

pub async fn page<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<Check>,
) -> Result<Response, PageError> {
    let body = st
        .read(move |e| {
            let (checkpoint, note) = e.latest()?;
            let times = e.checkpoint_times()?;
            let step = times.len().div_ceil(POINTS).max(1);
            let mut points: Vec<_> = times.iter().step_by(step).collect();
            if let Some(last) = times.last() {
                if points.last() != Some(&last) {
                    points.push(last);
                }
            }
            let growth = Chart {
                kind: "line",
                axis: "Signed",
                labels: points.iter().map(|(_, at)| at.format("%Y-%m-%d %H:%M").to_string()).collect(),
                datasets: vec![Series {
                    label: "Entries".into(),
                    data: points.iter().map(|(size, _)| *size).collect(),
                }],
                stacked: false,
                horizontal: false,
            };
            let said = |c: custody_engine::log::Consistency, from: &str| html! {
                div.notice.good role="status" #verdict {
                    p { strong { "Consistent." } " The log of " (num(c.to_size)) " entries contains, unchanged, "
                        "the log of " (num(c.from_size)) " entries " (from) ": nothing in it was rewritten or removed." }
                    p.meta { "Checked with a consistency proof of " (c.proof.len()) " hashes (RFC 6962) against the two signed roots." }
                }
            };
            let refused = |err: custody_engine::Error| html! {
                div.notice.bad role="alert" #verdict {
                    p { strong { "Not shown consistent." } " " (err.to_string()) }
                }
            };
            let kept = q.kept.as_deref().map(str::trim).filter(|k| !k.is_empty());
            let verdict: Option<Markup> = match (kept, q.old, q.new) {
                // The strong check: against a checkpoint the asker kept, which
                // custody cannot have rewritten since.
                // (Browsers send a textarea's lines ended by CRLF.)
                (Some(note), _, _) => Some(match e.consistency(&format!("{}\n", note.replace("\r\n", "\n"))) {
                    Ok(c) => said(c, "under the checkpoint you kept"),
                    Err(err) => refused(err),
                }),
                (None, Some(old), Some(new)) => Some(match e.consistency_between(old, new) {
                    Ok(c) => said(c, "signed earlier"),
                    Err(err) => refused(err),
                }),
                _ => None,
            };
            // The first checkpoint with entries: checking from the empty tree proves nothing.
            let first = times.iter().map(|t| t.0).find(|s| *s > 0).unwrap_or(0);
            Ok(html! {
                h1 { "The transparency log" }
                p.lead {
                    "Every notice, collection, consent, disclosure and decision custody records is an entry in an append-only "
                    "Merkle tree (RFC 6962), signed as C2SP checkpoints. Entries name people only by keyed commitments."
                }
                section aria-labelledby="latest" {
                    h2 #latest { "Latest checkpoint" }
                    dl.figures {
                        div { dt { "Entries" } dd #log-size { (num(checkpoint.size)) } }
                        div { dt { "Signed checkpoints" } dd { (num(times.len() as u64)) } }
                    }
                    p { "Log " code { (checkpoint.origin) } ", verified with the key " code.hash { (e.verifier_key()) } "." }
                    pre.checkpoint { (note) }
                }
                section aria-labelledby="growth" {
                    h2 #growth { "Size over time" }
                    (layout::chart("log-growth", "Entries in the log, at each signed checkpoint", &growth))
                }
                section aria-labelledby="check" {
                    h2 #check { "Check that the log was never rewritten" }
                    @if let Some(v) = verdict { (v) }
                    p { "Paste a checkpoint you kept (from this page, a receipt, or "
                        code { "custody log checkpoint" } " on an earlier day). custody proves that the log now "
                        "contains that tree unchanged, and the proof is checked here against both signed roots." }
                    form method="get" action="/log#check" {
                        label for="kept" { "A checkpoint you kept" }
                        textarea #kept name="kept" rows="5" spellcheck="false" required
                            aria-describedby="kept-help" { (kept.unwrap_or("")) }
                        p #kept-help .help { "Four lines or more: the origin, the size, the root hash, a blank line, and the signature." }
                        button type="submit" { "Check against the log now" }
                    }
                    h3 { "Between two checkpoints custody signed" }
                    p { "Or give the sizes of two checkpoints custody signed and stored. This shows the stored "
                        "checkpoints agree with each other; only a checkpoint kept outside custody shows the log "
                        "was not rewritten and signed again." }
                    form.check method="get" action="/log#check" {
                        div {
                            label for="old" { "Older checkpoint size" }
                            input #old name="old" type="number" min="0" inputmode="numeric" required value=(q.old.unwrap_or(first));
                        }
                        div {
                            label for="new" { "Newer checkpoint size" }
                            input #new name="new" type="number" min="0" inputmode="numeric" required value=(q.new.unwrap_or(checkpoint.size));
                        }
                        button type="submit" { "Check consistency" }
                    }
                    p.meta { "The same check from the command line: " code { "custody log verify --from CHECKPOINT_FILE" } }
                }
            })
        })
        .await?;
    Ok(layout::page("Transparency log", &who, body).into_response())
}
