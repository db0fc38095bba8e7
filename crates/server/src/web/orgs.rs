//! Organisations as their DPO and the regulator see them: the list, one
//! organisation's notices and disclosures, a notice with what changed since
//! the version before, and a disclosure with its refusals per reason down
//! to the records (by their pseudonymous reference, never by name).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use custody_core::reason::Reason;
use maud::{html, Markup};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

use crate::auth::Principal;
use crate::state::{AppState, Backend};
use crate::web::layout::{self, num, scroll, Chart, PageError, Series};
use crate::web::wording;

pub async fn list<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
) -> Result<Response, PageError> {
    let orgs = st
        .read(|e| Ok(e.store.orgs().map_err(custody_engine::Error::from)?))
        .await?;
    let body = html! {
        h1 { "Organisations" }
        (scroll(html! {
            table {
                thead { tr { th scope="col" { "Organisation" } th scope="col" { "Role" } th scope="col" { "Identifier" } } }
                tbody {
                    @for o in &orgs {
                        tr {
                            td { a href={ "/orgs/" (o.id) } { (o.name) } }
                            td { (o.role.as_str()) }
                            td { code { (o.id) } }
                        }
                    }
                }
            }
        }, "Organisations"))
    };
    Ok(layout::page("Organisations", &who, body).into_response())
}

pub async fn overview<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let title = format!("Organisation {org}");
    let body = st
        .read(move |e| {
            let render = || -> Result<Markup, PageError> {
                let o = e.org(&org)?;
                let names = wording::org_names(e)?;
                let notices = e.notices(&org)?;
                let disclosures = e.disclosures_by(&org, None, usize::MAX)?;
                let vocab = &e.vocab;
                Ok(html! {
                    h1 { (o.name) }
                    p.lead { (o.role.as_str()) " · " code { (o.id) } }
                    p.actions {
                        a.button href={ "/orgs/" (org) "/audit" } { "Audit" }
                        " "
                        a.button.secondary href={ "/orgs/" (org) "/audit/report" } { "Printable audit report" }
                    }
                    section aria-labelledby="person" {
                        h2 #person { "One person" }
                        (crate::web::people::form(&org, None))
                    }
                    section aria-labelledby="notices" {
                        h2 #notices { "Privacy notices" }
                        @if notices.is_empty() { p { "None published." } }
                        ul {
                            @for n in &notices {
                                li {
                                    a href={ "/orgs/" (org) "/notices/" (n.version) } { "Version " (n.version) }
                                    ", in force from " (wording::date(&n.effective_text()))
                                    ", " (layout::count(n.declarations.len(), "declaration"))
                                }
                            }
                        }
                    }
                    section aria-labelledby="disclosures" {
                        h2 #disclosures { "Disclosures" }
                        @if disclosures.is_empty() { p { "None." } }
                        @else {
                            (scroll(html! {
                                table {
                                    thead { tr {
                                        th scope="col" { "#" } th scope="col" { "Date" } th scope="col" { "To" }
                                        th scope="col" { "Purposes" } th scope="col" .num { "Records" }
                                        th scope="col" .num { "Allowed" } th scope="col" .num { "Refused" }
                                    } }
                                    tbody {
                                        @for d in &disclosures {
                                            tr {
                                                td { a href={ "/orgs/" (org) "/disclosures/" (d.id) } { (d.id) } }
                                                td { (wording::day(d.at)) }
                                                td {
                                                    (wording::short(wording::org(&names, &d.to_org)))
                                                    @if let Some(b) = &d.on_behalf_of { " for " (wording::short(wording::org(&names, b))) }
                                                }
                                                td { (wording::terms(vocab, &d.purposes)) }
                                                td.num { (num(d.requested.max(0) as u64)) }
                                                @if d.gated {
                                                    td.num { (num(d.allowed.max(0) as u64)) }
                                                    td.num { (num(d.refused.max(0) as u64)) }
                                                } @else {
                                                    td colspan="2" { "not checked (history)" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }, "Disclosures"))
                        }
                    }
                })
            };
            Ok(render())
        })
        .await??;
    Ok(layout::page(&title, &who, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    /// The version to compare with; default the one before.
    from: Option<String>,
}

/// The words added and removed between two notice texts.
fn text_diff(old: &str, new: &str) -> Markup {
    let diff = TextDiff::from_words(old, new);
    html! {
        p.diff {
            @for c in diff.iter_all_changes() {
                @match c.tag() {
                    ChangeTag::Equal => (c.value()),
                    // Screen readers do not say ins and del: the words do.
                    ChangeTag::Delete => del { span.visually-hidden { "[removed: " } (c.value()) span.visually-hidden { "]" } },
                    ChangeTag::Insert => ins { span.visually-hidden { "[added: " } (c.value()) span.visually-hidden { "]" } },
                }
            }
        }
    }
}

pub async fn notice<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path((org, version)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let title = format!("Notice {version} of {org}");
    let body = st
        .read(move |e| {
            let render = || -> Result<Markup, PageError> {
                let n = e.notice(&org, Some(&version))?;
                let all = e.notices(&org)?;
                let at = all.iter().position(|x| x.version == n.version);
                let from = match &q.from {
                    Some(f) => Some(e.notice(&org, Some(f))?),
                    None => at.and_then(|i| i.checked_sub(1)).map(|i| all[i].clone()),
                };
                let diff = from
                    .as_ref()
                    .map(|f| e.diff_notices(&org, &f.version, &n.version))
                    .transpose()?;
                let vocab = &e.vocab;
                Ok(html! {
                    p { a href={ "/orgs/" (org) } { "← " (org) } }
                    h1 { "Notice version " (n.version) }
                    p.lead {
                        "In force from " (wording::date(&n.effective_text())) ". "
                        "Content hash " code { (n.content_hash) } ": published versions never change."
                    }
                    @if let Some(text) = &n.source.text {
                        blockquote.notice-text {
                            @if let Some(t) = &n.source.title { p { strong { (t) } } }
                            p { (text) }
                        }
                    }
                    h2 { "Declarations" }
                    (scroll(html! {
                        table {
                            thead { tr {
                                th scope="col" { "Declaration" } th scope="col" { "Purposes" }
                                th scope="col" { "Data" } th scope="col" { "Basis" }
                                th scope="col" { "Recipients" } th scope="col" { "Retention" }
                            } }
                            tbody {
                                @for (d, s) in n.declarations.iter().zip(&n.source.declarations) {
                                    tr {
                                        th scope="row" { (d.id) @if let Some(sum) = &s.summary { br; span.meta { (sum) } } }
                                        td { (wording::terms(vocab, &s.purposes)) }
                                        td { (wording::terms(vocab, &s.data_categories)) }
                                        td { (d.basis.as_str()) }
                                        td { (d.recipients().join(", ")) }
                                        td { (s.retention.clone().unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }, "Declarations"))
                    @if let (Some(f), Some(diff)) = (&from, &diff) {
                        section aria-labelledby="diff" {
                            h2 #diff { "What changed since version " (f.version) }
                            @if diff.added_declarations.is_empty() && diff.dropped_declarations.is_empty() && diff.changed.is_empty() {
                                p { "No declaration changed." }
                            }
                            ul.changes {
                                @for a in &diff.added_declarations { li.added { "Added declaration " strong { (a) } } }
                                @for d in &diff.dropped_declarations { li.dropped { "Dropped declaration " strong { (d) } } }
                                @for c in &diff.changed {
                                    li {
                                        "In " strong { (c.declaration) } ": "
                                        @for (k, v) in &c.added { ins { (k) " " (v) } " " }
                                        @for (k, v) in &c.dropped { del { (k) " " (v) } " " }
                                    }
                                }
                            }
                            @if let (Some(old), Some(new)) = (&f.source.text, &n.source.text) {
                                h3 { "The text, word by word" }
                                p.meta { "Added words are underlined; removed words are struck through." }
                                (text_diff(old, new))
                            }
                        }
                    }
                    @if all.len() > 1 {
                        form.inline method="get" {
                            label for="from" { "Compare with version " }
                            select #from name="from" {
                                @for other in all.iter().filter(|x| x.version != n.version) {
                                    option value=(other.version) selected[from.as_ref().is_some_and(|f| f.version == other.version)] { (other.version) }
                                }
                            }
                            " " button.secondary type="submit" { "Compare" }
                        }
                    }
                })
            };
            Ok(render())
        })
        .await??;
    Ok(layout::page(&title, &who, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RefusedQuery {
    reason: Option<String>,
    after: Option<i64>,
}

const REFUSED_PAGE: usize = 50;

pub async fn disclosure<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path((org, id)): Path<(String, i64)>,
    Query(q): Query<RefusedQuery>,
) -> Result<Response, PageError> {
    let reason = match q.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(Reason::from_id(r).ok_or_else(|| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                "Unknown reason",
                &format!("no reason is called `{r}`"),
            )
        })?),
        None => None,
    };
    let title = format!("Disclosure {id} by {org}");
    let tally = st.refusals(org.clone(), id).await?;
    let body = st
        .read(move |e| {
            let render = || -> Result<Markup, PageError> {
                let d = e.disclosure_by(&org, id)?;
                let names = wording::org_names(e)?;
                let refused = e.refused(&org, id, reason, q.after, REFUSED_PAGE)?;
                let vocab = &e.vocab;
                let chart = Chart {
                    kind: "bar",
                    axis: "Reason",
                    labels: tally.iter().map(|r| r.id.to_string()).collect(),
                    datasets: vec![Series {
                        label: "Records refused".into(),
                        data: tally.iter().map(|r| r.records).collect(),
                    }],
                    stacked: false,
                    horizontal: true,
                };
                let base = format!("/orgs/{org}/disclosures/{id}");
                Ok(html! {
                    p { a href={ "/orgs/" (org) } { "← " (wording::org(&names, &org)) } }
                    h1 { "Disclosure " (d.id) }
                    p.lead {
                        (wording::org(&names, &d.from_org)) " to " (wording::org(&names, &d.to_org))
                        @if let Some(b) = &d.on_behalf_of { " for " (wording::org(&names, b)) }
                        ", for " (wording::terms(vocab, &d.purposes))
                        ", on " (wording::day(d.at)) "."
                    }
                    dl.figures {
                        div { dt { "Records asked for" } dd { (num(d.requested.max(0) as u64)) } }
                        @if d.gated {
                            div { dt { "Allowed" } dd.allowed { (num(d.allowed.max(0) as u64)) } }
                            div { dt { "Refused" } dd.refused { (num(d.refused.max(0) as u64)) } }
                        } @else {
                            div { dt { "Checked" } dd { "no: imported history" } }
                        }
                    }
                    p.meta { "Data: " (wording::terms(vocab, &d.categories)) }
                    @if !tally.is_empty() {
                        section aria-labelledby="why" {
                            h2 #why { "Why records were refused" }
                            (layout::chart("refusals", "Records refused, by reason", &chart))
                            ul.reasons {
                                @for r in tally.iter() {
                                    li {
                                        a href={ (base) "?reason=" (r.id) "#refused" } { strong { (num(r.records)) } " " code { (r.id) } }
                                        ": " (layout::reason(r.message, r.provisions))
                                    }
                                }
                            }
                        }
                        section aria-labelledby="refused" {
                            h2 #refused {
                                "Refused records"
                                @if let Some(r) = reason { ": " code { (r.id()) } }
                            }
                            form.inline method="get" action={ (base) "#refused" } {
                                label for="reason" { "Show records refused for " }
                                select #reason name="reason" {
                                    option value="" { "any reason" }
                                    @for r in tally.iter() {
                                        option value=(r.id) selected[reason.is_some_and(|x| x.id() == r.id)] { (r.id) }
                                    }
                                }
                                " " button.secondary type="submit" { "Show" }
                            }
                            p.meta { "People appear by the reference the collector gave them, never by name." }
                            (scroll(html! {
                                table {
                                    thead { tr { th scope="col" { "Record" } th scope="col" { "Reference" } th scope="col" { "Reasons" } } }
                                    tbody {
                                        @for r in &refused.decisions {
                                            tr { td { (r.record) } td { code { (r.subject) } } td { (r.reasons.join(", ")) } }
                                        }
                                    }
                                }
                            }, "Refused records"))
                            @if refused.decisions.is_empty() {
                                p { "No more refused records" @if q.after.is_some() { " after record " (q.after.unwrap_or_default()) } "." }
                            }
                            @if let Some(next) = refused.scanned_to {
                                p {
                                    a href={ (base) "?after=" (next) @if let Some(r) = reason { "&reason=" (r.id()) } "#refused" } { "Next records" }
                                }
                            }
                        }
                    }
                })
            };
            Ok(render())
        })
        .await??;
    Ok(layout::page(&title, &who, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_diff_marks_what_was_added_and_removed() {
        let html = text_diff("share with companies", "share with the Labour Party").into_string();
        assert!(html.contains("[removed: </span>companies"), "{html}");
        assert!(html.contains("<ins>"), "{html}");
        assert!(html.contains("share with"));
    }
}
