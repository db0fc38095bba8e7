//! What an organisation holds and under what terms: the notices, preference
//! events and receipt terms the evaluator needs for each of its records,
//! loaded once per command.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use custody_core::decision::{Received, RecordFacts};
use custody_core::notice::{Notice, NoticeId, NoticeSource};
use custody_core::preference::{Preference, PreferenceEvent};
use custody_core::vocab::{TermId, TermKind, Vocabulary};
use custody_store::{DisclosureRow, HeldRecord, NoticeRow, PreferenceRow, Store, StoreError};

use crate::{instant, Error, Result};

pub fn notice_from_row(vocab: &Vocabulary, row: &NoticeRow) -> Result<Notice> {
    let source: NoticeSource = serde_json::from_str(&row.source)
        .map_err(|e| StoreError::Corrupt(format!("notice {}: {e}", row.id)))?;
    let mut n = source.resolve(
        &format!("notice {} {}", row.org, row.version),
        &row.org,
        vocab,
    )?;
    n.id = row.id;
    Ok(n)
}

pub fn all_notices<S: Store + ?Sized>(
    store: &S,
    vocab: &Vocabulary,
) -> Result<HashMap<NoticeId, Notice>> {
    store
        .notices(None)?
        .iter()
        .map(|r| Ok((r.id, notice_from_row(vocab, r)?)))
        .collect()
}

pub fn preference_event(vocab: &Vocabulary, row: &PreferenceRow) -> Result<PreferenceEvent> {
    let purpose = || -> Result<TermId> {
        let key = row
            .purpose
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt(format!("{} without purpose", row.action)))?;
        Ok(vocab.resolve(TermKind::Purpose, key)?)
    };
    let preference = match row.action.as_str() {
        "give" => Preference::Give(purpose()?),
        "withdraw" => Preference::Withdraw(purpose()?),
        "object-direct-marketing" => Preference::ObjectDirectMarketing,
        "withdraw-objection" => Preference::WithdrawObjection,
        other => {
            return Err(StoreError::Corrupt(format!("unknown preference action `{other}`")).into())
        }
    };
    Ok(PreferenceEvent {
        at: instant(row.at),
        preference,
        notice: row.notice,
    })
}

/// The terms disclosure `d` delivered its records under.
pub(crate) fn received_terms(vocab: &Vocabulary, d: &DisclosureRow) -> Result<Received> {
    let terms = |keys: &[String], kind| {
        keys.iter()
            .map(|k| Ok(vocab.resolve(kind, k)?))
            .collect::<Result<Vec<_>>>()
    };
    Ok(Received {
        from: d.from_org.clone(),
        purposes: terms(&d.purposes, TermKind::Purpose)?,
        categories: terms(&d.categories, TermKind::DataCategory)?,
    })
}

/// The terms of every disclosure among `disclosures` made to `org`, by id:
/// what its copies may be used for.
pub(crate) fn received_by(
    vocab: &Vocabulary,
    disclosures: &[DisclosureRow],
    org: &str,
) -> Result<FxHashMap<i64, Received>> {
    disclosures
        .iter()
        .filter(|d| d.to_org == org)
        .map(|d| Ok((d.id, received_terms(vocab, d)?)))
        .collect()
}

pub struct Holdings {
    /// Shared: notices are immutable, so a server keeps them between requests.
    pub notices: Arc<HashMap<NoticeId, Notice>>,
    pub(crate) events: FxHashMap<i64, Vec<PreferenceEvent>>,
    /// When each event of a record was recorded, aligned with `events`, for
    /// the records with an event recorded after the time it claims: what
    /// the audit needs to set aside what was not yet recorded when a
    /// disclosure was.
    pub(crate) recorded: FxHashMap<i64, Vec<i64>>,
    pub(crate) received: FxHashMap<i64, Received>,
}

impl Holdings {
    pub fn load<S: Store + ?Sized>(store: &S, vocab: &Vocabulary, org: &str) -> Result<Holdings> {
        let notices = Arc::new(all_notices(store, vocab)?);
        let mut events = FxHashMap::default();
        let mut recorded = FxHashMap::default();
        for (record, rows) in store.preferences_held_by(org)? {
            let evs = rows
                .iter()
                .map(|r| preference_event(vocab, r))
                .collect::<Result<Vec<_>>>()?;
            events.insert(record, evs);
            // Microseconds; an event recorded before the store kept it is
            // taken as recorded when it claims.
            let micros = |r: &PreferenceRow| r.recorded.unwrap_or(r.at * 1_000_000);
            if rows.iter().any(|r| micros(r) > r.at * 1_000_000) {
                recorded.insert(record, rows.iter().map(micros).collect());
            }
        }
        let received = received_by(vocab, &store.disclosures(None)?, org)?;
        Ok(Holdings {
            notices,
            events,
            recorded,
            received,
        })
    }

    /// The facts of `h` as the store held them at `cutoff` (the log's clock,
    /// microseconds): without the events recorded after it, whatever time
    /// they claim. `buf` holds the events kept when some are set aside; the
    /// flag says whether an event that claims a time up to `at` (seconds)
    /// was.
    pub(crate) fn facts_recorded_by<'a>(
        &'a self,
        h: &HeldRecord,
        (cutoff, at): (i64, i64),
        buf: &'a mut Vec<PreferenceEvent>,
    ) -> Result<(RecordFacts<'a>, bool)> {
        let mut facts = self.facts(h)?;
        let Some(times) = self.recorded.get(&h.origin) else {
            return Ok((facts, false));
        };
        if times.iter().all(|t| *t <= cutoff) {
            return Ok((facts, false));
        }
        buf.clear();
        let mut set_aside = false;
        for (e, t) in facts.events.iter().zip(times) {
            if *t <= cutoff {
                buf.push(*e);
            } else if e.at.timestamp() <= at {
                set_aside = true;
            }
        }
        facts.events = buf;
        Ok((facts, set_aside))
    }

    /// The organisation that collected a record under `notice`: the one
    /// whose subject identifier the record carries.
    pub fn collector(&self, notice: NoticeId) -> Result<&str> {
        self.notices
            .get(&notice)
            .map(|n| n.org.as_str())
            .ok_or_else(|| Error::Invalid(format!("a record refers to unknown notice {notice}")))
    }

    pub fn facts<'a>(&'a self, h: &HeldRecord) -> Result<RecordFacts<'a>> {
        if !self.notices.contains_key(&h.notice) {
            return Err(Error::Invalid(format!(
                "record {} refers to unknown notice {}",
                h.id, h.notice
            )));
        }
        Ok(RecordFacts {
            collected_at: instant(h.collected_at),
            notice: h.notice,
            consented: h.consented,
            events: self.events.get(&h.origin).map(Vec::as_slice).unwrap_or(&[]),
            received: h.received_via.and_then(|d| self.received.get(&d)),
        })
    }
}
