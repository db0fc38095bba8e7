//! Disclosures of a few named records, many to a transaction: what the
//! server's single-record requests take (issue #5).
//!
//! `share` reads everything the organisation holds (every record, every
//! preference event, every disclosure it received) and writes one
//! transaction with its own signed checkpoint. For one record that is all
//! overhead. Here a request reads only its named records, their origins'
//! preference events and the disclosures that delivered them; notices come
//! from a cache (they are immutable). It decides with the same evaluator and
//! stores the same rows and log entries `share` would, so `log verify`,
//! trace, audit and receipts cannot tell the two apart.
//!
//! A batch of requests is recorded in order in one transaction with one
//! signed checkpoint, exactly as if each had run alone in turn: a request
//! reads after the writes of those before it (see [`segments`]). If the
//! batch fails, each request is tried again on its own, so one bad request
//! cannot take the others down with it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use custody_core::decision::{decide, Context, Decision, Request};
use custody_core::entry::Entry;
use custody_core::notice::{Notice, NoticeId};
use custody_core::reason::Reason;
use custody_core::time::{format_instant, Instant};
use custody_core::vocab::Vocabulary;
use custody_store::{CollectionRow, DecisionRow, DisclosureRow, HeldRecord, Store, StoreError};
use rustc_hash::FxHashMap;

use super::{disclosure_entry, reason_counts, Listed, Named, Projection, ShareReport, Terms};
use crate::holdings::{all_notices, preference_event, received_terms, Holdings};
use crate::log::commitment::Committer;
use crate::log::sequencer::Sequencer;
use crate::outcome::Outcome;
use crate::{logged, Engine, Result};

/// A disclosure of named records. Owned: it crosses from a request handler
/// to the thread that writes.
#[derive(Debug, Clone)]
pub struct NamedShare {
    pub terms: Terms,
    /// The holdings to disclose; one named twice counts once.
    pub subjects: Vec<Named>,
}

/// A request checked and resolved, ready to record.
struct Resolved {
    /// Counts still zero.
    row: DisclosureRow,
    request: Request,
    at: Instant,
    /// Unique, sorted (the order `share` reports not-held subjects in).
    subjects: Vec<Named>,
}

/// The notices, kept between requests. Notices are immutable and their ids
/// never reused, so a cached notice is never stale; one missing (published
/// since) reloads them all.
pub(crate) type NoticeCache = Option<Arc<HashMap<NoticeId, Notice>>>;

/// A held record as `for_each_held` gives it, owned, without its fields (no
/// file is written here).
struct NamedRecord {
    id: i64,
    subject: String,
    origin: i64,
    notice: i64,
    collected_at: i64,
    consented: u64,
    collection: i64,
    received_via: Option<i64>,
}

impl NamedRecord {
    fn as_held(&self) -> HeldRecord<'_> {
        HeldRecord {
            id: self.id,
            subject: &self.subject,
            origin: self.origin,
            notice: self.notice,
            collected_at: self.collected_at,
            consented: self.consented,
            collection: self.collection,
            fields: "[]",
            received_via: self.received_via,
        }
    }
}

/// What one segment of requests reads: for each (holder, subject), every
/// holding under that identifier, in id order (one per collector), and the
/// holdings' facts (events, receipt terms, notices).
struct Facts {
    held: HashMap<(String, String), Vec<NamedRecord>>,
    holdings: Holdings,
}

impl<S: Store> Engine<S> {
    /// Decides and records each of `shares`, in order, in one transaction
    /// with one signed checkpoint. Each request gets its own disclosure and
    /// its own result: a request refused before recording (an unknown
    /// organisation or term) fails alone, and if the transaction fails, each
    /// request is recorded on its own so that only the one at fault fails.
    pub fn share_named(&mut self, shares: &[NamedShare]) -> Vec<Result<ShareReport>> {
        let resolved = shares.iter().map(|s| self.resolve_named(s)).collect();
        self.share_resolved(resolved)
    }

    fn share_resolved(&mut self, resolved: Vec<Result<Resolved>>) -> Vec<Result<ShareReport>> {
        let mut results: Vec<Option<Result<ShareReport>>> = Vec::with_capacity(resolved.len());
        let mut ready: Vec<(usize, Resolved)> = Vec::with_capacity(resolved.len());
        for (i, r) in resolved.into_iter().enumerate() {
            match r {
                Ok(r) => {
                    ready.push((i, r));
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let batch: Vec<&Resolved> = ready.iter().map(|(_, r)| r).collect();
        match self.record_named(&batch) {
            Ok(reports) => {
                for ((i, _), report) in ready.iter().zip(reports) {
                    results[*i] = Some(Ok(report));
                }
            }
            Err(e) if ready.len() == 1 => results[ready[0].0] = Some(Err(e)),
            Err(_) => {
                // Nothing of the batch landed: each on its own now, so the
                // error reaches only the request that causes it.
                for (i, r) in &ready {
                    results[*i] = Some(self.record_named(&[r]).map(|mut v| v.remove(0)));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.expect("every request has its result"))
            .collect()
    }

    fn resolve_named(&self, s: &NamedShare) -> Result<Resolved> {
        let (row, request, at) = self.resolve_disclosure(&s.terms)?;
        let subjects: BTreeSet<&Named> = s.subjects.iter().collect();
        Ok(Resolved {
            row,
            request,
            at,
            subjects: subjects.into_iter().cloned().collect(),
        })
    }

    /// Records `batch` in one transaction; all of it, or (on error) none.
    fn record_named(&mut self, batch: &[&Resolved]) -> Result<Vec<ShareReport>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let Engine {
            store,
            vocab,
            signer,
            notices: cache,
            vouched,
        } = self;
        logged(store, signer, |s, log| {
            // Read inside the transaction: nothing can change between a
            // request's reads and its writes. And only what the log vouches
            // for: verified, unless nothing but this engine wrote since it
            // last verified ([`crate::log::vouch::Vouched`]).
            s.hold_state()?;
            if vouched.renew(s, signer)? {
                *vocab = crate::vocabulary(s)?;
                *cache = None;
            }
            let vocab = &*vocab;
            let committer = Committer::load(s)?;
            let collections = s.collections(None)?;
            let mut reports = Vec::with_capacity(batch.len());
            for segment in segments(batch) {
                let facts = Facts::read(s, vocab, cache, segment)?;
                for r in segment {
                    reports.push(record_one(
                        s,
                        log,
                        vocab,
                        &facts,
                        &committer,
                        &collections,
                        r,
                    )?);
                }
            }
            Ok(reports)
        })
    }
}

/// Splits `batch` where a request would read what an earlier one in its
/// segment writes. A request writes a disclosure, decisions and copies held
/// by its recipient; a request reads the records its discloser holds, and
/// the disclosures that delivered them. So a request whose discloser
/// received from an earlier request of the segment starts a new segment,
/// whose reads then see those writes. Everything else a request reads
/// (organisations, notices, preference events, collections, keys) no
/// disclosure changes.
fn segments<'a, 'b>(batch: &'a [&'b Resolved]) -> Vec<&'a [&'b Resolved]> {
    let mut out = Vec::new();
    let (mut start, mut receivers) = (0, HashSet::new());
    for (i, r) in batch.iter().enumerate() {
        if receivers.contains(r.row.from_org.as_str()) {
            out.push(&batch[start..i]);
            start = i;
            receivers.clear();
        }
        receivers.insert(r.row.to_org.as_str());
    }
    out.push(&batch[start..]);
    out
}

impl Facts {
    fn read<S: Store>(
        s: &S,
        vocab: &Vocabulary,
        cache: &mut NoticeCache,
        segment: &[&Resolved],
    ) -> Result<Facts> {
        let mut wanted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for r in segment {
            wanted
                .entry(&r.row.from_org)
                .or_default()
                .extend(r.subjects.iter().map(|n| n.subject.as_str()));
        }
        let mut held: HashMap<(String, String), Vec<NamedRecord>> = HashMap::new();
        for (org, subjects) in &wanted {
            let subjects: Vec<&str> = subjects.iter().copied().collect();
            s.for_each_held_of(org, &subjects, &mut |h| {
                held.entry((org.to_string(), h.subject.to_string()))
                    .or_default()
                    .push(NamedRecord {
                        id: h.id,
                        subject: h.subject.to_string(),
                        origin: h.origin,
                        notice: h.notice,
                        collected_at: h.collected_at,
                        consented: h.consented,
                        collection: h.collection,
                        received_via: h.received_via,
                    });
                Ok(())
            })?;
        }
        let origins: Vec<i64> = held.values().flatten().map(|h| h.origin).collect();
        let mut events = FxHashMap::default();
        let mut notices_needed: HashSet<NoticeId> =
            held.values().flatten().map(|h| h.notice).collect();
        for (record, rows) in s.preferences_of_records(&origins)? {
            let evs = rows
                .iter()
                .map(|r| preference_event(vocab, r))
                .collect::<Result<Vec<_>>>()?;
            notices_needed.extend(evs.iter().filter_map(|e| e.notice));
            events.insert(record, evs);
        }
        let mut received = FxHashMap::default();
        for id in held.values().flatten().filter_map(|h| h.received_via) {
            if received.contains_key(&id) {
                continue;
            }
            let d = s.disclosure(id)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "a record came by disclosure {id}, which is not stored"
                ))
            })?;
            received.insert(id, received_terms(vocab, &d)?);
        }
        let fresh = cache
            .as_ref()
            .is_some_and(|c| notices_needed.iter().all(|n| c.contains_key(n)));
        if !fresh {
            *cache = Some(Arc::new(all_notices(s, vocab)?));
        }
        let notices = cache.clone().expect("loaded above");
        Ok(Facts {
            held,
            holdings: Holdings {
                notices,
                events,
                // Only the audit reads when events were recorded.
                recorded: Default::default(),
                received,
            },
        })
    }
}

/// Decides and records one request, as `share` would: the disclosure, then
/// a decision per held record in id order, the recipient's copies of the
/// allowed ones, and the log entries for all of it.
fn record_one<S: Store>(
    s: &mut S,
    log: &mut Sequencer,
    vocab: &Vocabulary,
    facts: &Facts,
    committer: &Committer,
    collections: &[CollectionRow],
    r: &Resolved,
) -> Result<ShareReport> {
    let holdings = &facts.holdings;
    let ctx = Context::new(vocab, &holdings.notices);
    let projection = Projection::new(vocab, collections, &r.request.categories);
    // Each item names one holding (README: The rules, one person, one
    // holding); an item that could name holdings of two collectors fails
    // the request.
    let mut listed = Listed::of("records", &r.subjects);
    let mut held: Vec<&NamedRecord> = Vec::with_capacity(r.subjects.len());
    let mut offered = HashSet::new();
    for named in &r.subjects {
        if !offered.insert(named.subject.as_str()) {
            continue;
        }
        let key = (r.row.from_org.clone(), named.subject.clone());
        for h in facts.held.get(&key).into_iter().flatten() {
            if listed.names(holdings.collector(h.notice)?, &h.subject) {
                held.push(h);
            }
        }
    }
    let not_held = listed.finish()?;
    held.sort_by_key(|h| h.id);

    let mut outcomes = Vec::with_capacity(held.len());
    let mut counts: BTreeMap<Reason, u64> = BTreeMap::new();
    let (mut allowed, mut refused) = (0u64, 0u64);
    for h in held {
        // The evaluator itself: `Classes` pays off over many records, and
        // its decisions are exactly these (a property test holds it to that).
        let Decision { reasons } = decide(&ctx, &r.request, &holdings.facts(&h.as_held())?);
        let mut outcome = Outcome {
            record: h.id,
            origin: h.origin,
            reasons: Some(reasons.0),
            subject: committer.commit(h.notice, &h.subject)?,
            copy: None,
        };
        if reasons.is_empty() {
            allowed += 1;
            outcome.copy = Some(h.subject.clone());
        } else {
            refused += 1;
            for reason in reasons.iter() {
                *counts.entry(reason).or_default() += 1;
            }
        }
        outcomes.push(outcome);
    }
    // Not held: named and absent, or collected only after the disclosure.
    if !not_held.is_empty() {
        *counts.entry(Reason::NotHeld).or_default() += not_held.len() as u64;
    }

    let mut row = r.row.clone();
    row.requested = (outcomes.len() + not_held.len()) as i64;
    row.allowed = allowed as i64;
    row.refused = (refused + not_held.len() as u64) as i64;
    row.not_held = counts.get(&Reason::NotHeld).copied().unwrap_or(0) as i64;
    row.recorded = Some(log.recorded());
    let id = s.insert_disclosure(&row)?;
    log.append(s, &disclosure_entry(id, &row))?;
    s.insert_decisions(&mut outcomes.iter().map(|o| DecisionRow {
        disclosure: id,
        record: o.record,
        reasons: o.reasons,
    }))?;
    let copies: Vec<(i64, String)> = outcomes
        .iter()
        .filter_map(|o| Some((o.origin, o.copy.clone()?)))
        .collect();
    s.insert_copies(&row.to_org, id, row.at, &copies)?;
    for o in &outcomes {
        log.append(
            s,
            &Entry::Decided {
                at: row.at,
                subject: o.subject,
                disclosure: id as u64,
                reasons: o.reasons.unwrap_or(0),
                record: Some(o.record_ref()),
            },
        )?;
    }
    Ok(ShareReport {
        disclosure: id,
        from: row.from_org,
        to: row.to_org,
        on_behalf_of: row.on_behalf_of,
        at: format_instant(&r.at),
        purposes: row.purposes,
        categories: row.categories,
        basis: row.basis,
        requested: row.requested as u64,
        allowed,
        refused: row.refused as u64,
        not_held: row.not_held as u64,
        reasons: reason_counts(&counts),
        columns_sent: projection.header,
        out: None,
        refused_file: None,
    })
}

#[cfg(test)]
mod tests;
