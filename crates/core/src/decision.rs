//! The disclosure evaluator: may this record go to this recipient for these
//! purposes now? Pure and deterministic: facts in, a decision with reasons out.
//!
//! For each requested purpose the record's governing notice must hold a
//! declaration that covers it and under which everything else holds (data
//! categories, recipient, lawful basis, consent, special-category and
//! children's rules, retention). Where several declarations cover a purpose
//! the one with the fewest failures speaks for it. Some rules hold whatever
//! the notice says: an objection to direct marketing, and, for onward
//! disclosures, the terms the holder received the data under.

use std::collections::HashMap;

use serde::Serialize;

use crate::basis::{LegalBasis, SpecialCondition};
use crate::notice::{Declaration, Notice, NoticeId};
use crate::organisation::Organisation;
use crate::preference::{Asked, ConsentStatus, PreferenceEvent, Preferences};
use crate::reason::{Reason, ReasonSet};
use crate::time::Instant;
use crate::vocab::{TermId, Vocabulary};

/// What the evaluator reads besides the record: the vocabulary and every
/// notice a record may be governed by.
pub struct Context<'a> {
    pub vocab: &'a Vocabulary,
    pub notices: &'a HashMap<NoticeId, Notice>,
    marketing: Vec<TermId>,
    profiling: Vec<TermId>,
    electronic_contact: Vec<TermId>,
}

impl<'a> Context<'a> {
    pub fn new(vocab: &'a Vocabulary, notices: &'a HashMap<NoticeId, Notice>) -> Self {
        let keys = |ks: &[&str]| ks.iter().filter_map(|k| vocab.get(k)).collect::<Vec<_>>();
        Context {
            vocab,
            notices,
            // Direct marketing in the ICO's sense, political campaigning included.
            marketing: keys(&["dpv:Marketing", "fides:marketing"]),
            profiling: keys(&[
                "dpv:Personalisation",
                "dpv:TargetedAdvertising",
                "fides:personalize",
            ]),
            electronic_contact: keys(&[
                "pd:EmailAddress",
                "pd:TelephoneNumber",
                "fides:user.contact.email",
                "fides:user.contact.phone_number",
            ]),
        }
    }

    fn under(&self, roots: &[TermId], t: TermId) -> bool {
        roots.iter().any(|r| self.vocab.is_ancestor_or_self(*r, t))
    }

    pub fn is_direct_marketing(&self, purpose: TermId) -> bool {
        self.under(&self.marketing, purpose)
    }
}

/// A disclosure request, the same for every record in it.
#[derive(Debug, Clone)]
pub struct Request {
    pub purposes: Vec<TermId>,
    pub categories: Vec<TermId>,
    pub recipient: Organisation,
    /// The organisation the recipient acts for (a broker building a list for a party).
    pub on_behalf_of: Option<Organisation>,
    pub basis: Option<LegalBasis>,
    pub at: Instant,
}

/// The terms a holder received a record under, for onward disclosures.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub from: String,
    pub purposes: Vec<TermId>,
    pub categories: Vec<TermId>,
}

/// One record's facts, as of its original collection.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub collected_at: Instant,
    pub notice: NoticeId,
    pub consented: u64,
    pub events: &'a [PreferenceEvent],
    pub received: Option<&'a Received>,
}

impl<'a> RecordFacts<'a> {
    /// The record's consents and events, as the evaluator reads them.
    fn preferences(&self, ctx: &Context<'a>) -> Preferences<'a> {
        Preferences {
            collected_at: self.collected_at,
            collection_notice: &ctx.notices[&self.notice],
            notices: ctx.notices,
            consented: self.consented,
            events: self.events,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub reasons: ReasonSet,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.reasons.is_empty()
    }

    pub fn refused(reason: Reason) -> Decision {
        Decision {
            reasons: [reason].into_iter().collect(),
        }
    }
}

/// Decide one record. Panics only if `facts.notice` is missing from the
/// context, which is a caller bug, not bad input.
pub fn decide(ctx: &Context, req: &Request, facts: &RecordFacts) -> Decision {
    let mut reasons = ReasonSet::EMPTY;
    if req.at < facts.collected_at {
        return Decision::refused(Reason::NotHeld);
    }
    let prefs = facts.preferences(ctx);
    let collection_notice = prefs.collection_notice;
    let notice = match prefs.notice_at(req.at) {
        Some(id) => ctx.notices.get(&id).unwrap_or(collection_notice),
        None => collection_notice,
    };

    if let Some(received) = facts.received {
        if !req.purposes.iter().all(|p| {
            received
                .purposes
                .iter()
                .any(|r| ctx.vocab.covers_purpose(*r, *p))
        }) {
            reasons.insert(Reason::OnwardPurposeNotReceived);
        }
        if !req.categories.iter().all(|c| {
            received
                .categories
                .iter()
                .any(|r| ctx.vocab.covers_category(*r, *c))
        }) {
            reasons.insert(Reason::OnwardCategoryNotReceived);
        }
    }

    let objected = prefs.objected(req.at);
    for &purpose in &req.purposes {
        if objected && ctx.is_direct_marketing(purpose) {
            reasons.insert(Reason::ObjectedToDirectMarketing);
        }
        let best = notice
            .declarations
            .iter()
            .filter(|d| {
                d.purposes
                    .iter()
                    .any(|p| ctx.vocab.covers_purpose(*p, purpose))
            })
            .map(|d| failures(ctx, req, &prefs, d, purpose))
            .min_by_key(|f| (f.len(), f.0));
        match best {
            Some(f) => reasons = reasons.union(f),
            None => {
                // A broader declaration that would cover the purpose but for the
                // explicit rule: say so, and what else would fail under it, so
                // the whole picture shows (recipient, consent, children...).
                let broader = notice
                    .declarations
                    .iter()
                    .filter(|d| {
                        d.purposes
                            .iter()
                            .any(|p| ctx.vocab.is_ancestor_or_self(*p, purpose))
                    })
                    .map(|d| failures(ctx, req, &prefs, d, purpose))
                    .min_by_key(|f| (f.len(), f.0));
                match broader {
                    Some(f) => {
                        reasons.insert(Reason::PurposeNotNamed);
                        reasons = reasons.union(f);
                    }
                    None => reasons.insert(Reason::PurposeNotDeclared),
                }
            }
        }
    }
    Decision { reasons }
}

/// Everything that keeps declaration `d` from covering `purpose` for this record.
fn failures(
    ctx: &Context,
    req: &Request,
    prefs: &Preferences,
    d: &Declaration,
    purpose: TermId,
) -> ReasonSet {
    let vocab = ctx.vocab;
    let mut f = ReasonSet::EMPTY;
    if !req
        .categories
        .iter()
        .all(|c| d.categories.iter().any(|dc| vocab.covers_category(*dc, *c)))
    {
        f.insert(Reason::CategoryNotDeclared);
    }
    let names_recipients = |d: &Declaration| {
        names(d, &req.recipient) && req.on_behalf_of.as_ref().is_none_or(|o| names(d, o))
    };
    let recipient_named = names_recipients(d);
    if !recipient_named {
        f.insert(Reason::RecipientNotNamed);
    }
    if req.basis.is_some_and(|b| b != d.basis) {
        f.insert(Reason::BasisMismatch);
    }
    // Consent is read lazily: it is the one check that walks events.
    let consent = || consent_to(ctx, req, prefs, d, purpose);
    if d.basis == LegalBasis::Consent {
        match consent() {
            ConsentStatus::Given => {}
            ConsentStatus::Withdrawn => f.insert(Reason::ConsentWithdrawn),
            ConsentStatus::Never => f.insert(Reason::NoConsent),
            ConsentStatus::Uninformed => f.insert(Reason::ConsentNotInformed),
        }
    }
    if d.retention
        .is_some_and(|r| r.ends(prefs.collected_at) < req.at)
    {
        f.insert(Reason::RetentionExpired);
    }
    if req.categories.iter().any(|c| vocab.is_special_category(*c)) {
        let condition_holds = match d.special_condition {
            None => false,
            Some(SpecialCondition::ExplicitConsent) => consent() == ConsentStatus::Given,
            Some(_) => true,
        };
        if !condition_holds {
            f.insert(Reason::SpecialCategoryNoCondition);
        }
    }
    let marketing = ctx.is_direct_marketing(purpose);
    if (marketing || ctx.under(&ctx.profiling, purpose))
        && !d.childrens_data
        && req.categories.iter().any(|c| vocab.is_childrens_data(*c))
    {
        f.insert(Reason::ChildrensData);
    }
    if marketing
        && d.basis != LegalBasis::Consent
        && req
            .categories
            .iter()
            .any(|c| ctx.under(&ctx.electronic_contact, *c))
    {
        f.insert(Reason::ElectronicMarketingWithoutConsent);
    }
    f
}

/// The consent declaration `d`'s check asks of the record for `purpose`:
/// informed of the purpose and the recipients. Where `d` does not name the
/// recipient either, that is a reason of its own; the consent is then asked
/// to be informed of the purpose only.
fn consent_to(
    ctx: &Context,
    req: &Request,
    prefs: &Preferences,
    d: &Declaration,
    purpose: TermId,
) -> ConsentStatus {
    let names_recipients = |d: &Declaration| {
        names(d, &req.recipient) && req.on_behalf_of.as_ref().is_none_or(|o| names(d, o))
    };
    let anyone = |_: &Declaration| true;
    let asked = Asked {
        declaration: &d.id,
        purpose,
        at: req.at,
        recipients_told: if names_recipients(d) {
            &names_recipients
        } else {
            &anyone
        },
    };
    prefs.consent(ctx.vocab, &asked)
}

/// Whether declaration `d` names organisation `o`, itself or by a category
/// it belongs to.
fn names(d: &Declaration, o: &Organisation) -> bool {
    d.recipient_orgs.contains(&o.id)
        || o.categories
            .iter()
            .any(|c| d.recipient_categories.contains(c))
}

pub mod classes;

#[cfg(test)]
mod tests;
