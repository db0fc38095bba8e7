//! The person's own page, opened with their access code and nothing else:
//! what they were told, what they agreed to, every time their data was
//! passed on or refused and why, who holds it now, their choices (changed
//! in a click), and their receipts.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use custody_core::basis::LegalBasis;
use custody_core::preference::ConsentStatus;
use custody_core::reason::ReasonSet;
use custody_engine::access::CodeHolder;
use custody_engine::preferences::{Change, PreferenceRequest};
use custody_engine::Engine;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Principal;
use crate::state::{AppState, Backend};
use crate::web::layout::{self, PageError};
use crate::web::wording;

fn holder(who: &Principal) -> Result<CodeHolder, PageError> {
    match who {
        Principal::Subject(h) => Ok(h.clone()),
        _ => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Not yours to see",
            "This page is for the person the data is about, with their access code.",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct Changed {
    changed: Option<String>,
    purpose: Option<String>,
}

fn reasons(set: ReasonSet) -> Markup {
    html! {
        ul.reasons {
            @for r in set.iter() {
                li { (layout::reason_to_you(r.to_you(), r.provisions())) }
            }
        }
    }
}

/// One entry of the timeline, in date order.
enum Event<'a> {
    Collected,
    Preference(&'a custody_engine::trace::PreferenceStep),
    Disclosure(&'a custody_engine::trace::DisclosureStep),
}

fn render<S: custody_store::Store>(
    engine: &Engine<S>,
    me: &CodeHolder,
    changed: &Changed,
) -> Result<Markup, PageError> {
    let trace = engine.trace(&me.org, &me.subject)?;
    let names: HashMap<String, String> = wording::org_names(engine)?;
    let standing = engine.consent_standing(&me.org, &me.subject, chrono::Utc::now())?;
    let receipts = engine.receipt_proofs(&me.org, &me.subject)?;
    let notice = engine.notice(&me.org, Some(&trace.notice.version))?;
    // The notice her choices stand under: a newer one she re-consented to.
    let shown = engine.notice(&me.org, Some(&standing.notice))?;
    let vocab = &engine.vocab;
    let name = |id: &str| wording::org(&names, id).to_string();
    let collector = name(&trace.collected_by);

    let mut events: Vec<(&str, Event)> = vec![(trace.collected_at.as_str(), Event::Collected)];
    events.extend(
        trace
            .preferences
            .iter()
            .map(|p| (p.at.as_str(), Event::Preference(p))),
    );
    events.extend(
        trace
            .disclosures
            .iter()
            .map(|d| (d.at.as_str(), Event::Disclosure(d))),
    );
    // Stable: on the same instant, collection, then choices, then disclosures.
    events.sort_by(|a, b| a.0.cmp(b.0));
    let refused = trace
        .disclosures
        .iter()
        .filter(|d| d.outcome == "refused")
        .count();

    // What the collector holds her data for: every purpose of the notice
    // her record stands under.
    let mut collector_purposes: Vec<String> = shown
        .source
        .declarations
        .iter()
        .flat_map(|d| d.purposes.iter().cloned())
        .collect();
    collector_purposes.dedup();
    let holders = 1 + trace.holders.len();

    Ok(html! {
        h1 { "Where your data went" }
        p.lead {
            @if holders == 1 { "One organisation holds your data:" }
            @else { (holders) " organisations hold your data:" }
        }
        ul.holders #holders {
            li {
                strong { (collector) } ", who collected it on " (wording::date(&trace.collected_at))
                ", for " (wording::terms(vocab, &collector_purposes)) "."
            }
            @for h in &trace.holders {
                li {
                    strong { (name(&h.org)) } ", since " (wording::date(&h.since))
                    ", who got it from " (name(&h.from)) ", for " (wording::terms(vocab, &h.purposes)) "."
                }
            }
        }
        p {
            "Passing your data on was asked for or recorded "
            (trace.disclosures.len()) @if trace.disclosures.len() == 1 { " time; " } @else { " times; " }
            (refused) " of those " @if refused == 1 { "was" } @else { "were" } " refused. Your reference with "
            (collector) " is " strong { (trace.subject) } "."
        }
        @if let Some(action) = changed.changed.as_deref().filter(|a| Change::parse(a, "x").is_ok()) {
            div.notice.good role="status" {
                p {
                    "Done: " (wording::preference(vocab, action, changed.purpose.as_deref().filter(|p| vocab.get(p).is_some()))) " today. "
                    "It is in the timeline below, and every request for your data from now on is checked against it."
                }
            }
        }
        nav.toc aria-label="On this page" {
            ul {
                li { a href="#holders" { "Who has your data" } }
                li { a href="#told" { "What you were told" } }
                li { a href="#choices" { "Your choices" } }
                li { a href="#timeline" { "Timeline" } }
                li { a href="#next" { "What you can do next" } }
                li { a href="#receipts" { "Your receipts" } }
            }
        }

        section aria-labelledby="told" {
            h2 #told { "What you were told" }
            p {
                "When you signed up, " (collector) " showed you its privacy notice "
                strong { "version " (trace.notice.version) } ", in force from "
                (wording::date(&trace.notice.effective)) "."
                @if let Some(url) = &trace.notice.url { " It was published at " span.url { (url) } "." }
            }
            @if let Some(text) = &trace.notice.text {
                blockquote.notice-text {
                    @if let Some(title) = &trace.notice.title { p { strong { (title) } } }
                    p { (text) }
                }
            }
            h3 { "What it said your data would be used for" }
            ul.declarations {
                @for (d, src) in notice.declarations.iter().zip(&notice.source.declarations) {
                    li {
                        strong { (src.summary.clone().unwrap_or_else(|| d.id.clone())) }
                        " "
                        span.meta {
                            (wording::terms(vocab, &src.purposes)) ", "
                            (wording::basis(d.basis.as_str()))
                        }
                        br;
                        span.data { "Your data used for this: " (wording::terms(vocab, &src.data_categories)) }
                        @if d.basis == LegalBasis::Consent {
                            @if trace.consented.contains(&d.id) {
                                " " span.badge.allowed { "You ticked this box" }
                            } @else {
                                " " span.badge { "You did not tick this box" }
                            }
                        }
                    }
                }
            }
        }

        section aria-labelledby="choices" {
            h2 #choices { "Your choices" }
            p { "Change your mind at any time. A change counts from the moment you make it." }
            p {
                "As " (collector) "'s notice version " (standing.notice) " asks. "
                "Withdrawing consent for a purpose withdraws it for every narrower purpose too."
            }
            ul.choices {
                @for c in &standing.consents {
                    @let label = wording::term(vocab, &c.purpose);
                    li {
                        span {
                            strong { (label) } " "
                            span.meta { "(" (c.summary.clone().unwrap_or_else(|| c.declaration.clone())) ")" }
                            @if let Some(d) = shown.source.declarations.iter().find(|d| d.id == c.declaration) {
                                " " span.data { "covering your " (wording::terms(vocab, &d.data_categories)) }
                            }
                            ": "
                            @match (c.status, &c.since) {
                                (ConsentStatus::Given, None) => { "you agreed when you signed up." }
                                (ConsentStatus::Given, Some(at)) => { "you agreed on " (wording::date(at)) "." }
                                (ConsentStatus::Withdrawn, Some(at)) => { "you withdrew consent on " (wording::date(at)) "." }
                                (ConsentStatus::Uninformed, _) => { "you agreed before you had been told of this, so it does not count; they must ask you again." }
                                (_, _) => { "you have not agreed." }
                            }
                        }
                        form method="post" action="/me/preferences" {
                            input type="hidden" name="purpose" value=(c.purpose);
                            @if c.status == ConsentStatus::Given {
                                input type="hidden" name="action" value="withdraw";
                                button type="submit" { "Withdraw consent for " (label) }
                            } @else {
                                input type="hidden" name="action" value="give";
                                button.secondary type="submit" { "Give consent for " (label) }
                            }
                        }
                    }
                }
                li {
                    span {
                        strong { "Objection to direct marketing" } ": "
                        @match &standing.objected_since {
                            Some(since) => { "you objected on " (wording::date(since)) ". Nobody may use your data to market to you." }
                            None => { "you have not objected." }
                        }
                    }
                    form method="post" action="/me/preferences" {
                        @if standing.objected_since.is_some() {
                            input type="hidden" name="action" value="withdraw-objection";
                            button.secondary type="submit" { "Withdraw my objection" }
                        } @else {
                            input type="hidden" name="action" value="object-direct-marketing";
                            button type="submit" { "Object to direct marketing" }
                        }
                    }
                }
            }
        }

        section aria-labelledby="timeline" {
            h2 #timeline { "Timeline" }
            ol.timeline {
                @for (at, e) in &events {
                    @match e {
                        Event::Collected => li.collected {
                            time datetime=(at) { (wording::date(at)) }
                            p { (collector) " collected your data under notice version " (trace.notice.version) "." }
                        },
                        Event::Preference(p) => li.choice {
                            time datetime=(at) { (wording::date(at)) }
                            p {
                                (wording::preference(vocab, &p.action, p.purpose.as_deref())) "."
                                @if let Some(n) = &p.notice { " (under notice version " (n) ")" }
                            }
                        },
                        Event::Disclosure(d) => {
                            @let (said, class) = wording::outcome(d.outcome);
                            li class=(class) {
                                time datetime=(at) { (wording::date(at)) }
                                p {
                                    (name(&d.from)) " asked to pass your data to " strong { (name(&d.to)) }
                                    @if let Some(o) = &d.on_behalf_of { " for " (name(o)) }
                                    " for " strong { (wording::terms(vocab, &d.purposes)) } "."
                                }
                                p { span class={ "badge " (class) } { (said) } }
                                p.meta { "What: " (wording::terms(vocab, &d.categories)) }
                                @if !d.reasons.is_empty() {
                                    p { "Why it was refused:" }
                                    (reasons(d.reasons))
                                }
                                @if d.outcome == "disclosed" {
                                    p.meta { "custody did not check this one when it happened: it was recorded afterwards, from the organisations' own records, so that it can be audited." }
                                }
                            }
                        }
                    }
                }
            }
        }

        section aria-labelledby="next" {
            h2 #next { "What you can do next" }
            ul.next-steps {
                li {
                    strong { "See everything they hold about you." } " Ask " (collector)
                    " for a copy of your data (a subject access request). They must answer within one month."
                }
                li {
                    strong { "Have it corrected or erased." } " Ask "
                    (collector)
                    @for h in &trace.holders { ", " (name(&h.org)) }
                    " to correct what is wrong or to erase your data. Each must tell those it passed your data to (UK GDPR Art 16, 17 and 19)."
                }
                li {
                    strong { "Change your mind." } " Withdraw your consent or object to direct marketing "
                    a href="#choices" { "above" } ": it counts from the moment you do."
                }
                li {
                    strong { "Complain." } " If you are unhappy with how your data was used, or with an answer, you can complain to the Information Commissioner's Office (ICO), the UK's regulator: "
                    a href="https://ico.org.uk/make-a-complaint/" rel="noopener" { "ico.org.uk/make-a-complaint" }
                    " or 0303 123 1113."
                }
            }
        }

        section aria-labelledby="receipts" {
            h2 #receipts { "Your receipts" }
            p {
                "A receipt is proof that one event above was written down when it happened, and has not been changed since. "
                "It names you only by a code that nobody can turn back into your details. "
                "Keep the files: if anyone later denies an event or changes what was recorded, your receipt shows it, "
                "and anyone can check it without asking " (collector) " or custody."
            }
            details.for-engineers {
                summary { "For engineers: how to check a receipt" }
                p {
                    "Each file is a C2SP tlog-proof: the entry's bytes, its Merkle inclusion proof and the signed checkpoint of custody's append-only log. Check it offline with the log's public key:"
                }
                p { code { "custody verify-receipt FILE --key " (engine.verifier_key()) } }
            }
            ul.receipts {
                @for r in &receipts {
                    li {
                        span { "Entry " (layout::num(r.index)) " of the log: " (r.summary) "." }
                        " "
                        a href={ "/me/receipts/" (r.index) } download { "Download receipt " span.visually-hidden { "for entry " (r.index) } }
                    }
                }
            }
        }
    })
}

pub async fn page<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Query(changed): Query<Changed>,
) -> Result<Response, PageError> {
    let me = holder(&who)?;
    let body = st
        .read(move |e| Ok(render(e, &me, &changed)))
        .await
        .map_err(PageError::from)??;
    Ok(layout::page("Where your data went", &who, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    action: String,
    purpose: Option<String>,
}

/// A change of mind, appended as an event; back to the page, which shows it.
pub async fn change<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    let me = holder(&who)?;
    let change = Change::parse(&f.action, f.purpose.as_deref().unwrap_or("")).map_err(|m| {
        PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "That change was not understood",
            &m,
        )
    })?;
    let (org, subject) = (me.org.clone(), me.subject.clone());
    st.write(move |e| {
        Ok(e.record_preference(&PreferenceRequest {
            org: &org,
            subject: &subject,
            change: &change,
            at: chrono::Utc::now(),
            notice: None,
            source: "web:subject",
        })?)
    })
    .await?;
    let mut to = format!(
        "/me?changed={}",
        form_urlencoded::byte_serialize(f.action.as_bytes()).collect::<String>()
    );
    if let Some(p) = &f.purpose {
        to.push_str("&purpose=");
        to.extend(form_urlencoded::byte_serialize(p.as_bytes()));
    }
    to.push_str("#timeline");
    Ok((
        StatusCode::SEE_OTHER,
        [(
            LOCATION,
            HeaderValue::from_str(&to)
                .map_err(|_| PageError::new(StatusCode::BAD_REQUEST, "Bad request", ""))?,
        )],
    )
        .into_response())
}

/// One receipt, as the C2SP tlog-proof file `custody verify-receipt` reads.
pub async fn receipt<S: Backend>(
    State(st): State<AppState<S>>,
    Extension(who): Extension<Principal>,
    Path(index): Path<u64>,
) -> Result<Response, PageError> {
    let me = holder(&who)?;
    let subject = me.subject.clone();
    let found = st
        .read(move |e| Ok(e.receipt_proofs(&me.org, &me.subject)?))
        .await?
        .into_iter()
        .find(|r| r.index == index)
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                "No such receipt",
                "None of your receipts is for that entry.",
            )
        })?;
    // The reference is the collector's; keep only what is safe in a file name.
    let safe: String = subject
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let file = format!("attachment; filename=\"{safe}-{index}.tlog-proof\"");
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&file).unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        found.receipt,
    )
        .into_response())
}
