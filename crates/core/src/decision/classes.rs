//! Deciding by class: records that share every input of the evaluator get
//! one decision, computed once. A class is what the decision depends on,
//! not the record's history: the notice it was collected under and the
//! boxes ticked, the terms a holder received it under, whether it was held
//! yet, the notice governing it at the request's time and which of that
//! notice's retention periods have run out, whether an objection to direct
//! marketing stands, and what each consent the request asks about comes
//! to (given, withdrawn, never, or not informed). Histories as diverse as
//! people's fold into about as many classes as there are outcomes.

use rustc_hash::FxHashMap;

use crate::notice::NoticeId;
use crate::preference::ConsentStatus;
use crate::time::Instant;

use super::{consent_to, decide, Context, Decision, RecordFacts, Request};

/// Everything a record's decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Class {
    notice: NoticeId,
    consented: u64,
    /// Identity of the terms the holder received the record under.
    received: usize,
    not_held: bool,
    /// The notice governing the record at the request's time.
    governing: NoticeId,
    /// Bit i: the governing notice's declaration i has run out of
    /// retention for this record.
    expired: u64,
    objected: bool,
    /// Two bits per consent the request asks about ([`Asks`]), in order.
    consents: u64,
}

/// The consents a request may ask of records governed by one notice: each
/// (declaration, purpose) whose check reads consent.
struct Asks {
    /// (declaration index, purpose).
    asks: Vec<(usize, crate::vocab::TermId)>,
    /// Per declaration: records collected before this instant (in Unix
    /// seconds) are past its retention at the request's time.
    cutoffs: Vec<Option<i64>>,
}

/// Consent statuses packed two bits each: at most this many asks.
const MOST_ASKS: usize = 32;

/// A cache of decisions by class for one request. Decisions are exactly those
/// of [`decide`] (a property test holds it to that).
pub struct Classes<'c> {
    ctx: &'c Context<'c>,
    req: &'c Request,
    decided: FxHashMap<Class, Decision>,
    asks: FxHashMap<NoticeId, Asks>,
    pub hits: u64,
}

impl<'c> Classes<'c> {
    pub fn new(ctx: &'c Context<'c>, req: &'c Request) -> Classes<'c> {
        Classes {
            ctx,
            req,
            decided: FxHashMap::default(),
            asks: FxHashMap::default(),
            hits: 0,
        }
    }

    /// How many classes have been decided so far.
    pub fn len(&self) -> usize {
        self.decided.len()
    }

    pub fn is_empty(&self) -> bool {
        self.decided.is_empty()
    }

    pub fn decide(&mut self, facts: &RecordFacts) -> Decision {
        let (ctx, req) = (self.ctx, self.req);
        let Some(class) = self.class(facts) else {
            // More consents asked than a class holds: decided alone.
            return decide(ctx, req, facts);
        };
        if let Some(d) = self.decided.get(&class) {
            self.hits += 1;
            return *d;
        }
        let d = decide(ctx, req, facts);
        self.decided.insert(class, d);
        d
    }

    /// The record's class, as [`decide`] reads the record; None if the
    /// request asks more consents than a class holds.
    fn class(&mut self, facts: &RecordFacts) -> Option<Class> {
        let (ctx, req) = (self.ctx, self.req);
        let prefs = facts.preferences(ctx);
        let governing = prefs
            .notice_at(req.at)
            .filter(|id| ctx.notices.contains_key(id))
            .unwrap_or(facts.notice);
        let asks = self.asks(governing);
        if asks.asks.len() > MOST_ASKS {
            return None;
        }
        let collected = facts.collected_at.timestamp();
        let expired = asks
            .cutoffs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some_and(|c| collected < c))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let declarations = &ctx.notices[&governing].declarations;
        let consents = asks.asks.iter().enumerate().fold(0u64, |m, (i, &(d, p))| {
            let status = match consent_to(ctx, req, &prefs, &declarations[d], p) {
                ConsentStatus::Given => 0,
                ConsentStatus::Withdrawn => 1,
                ConsentStatus::Never => 2,
                ConsentStatus::Uninformed => 3,
            };
            m | status << (2 * i)
        });
        Some(Class {
            notice: facts.notice,
            consented: facts.consented,
            received: facts.received.map_or(0, |r| r as *const _ as usize),
            not_held: req.at < facts.collected_at,
            governing,
            expired,
            objected: prefs.objected(req.at),
            consents,
        })
    }

    fn asks(&mut self, notice: NoticeId) -> &Asks {
        let (ctx, req) = (self.ctx, self.req);
        self.asks.entry(notice).or_insert_with(|| {
            let declarations = &ctx.notices[&notice].declarations;
            let vocab = ctx.vocab;
            let mut asks = Vec::new();
            for &purpose in &req.purposes {
                for (i, d) in declarations.iter().enumerate() {
                    // Every declaration `decide` may weigh for the purpose
                    // (covering it, or broader), whose check reads consent.
                    let weighed = d.purposes.iter().any(|p| {
                        vocab.covers_purpose(*p, purpose) || vocab.is_ancestor_or_self(*p, purpose)
                    });
                    let reads_consent = d.basis == crate::basis::LegalBasis::Consent
                        || d.special_condition
                            == Some(crate::basis::SpecialCondition::ExplicitConsent);
                    if weighed && reads_consent {
                        asks.push((i, purpose));
                    }
                }
            }
            let at = req.at;
            Asks {
                asks,
                cutoffs: declarations
                    .iter()
                    .map(|d| d.retention.map(|r| cutoff(|c| r.ends(c) < at)))
                    .collect(),
            }
        })
    }
}

/// The first collection time (Unix seconds) for which `expired` is false.
/// Retention only ever ends later for later collections, so `expired` is true
/// before some instant and false from it on: found by bisection.
fn cutoff(expired: impl Fn(Instant) -> bool) -> i64 {
    let instant = |s: i64| chrono::DateTime::from_timestamp(s, 0).expect("within chrono's range");
    // chrono's range is about ±262,000 years; stay well inside it.
    let (mut lo, mut hi) = (-(1i64 << 42), 1i64 << 42);
    if !expired(instant(lo)) {
        return lo;
    }
    if expired(instant(hi)) {
        return hi;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if expired(instant(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}
