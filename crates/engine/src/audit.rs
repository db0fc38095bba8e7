//! Retrospective audit: re-evaluate every recorded disclosure of an
//! organisation's collected data (by it, and by everyone downstream) against
//! the notices and consents in force at the time, and count who was wronged.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use custody_core::decision::classes::Classes;
use custody_core::decision::Context;
use custody_core::reason::{Reason, ReasonSet};
use custody_core::time::format_instant;
use custody_core::vocab::Vocabulary;
use custody_store::Store;
use serde::Serialize;

use crate::disclosure::{reason_counts, ReasonCount};
use crate::holdings::Holdings;
use crate::log::verify::Verification;
use crate::{instant, Engine, Progress, Result};

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub org: String,
    pub disclosures: Vec<AuditedDisclosure>,
    /// Distinct people whose data left in any disclosure.
    pub people_disclosed: u64,
    /// Distinct people disclosed at least once when the rules forbade it.
    pub people_wronged: u64,
    /// Distinct people wronged, per reason.
    pub reasons: Vec<ReasonCount>,
    /// Who passed this organisation's data to whom.
    pub flows: Vec<Flow>,
    /// Events recorded more than a day after the time they claim: kept,
    /// but a disclosure is judged without those recorded after it was.
    pub recorded_late: Vec<RecordedLate>,
}

/// Events of one kind recorded late, counted by the day they claim and the
/// day custody recorded them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordedLate {
    pub action: String,
    pub purpose: Option<String>,
    pub claims: String,
    pub recorded: String,
    pub events: u64,
}

/// An event claiming a time more than this before it was recorded is
/// listed as recorded late (Unix seconds: a day).
pub const LATE_AFTER_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, Serialize)]
pub struct AuditedDisclosure {
    pub disclosure: i64,
    pub at: String,
    pub from: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub purposes: Vec<String>,
    /// false: imported history that custody never checked.
    pub gated: bool,
    pub disclosed: u64,
    pub refused_at_gate: u64,
    /// Records refused at the gate, per reason.
    pub refused_reasons: Vec<ReasonCount>,
    pub violations: u64,
    /// Records disclosed in violation, per reason.
    pub reasons: Vec<ReasonCount>,
    /// Records judged without an event that claims a time before the
    /// disclosure but was recorded after it.
    pub judged_without_later_records: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub records: u64,
    pub violations: u64,
}

impl<S: Store> Engine<S> {
    /// The audit of `org`'s data, on a store verified first in the same
    /// read transaction: the log vouches for every row the audit reads
    /// (issue 13, point 2), or there is no audit.
    pub fn audit(&self, org: &str, progress: &dyn Progress) -> Result<Audit> {
        self.org(org)?;
        self.store.begin_read()?;
        let audit = self.vouched_audit(org, progress);
        let ended = self.store.end_read();
        let audit = audit?;
        ended?;
        Ok(audit)
    }

    fn vouched_audit(&self, org: &str, progress: &dyn Progress) -> Result<Audit> {
        Verification::of(self)
            .run(None, None, progress)
            .map_err(crate::log::vouch::refused)?;
        // What the verification vouched for, not what was read at open.
        let vocab = crate::vocabulary(&self.store)?;
        self.audit_of(org, &vocab, progress)
    }

    fn audit_of(&self, org: &str, vocab: &Vocabulary, progress: &dyn Progress) -> Result<Audit> {
        // Record ids are dense: a bit per id says whether it is one of `org`'s
        // own collection records.
        let mut own: Vec<u64> = Vec::new();
        self.store.for_each_held(org, &mut |h| {
            if h.origin == h.id {
                let i = h.id as usize;
                if own.len() <= i / 64 {
                    own.resize(i / 64 + 1, 0);
                }
                own[i / 64] |= 1 << (i % 64);
            }
            Ok(())
        })?;
        let is_own = |id: i64| {
            own.get(id as usize / 64)
                .is_some_and(|w| w & (1 << (id as usize % 64)) != 0)
        };
        let mut holders: HashMap<String, Holdings> = HashMap::default();
        let mut per_person: HashMap<i64, ReasonSet> = HashMap::default();
        let mut disclosed_people: HashSet<i64> = HashSet::default();
        let mut flows: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        let mut audited = Vec::new();
        for d in self.store.disclosures(None)? {
            if !holders.contains_key(&d.from_org) {
                holders.insert(
                    d.from_org.clone(),
                    Holdings::load(&self.store, vocab, &d.from_org)?,
                );
            }
            let holdings = &holders[&d.from_org];
            let ctx = Context::new(vocab, &holdings.notices);
            let request = self.request_for(&d)?;
            let mut entry = AuditedDisclosure {
                disclosure: d.id,
                at: format_instant(&instant(d.at)),
                from: d.from_org.clone(),
                to: d.to_org.clone(),
                on_behalf_of: d.on_behalf_of.clone(),
                purposes: d.purposes.clone(),
                gated: d.gated,
                disclosed: 0,
                refused_at_gate: 0,
                refused_reasons: vec![],
                violations: 0,
                reasons: vec![],
                judged_without_later_records: 0,
            };
            let mut counts: BTreeMap<Reason, u64> = BTreeMap::new();
            let mut refusals: BTreeMap<Reason, u64> = BTreeMap::new();
            // Decisions and held records both come in record order: merge them.
            let mut rows = Vec::with_capacity(d.requested.max(0) as usize);
            self.store.for_each_decision(d.id, &mut |row| {
                rows.push(row);
                Ok(())
            })?;
            progress.start(
                &format!("auditing disclosure {}", d.id),
                Some(rows.len() as u64),
            );
            let mut next = 0usize;
            let mut classes = Classes::new(&ctx, &request);
            let mut kept = Vec::new();
            // A disclosure recorded before the store kept the log's clock:
            // by the second it was made.
            let recorded = d.recorded.unwrap_or(d.created_at * 1_000_000 + 999_999);
            self.store.for_each_held(&d.from_org, &mut |h| {
                while next < rows.len() && rows[next].record < h.id {
                    next += 1;
                }
                if next >= rows.len() || rows[next].record != h.id || !is_own(h.origin) {
                    return Ok(());
                }
                let row = rows[next];
                progress.counted(next as u64);
                if let Some(reasons) = row.reasons.filter(|r| *r != 0) {
                    entry.refused_at_gate += 1;
                    for r in ReasonSet(reasons).iter() {
                        *refusals.entry(r).or_default() += 1;
                    }
                    return Ok(());
                }
                entry.disclosed += 1;
                disclosed_people.insert(h.origin);
                // As the store held it when the disclosure was recorded.
                let (facts, set_aside) = holdings
                    .facts_recorded_by(h, (recorded, d.at), &mut kept)
                    .map_err(crate::error::through_store)?;
                entry.judged_without_later_records += u64::from(set_aside);
                let decision = classes.decide(&facts);
                if !decision.allowed() {
                    entry.violations += 1;
                    for r in decision.reasons.iter() {
                        *counts.entry(r).or_default() += 1;
                    }
                    let p = per_person.entry(h.origin).or_default();
                    *p = p.union(decision.reasons);
                }
                Ok(())
            })?;
            progress.finish();
            if entry.disclosed + entry.refused_at_gate == 0 {
                continue; // nothing of this organisation's data in it
            }
            entry.reasons = reason_counts(&counts);
            entry.refused_reasons = reason_counts(&refusals);
            if entry.disclosed > 0 {
                let flow = flows
                    .entry((d.from_org.clone(), d.to_org.clone()))
                    .or_default();
                flow.0 += entry.disclosed;
                flow.1 += entry.violations;
            }
            audited.push(entry);
        }
        let mut by_reason: BTreeMap<Reason, u64> = BTreeMap::new();
        for set in per_person.values() {
            for r in set.iter() {
                *by_reason.entry(r).or_default() += 1;
            }
        }
        let recorded_late = self.recorded_late(org, &is_own)?;
        Ok(Audit {
            recorded_late,
            org: org.into(),
            disclosures: audited,
            people_disclosed: disclosed_people.len() as u64,
            people_wronged: per_person.len() as u64,
            reasons: reason_counts(&by_reason),
            flows: flows
                .into_iter()
                .map(|((from, to), (records, violations))| Flow {
                    from,
                    to,
                    records,
                    violations,
                })
                .collect(),
        })
    }

    /// The events on `org`'s own records recorded more than
    /// [`LATE_AFTER_SECONDS`] after the time they claim, grouped.
    fn recorded_late(&self, org: &str, is_own: &dyn Fn(i64) -> bool) -> Result<Vec<RecordedLate>> {
        let day = |t: i64| instant(t).format("%Y-%m-%d").to_string();
        let mut groups: BTreeMap<(String, Option<String>, String, String), u64> = BTreeMap::new();
        for (record, rows) in self.store.preferences_held_by(org)? {
            if !is_own(record) {
                continue;
            }
            for r in rows {
                let Some(t) = r.recorded.map(|t| t.div_euclid(1_000_000)) else {
                    continue;
                };
                if t - r.at > LATE_AFTER_SECONDS {
                    *groups
                        .entry((r.action, r.purpose, day(r.at), day(t)))
                        .or_default() += 1;
                }
            }
        }
        Ok(groups
            .into_iter()
            .map(
                |((action, purpose, claims, recorded), events)| RecordedLate {
                    action,
                    purpose,
                    claims,
                    recorded,
                    events,
                },
            )
            .collect())
    }
}
