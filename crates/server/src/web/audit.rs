//! The audit of an organisation as a page, and as a report to print: every
//! recorded disclosure of its collected data (by it and by everyone
//! downstream) checked against what people were told and agreed to, the
//! people wronged per reason, the flows drawn as a graph, and charts over
//! time. The report adds the signed checkpoint it was made at, so a case
//! file can show later that the log still holds what the report rests on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_core::vocab::Vocabulary;
use custody_engine::audit::Audit;
use maud::{html, Markup};
use serde::Serialize;

use crate::auth::{allowed, Access, Principal};
use crate::state::{AppState, Backend};
use crate::web::layout::{self, num, scroll, Chart, PageError, Series};
use crate::web::wording;
use custody_engine::keys::KeyRole;

/// What `custody.js` draws with Cytoscape: who passed data to whom.
#[derive(Debug, Serialize)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

#[derive(Debug, Serialize)]
struct Node {
    id: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct Edge {
    from: String,
    to: String,
    label: String,
    /// Some records went in violation.
    bad: bool,
}

/// Per month, per key: a chart of counts over time.
fn over_time(
    kind: &'static str,
    rows: BTreeMap<String, BTreeMap<String, u64>>,
    keys: &BTreeSet<String>,
) -> Chart {
    Chart {
        kind,
        axis: "Month",
        labels: rows.keys().cloned().collect(),
        datasets: keys
            .iter()
            .map(|k| Series {
                label: k.clone(),
                data: rows
                    .values()
                    .map(|m| m.get(k).copied().unwrap_or(0))
                    .collect(),
            })
            .collect(),
        // Side by side, not stacked: a record refused for two reasons (or
        // sent for two purposes) counts under each, so a stack would add up
        // to more records than there were.
        stacked: false,
        horizontal: false,
    }
}

/// The audit's sections, shared by the page and the report.
/// A disclosure links to its page where `viewer` may open it (the role
/// matrix decides: the regulator every one, an organisation its own).
fn sections(
    org: &str,
    audit: &Audit,
    names: &HashMap<String, String>,
    vocab: &Vocabulary,
    viewer: &Principal,
) -> Markup {
    let name = |id: &str| wording::org(names, id).to_string();
    // Tables are narrow (a phone, A4): organisations by the names people know.
    let known = |id: &str| wording::short(wording::org(names, id)).to_string();

    let wronged = Chart {
        kind: "bar",
        axis: "Reason",
        labels: audit.reasons.iter().map(|r| r.id.to_string()).collect(),
        datasets: vec![Series {
            label: "People".into(),
            data: audit.reasons.iter().map(|r| r.records).collect(),
        }],
        stacked: false,
        horizontal: true,
    };

    let mut violations: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut reason_keys = BTreeSet::new();
    let mut by_purpose: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut purpose_keys = BTreeSet::new();
    let mut refusals: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &audit.disclosures {
        let month = wording::month(&d.at);
        let v = violations.entry(month.clone()).or_default();
        for r in &d.reasons {
            *v.entry(r.id.to_string()).or_default() += r.records;
            reason_keys.insert(r.id.to_string());
        }
        let p = by_purpose.entry(month).or_default();
        for key in &d.purposes {
            let label = wording::term(vocab, key);
            *p.entry(label.clone()).or_default() += d.disclosed;
            purpose_keys.insert(label);
        }
        for r in &d.refused_reasons {
            *refusals.entry(r.id).or_default() += r.records;
        }
    }
    let refused = Chart {
        kind: "bar",
        axis: "Reason",
        labels: refusals.keys().map(|k| k.to_string()).collect(),
        datasets: vec![Series {
            label: "Records refused".into(),
            data: refusals.values().copied().collect(),
        }],
        stacked: false,
        horizontal: true,
    };

    let mut nodes = BTreeSet::new();
    nodes.insert(org.to_string());
    for f in &audit.flows {
        nodes.insert(f.from.clone());
        nodes.insert(f.to.clone());
    }
    let graph = Graph {
        nodes: nodes
            .iter()
            .map(|id| Node {
                id: id.clone(),
                label: known(id),
            })
            .collect(),
        edges: audit
            .flows
            .iter()
            .map(|f| Edge {
                from: f.from.clone(),
                to: f.to.clone(),
                label: format!(
                    "{}\n{} in violation",
                    layout::count(f.records as usize, "record"),
                    num(f.violations)
                ),
                bad: f.violations > 0,
            })
            .collect(),
    };
    let graph = serde_json::to_string(&graph).expect("graphs serialise");

    let records_passed: u64 = audit.disclosures.iter().map(|d| d.disclosed).sum();
    html! {
        dl.figures.big {
            div {
                dt { "People whose data was passed on" }
                dd { (num(audit.people_disclosed)) }
                // A person passed on twice, or by two holders, is one person and two records.
                dd.meta #records-passed { (layout::count(records_passed as usize, "record")) ", " (layout::count(audit.people_disclosed as usize, "person")) }
            }
            div { dt { "People affected: passed on when the rules forbade it" } dd.refused #affected { (num(audit.people_wronged)) } }
            div { dt { "Disclosures examined" } dd { (num(audit.disclosures.len() as u64)) } }
        }
        section aria-labelledby="reasons" {
            h2 #reasons { "People affected, by reason" }
            @if audit.reasons.is_empty() { p { "Nobody: every disclosure kept to what people were told and agreed to." } }
            @else {
                (layout::chart("wronged", "People affected, by reason", &wronged))
                ul.reasons {
                    @for r in &audit.reasons {
                        // Counted per person (all their copies together), not per record.
                        li { strong { (layout::count(r.records as usize, "person")) } " " code { (r.id) } ": " (layout::reason(r.message, r.provisions)) }
                    }
                }
            }
        }
        section aria-labelledby="flows" {
            h2 #flows { "Who passed the data to whom" }
            figure.graph aria-labelledby="flows-caption" {
                figcaption #flows-caption { "Flows of " (name(org)) "'s collected data; red where records went in violation." }
                div.cy #flow-graph data-graph=(graph) role="img" aria-label="A graph of the flows listed in the table below" {}
            }
            (scroll(html! {
                table {
                    thead { tr { th scope="col" { "From" } th scope="col" { "To" } th scope="col" .num { "Records" } th scope="col" .num { "In violation" } } }
                    tbody {
                        @for f in &audit.flows {
                            tr { td { (known(&f.from)) } td { (known(&f.to)) } td.num { (num(f.records)) } td.num { (num(f.violations)) } }
                        }
                    }
                }
            }, "Flows"))
        }
        section aria-labelledby="time" {
            h2 #time { "Over time" }
            div.charts {
                (layout::chart("violations", "Records passed on in violation, per reason, by month", &over_time("bar", violations, &reason_keys)))
                (layout::chart("purposes", "Records passed on, per purpose, by month", &over_time("bar", by_purpose, &purpose_keys)))
                @if !refusals.is_empty() {
                    (layout::chart("gate", "Records custody refused at the gate, by reason", &refused))
                }
            }
        }
        section aria-labelledby="each" {
            h2 #each { "Each disclosure" }
            (scroll(html! {
                table {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Date" } th scope="col" { "From" } th scope="col" { "To" }
                        th scope="col" { "Purposes" } th scope="col" { "Checked" } th scope="col" .num { "Passed on" }
                        th scope="col" .num { "Refused at the gate" } th scope="col" .num { "In violation" }
                    } }
                    tbody {
                        @for d in &audit.disclosures {
                            tr {
                                td {
                                    @if allowed(Access::Org(KeyRole::Reader), viewer, Some(&d.from)) {
                                        a href={ "/orgs/" (d.from) "/disclosures/" (d.disclosure) } { (d.disclosure) }
                                    } @else { (d.disclosure) }
                                }
                                td { (wording::date(&d.at)) }
                                td { (known(&d.from)) }
                                td { (known(&d.to)) @if let Some(b) = &d.on_behalf_of { " for " (known(b)) } }
                                td { (wording::terms(vocab, &d.purposes)) }
                                td { @if d.gated { "by custody" } @else { "no (history)" } }
                                td.num { (num(d.disclosed)) }
                                td.num { (num(d.refused_at_gate)) }
                                td.num { (num(d.violations)) }
                            }
                        }
                    }
                }
            }, "Disclosures audited"))
        }
    }
}

pub async fn page<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let (_, audit) = st.audit(org.clone()).await?;
    let title = format!("Audit of {org}");
    let viewer = who.clone();
    let body = st
        .read(move |e| {
            let o = e.org(&org)?;
            let names = wording::org_names(e)?;
            Ok(html! {
                p { a href={ "/orgs/" (org) } { "← " (o.name) } }
                h1 { "Audit of " (o.name) }
                p.lead {
                    "Every recorded disclosure of the data " (o.name) " collected, by it and by everyone downstream, "
                    "checked again against the notice each person was shown and the choices they had made by then."
                }
                p.actions { a.button href={ "/orgs/" (org) "/audit/report" } { "Printable report" } }
                (sections(&org, &audit, &names, &e.vocab, &viewer))
            })
        })
        .await?;
    Ok(layout::page(&title, &who, body).into_response())
}

pub async fn report<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let (size, audit) = st.audit(org.clone()).await?;
    let viewer = who.clone();
    let by = match &who {
        Principal::Key(k) => match &k.org {
            Some(o) => format!("a {} key of {o} ({})", k.role.as_str(), k.id),
            None => format!("a regulator key ({})", k.id),
        },
        _ => String::new(),
    };
    let body = st
        .read(move |e| {
            let o = e.org(&org)?;
            // The checkpoint signed at the size the audit was made at: the
            // figures rest on exactly that tree.
            let (checkpoint, note) = e.signed_checkpoint(size)?;
            let names = wording::org_names(e)?;
            let now = chrono::Utc::now();
            Ok(html! {
                header.report {
                    p.meta { "custody audit report" }
                    h1 { (o.name) }
                    dl.case {
                        div { dt { "Organisation" } dd { (o.name) " (" code { (o.id) } ", " (o.role.as_str()) ")" } }
                        div { dt { "Made" } dd { (now.format("%-d %B %Y, %H:%M UTC")) " by " (by) } }
                        div { dt { "Log" } dd { code { (checkpoint.origin) } ", " (num(checkpoint.size)) " entries" } }
                        div { dt { "Root hash" } dd { code.hash { (BASE64_STANDARD.encode(checkpoint.root)) } } }
                        div { dt { "Log key" } dd { code.hash { (e.verifier_key()) } } }
                    }
                    p.noprint { button type="button" data-print="" { "Print or save as PDF" } }
                }
                (sections(&org, &audit, &names, &e.vocab, &viewer))
                section.anchor aria-labelledby="anchor" {
                    h2 #anchor { "What this report rests on" }
                    p {
                        "The figures above were computed from the entries of the transparency log up to the "
                        "signed checkpoint below. Keep it with the case file: later, "
                        code { "custody log verify --from CHECKPOINT" } " (or the log page's consistency check) "
                        "proves that the log still holds, unchanged, everything this report was made from."
                    }
                    pre.checkpoint { (note) }
                }
            })
        })
        .await?;
    Ok(layout::document("Audit report", body).into_response())
}
