//! Deciding by class: records that share every input of the evaluator get
//! one decision, computed once. A mailing list of millions falls into a few
//! dozen classes (notice version, ticked boxes, how the holder received it,
//! whether it was held yet and which retention periods have run out, and
//! the consent and objection events that count at the request's time).

use rustc_hash::FxHashMap;

use crate::notice::NoticeId;
use crate::preference::Preference;
use crate::time::Instant;

use super::{decide, Context, Decision, RecordFacts, Request};

/// Everything a record's decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Class {
    notice: NoticeId,
    consented: u64,
    /// Identity of the terms the holder received the record under.
    received: usize,
    not_held: bool,
    /// Bit i: declaration i's retention period has run out.
    expired: u64,
    /// The events up to the request's time, in order: the evaluator reads
    /// their order, preferences and notices, never their exact times.
    events: Vec<(Preference, Option<NoticeId>)>,
}

/// A cache of decisions by class for one request. Decisions are exactly those
/// of [`decide`] (a property test holds it to that).
pub struct Classes<'c> {
    ctx: &'c Context<'c>,
    req: &'c Request,
    decided: FxHashMap<Class, Decision>,
    /// Per notice, per declaration: records collected before this instant (in
    /// Unix seconds) are past their retention at the request's time.
    retention_cutoffs: FxHashMap<NoticeId, Vec<Option<i64>>>,
    pub hits: u64,
}

impl<'c> Classes<'c> {
    pub fn new(ctx: &'c Context<'c>, req: &'c Request) -> Classes<'c> {
        Classes {
            ctx,
            req,
            decided: FxHashMap::default(),
            retention_cutoffs: FxHashMap::default(),
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
        let collected = facts.collected_at.timestamp();
        let cutoffs = self.cutoffs(facts.notice);
        let expired = cutoffs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some_and(|c| collected < c))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let class = Class {
            notice: facts.notice,
            consented: facts.consented,
            received: facts.received.map_or(0, |r| r as *const _ as usize),
            not_held: self.req.at < facts.collected_at,
            expired,
            events: facts
                .events
                .iter()
                .take_while(|e| e.at <= self.req.at)
                .map(|e| (e.preference, e.notice))
                .collect(),
        };
        if let Some(d) = self.decided.get(&class) {
            self.hits += 1;
            return *d;
        }
        let d = decide(self.ctx, self.req, facts);
        self.decided.insert(class, d);
        d
    }

    fn cutoffs(&mut self, notice: NoticeId) -> &[Option<i64>] {
        let (ctx, at) = (self.ctx, self.req.at);
        self.retention_cutoffs.entry(notice).or_insert_with(|| {
            ctx.notices[&notice]
                .declarations
                .iter()
                .map(|d| d.retention.map(|r| cutoff(|c| r.ends(c) < at)))
                .collect()
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
