//! One person, looked up by an investigator or the organisation by the
//! reference the organisation gave them: what they were told, what they
//! chose, every disclosure of their record with its outcome and reasons,
//! and who holds it now. People appear by reference, never by name.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Principal;
use crate::state::{AppState, Backend};
use crate::web::layout::{self, PageError};
use crate::web::wording;

#[derive(Debug, Deserialize)]
pub struct Lookup {
    /// The person's reference at the organisation: ED00000010.
    subject: Option<String>,
}

/// The form, and the person when one is asked for.
pub async fn page<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path(org): Path<String>,
    Query(q): Query<Lookup>,
) -> Result<Response, PageError> {
    let subject = q
        .subject
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let title = match &subject {
        Some(s) => format!("{s} at {org}"),
        None => format!("Look up a person at {org}"),
    };
    let body = st
        .read(move |e| {
            let names = wording::org_names(e)?;
            let found = subject.as_ref().map(|s| e.trace(&org, s));
            Ok(html! {
                p { a href={ "/orgs/" (org) } { "← " (wording::org(&names, &org)) } }
                h1 { "Look up a person" }
                (form(&org, subject.as_deref()))
                @match found {
                    None => {},
                    Some(Ok(t)) => (person(e, &names, &t)),
                    Some(Err(err)) => div.notice.bad role="alert" { p { (err.to_string()) } },
                }
            })
        })
        .await
        .map_err(PageError::from)?;
    Ok(layout::page(&title, &who, body).into_response())
}

/// The lookup form, on this page and on the organisation's.
pub fn form(org: &str, subject: Option<&str>) -> Markup {
    html! {
        form.lookup method="get" action={ "/orgs/" (org) "/people" } {
            label for="subject" { "Look up a person by their reference at " (org) }
            input #subject name="subject" type="text" required autocomplete="off" value=[subject];
            button type="submit" { "Look up" }
        }
    }
}

fn person<S: custody_store::Store>(
    e: &custody_engine::Engine<S>,
    names: &std::collections::HashMap<String, String>,
    t: &custody_engine::trace::Trace,
) -> Markup {
    let vocab = &e.vocab;
    let name = |id: &str| wording::org(names, id).to_string();
    let refused = t
        .disclosures
        .iter()
        .filter(|d| d.outcome == "refused")
        .count();
    html! {
        h2 { (t.subject) }
        p.lead {
            "Collected by " (name(&t.collected_by)) " on " (wording::date(&t.collected_at))
            " under notice version " (t.notice.version) ". "
            (layout::count(t.disclosures.len(), "disclosure")) " of the record, "
            (refused) " refused; held now by " (layout::count(1 + t.holders.len(), "organisation")) "."
        }
        h3 { "Consents and objections" }
        p { "Ticked at collection: " @if t.consented.is_empty() { "none" } @else { (t.consented.join(", ")) } "." }
        @if !t.preferences.is_empty() {
            ul {
                @for p in &t.preferences {
                    li {
                        (wording::date(&p.at)) ": "
                        (custody_engine::log::receipt::preference_in_words(&p.action, p.purpose.as_deref()))
                        @if let Some(n) = &p.notice { " (under notice version " (n) ")" }
                    }
                }
            }
        }
        h3 { "Disclosures" }
        @if t.disclosures.is_empty() { p { "None." } }
        ol {
            @for d in &t.disclosures {
                li {
                    (wording::date(&d.at)) ": "
                    a href={ "/orgs/" (d.from) "/disclosures/" (d.disclosure) } { "disclosure " (d.disclosure) }
                    " from " (name(&d.from)) " to " (name(&d.to))
                    @if let Some(o) = &d.on_behalf_of { " for " (name(o)) }
                    ", for " (wording::terms(vocab, &d.purposes)) ": " strong { (d.outcome) }
                    @if !d.reasons.is_empty() {
                        ul.reasons {
                            @for r in d.reasons.iter() {
                                li { code { (r.id()) } " " (layout::reason(r.message(), r.provisions())) }
                            }
                        }
                    }
                }
            }
        }
        h3 { "Held by" }
        ul {
            li { (name(&t.collected_by)) ", the collector, since " (wording::date(&t.collected_at)) }
            @for h in &t.holders {
                li {
                    (name(&h.org)) " since " (wording::date(&h.since)) ", from " (name(&h.from))
                    ", for " (wording::terms(vocab, &h.purposes))
                }
            }
        }
    }
}
