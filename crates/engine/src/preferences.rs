//! Consent and objection events, one at a time or in bulk from CSV. Events
//! attach to the collecting organisation's record and are never overwritten.

use std::path::Path;

use custody_core::basis::LegalBasis;
use custody_core::entry::{Entry, SubjectKey};
use custody_core::preference::{ConsentStatus, Preference, Preferences};
use custody_core::time::{format_instant, parse_instant, Instant};
use custody_core::vocab::TermKind;
use custody_store::{PreferenceRow, Store};
use serde::Serialize;

use crate::{logged, seconds, subject_key, Engine, Error, Result};

/// What a person asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Give(String),
    Withdraw(String),
    ObjectDirectMarketing,
    WithdrawObjection,
}

impl Change {
    pub fn parse(action: &str, purpose: &str) -> std::result::Result<Change, String> {
        let need = || {
            if purpose.trim().is_empty() {
                Err(format!("`{action}` needs a purpose"))
            } else {
                Ok(purpose.trim().to_string())
            }
        };
        match action.trim() {
            "give" => Ok(Change::Give(need()?)),
            "withdraw" => Ok(Change::Withdraw(need()?)),
            "object-direct-marketing" | "object" => Ok(Change::ObjectDirectMarketing),
            "withdraw-objection" => Ok(Change::WithdrawObjection),
            other => Err(format!(
                "unknown action `{other}` (give, withdraw, object-direct-marketing, withdraw-objection)"
            )),
        }
    }
}

/// Where one consent stands now for a person: a purpose of a declaration
/// that rests on consent, in the notice that governs their record.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentStanding {
    /// The declaration's id, and what the notice says it is for.
    pub declaration: String,
    pub summary: Option<String>,
    /// The purpose's key.
    pub purpose: String,
    pub status: ConsentStatus,
    /// When the event that decided it happened; None: the box at collection.
    pub since: Option<String>,
}

/// A person's consents and objection as the gate would judge them now.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    /// The notice whose declarations are listed: the last one the person
    /// was shown (re-consent under a newer one), else the collection notice.
    pub notice: String,
    pub consents: Vec<ConsentStanding>,
    /// When the objection to direct marketing was made, if it stands.
    pub objected_since: Option<String>,
}

impl<S: Store> Engine<S> {
    /// Where `subject`'s consents to `org` stand at `at`, decided by the
    /// same rules the gate applies (`Preferences::consent`): a withdrawal of
    /// a purpose withdraws every narrower one, and a box ticked at
    /// collection counts only for its own declaration.
    pub fn consent_standing(&self, org: &str, subject: &str, at: Instant) -> Result<Standing> {
        self.org(org)?;
        let record = self.store.collected(org, subject)?.ok_or_else(|| {
            Error::NotFound(format!("{org} collected no record for subject `{subject}`"))
        })?;
        let notices = crate::holdings::all_notices(&self.store, &self.vocab)?;
        let collection_notice = record
            .notice
            .and_then(|n| notices.get(&n))
            .ok_or_else(|| Error::NotFound("collection notice".into()))?;
        let events = self
            .store
            .preferences_of(record.id)?
            .iter()
            .map(|r| crate::holdings::preference_event(&self.vocab, r))
            .collect::<Result<Vec<_>>>()?;
        let prefs = Preferences {
            collected_at: crate::instant(record.at),
            collection_notice,
            consented: record.consented,
            events: &events,
        };
        let notice = prefs
            .notice_at(at)
            .and_then(|n| notices.get(&n))
            .unwrap_or(collection_notice);
        let mut consents = Vec::new();
        for (d, src) in notice.declarations.iter().zip(&notice.source.declarations) {
            if d.basis != LegalBasis::Consent {
                continue;
            }
            for p in &d.purposes {
                let (status, cause) = prefs.consent_and_cause(&self.vocab, &d.id, *p, at);
                consents.push(ConsentStanding {
                    declaration: d.id.clone(),
                    summary: src.summary.clone(),
                    purpose: self.vocab.term(*p).key.clone(),
                    status,
                    since: cause.map(|e| format_instant(&e.at)),
                });
            }
        }
        let objected_since = prefs.objected(at).then(|| {
            events
                .iter()
                .filter(|e| e.at <= at)
                .rev()
                .find(|e| e.preference == Preference::ObjectDirectMarketing)
                .map(|e| format_instant(&e.at))
                .unwrap_or_default()
        });
        Ok(Standing {
            notice: notice.version.clone(),
            consents,
            objected_since,
        })
    }

    fn preference_row(
        &self,
        org: &str,
        subject: &str,
        change: &Change,
        at: Instant,
        notice: Option<i64>,
        source: &str,
    ) -> std::result::Result<PreferenceRow, (String, String)> {
        let record = self
            .store
            .collected(org, subject)
            .map_err(|e| ("subject".to_string(), e.to_string()))?
            .ok_or_else(|| {
                (
                    "subject".to_string(),
                    format!("{org} collected no record for subject `{subject}`"),
                )
            })?;
        let resolve = |p: &str| {
            self.vocab
                .resolve(TermKind::Purpose, p)
                .map(|t| self.vocab.term(t).key.clone())
                .map_err(|e| ("purpose".to_string(), e.to_string()))
        };
        let (action, purpose) = match change {
            Change::Give(p) => ("give", Some(resolve(p)?)),
            Change::Withdraw(p) => ("withdraw", Some(resolve(p)?)),
            Change::ObjectDirectMarketing => ("object-direct-marketing", None),
            Change::WithdrawObjection => ("withdraw-objection", None),
        };
        if seconds(at) < record.at {
            return Err((
                "at".into(),
                format!("{} is before the record was collected", at.date_naive()),
            ));
        }
        Ok(PreferenceRow {
            record: record.id,
            at: seconds(at),
            action: action.into(),
            purpose,
            notice,
            source: source.into(),
        })
    }

    pub fn record_preference(
        &mut self,
        org: &str,
        subject: &str,
        change: &Change,
        at: Instant,
        notice: Option<&str>,
    ) -> Result<()> {
        self.record_preference_from(org, subject, change, at, notice, "cli")
    }

    /// [`record_preference`](Self::record_preference), saying where the event
    /// came from (`cli`, `api`, `api:subject`).
    pub fn record_preference_from(
        &mut self,
        org: &str,
        subject: &str,
        change: &Change,
        at: Instant,
        notice: Option<&str>,
        source: &str,
    ) -> Result<()> {
        self.org(org)?;
        // An unknown purpose is its own error, not a generic invalid input.
        if let Change::Give(p) | Change::Withdraw(p) = change {
            self.vocab.resolve(TermKind::Purpose, p)?;
        }
        let notice = notice
            .map(|v| self.notice(org, Some(v)))
            .transpose()?
            .map(|n| n.id);
        let row = self
            .preference_row(org, subject, change, at, notice, source)
            .map_err(|(field, message)| Error::Invalid(format!("{field}: {message}")))?;
        logged(&mut self.store, &self.signer, |s, log| {
            s.insert_preferences(std::slice::from_ref(&row))?;
            let key = subject_key(s, org)?;
            log.append(s, &preference_entry(&key, org, subject, &row))
        })
    }

    /// Bulk events: CSV with columns `subject,action,purpose,at` and optionally
    /// `notice`. All rows land or none.
    pub fn import_preferences(
        &mut self,
        org: &str,
        path: &Path,
        default_at: Instant,
    ) -> Result<u64> {
        self.org(org)?;
        let file = path.display().to_string();
        let mut reader = csv::Reader::from_path(path).map_err(|e| Error::csv(path, e))?;
        let header = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
        let col = |name: &str| header.iter().position(|h| h == name);
        let subject_col = col("subject").ok_or_else(|| Error::Input {
            file: file.clone(),
            line: 1,
            field: "subject".into(),
            message:
                "the file needs a `subject` column (columns: subject,action,purpose,at[,notice])"
                    .into(),
        })?;
        let action_col = col("action").ok_or_else(|| Error::Input {
            file: file.clone(),
            line: 1,
            field: "action".into(),
            message: "the file needs an `action` column".into(),
        })?;
        let (purpose_col, at_col, notice_col) = (col("purpose"), col("at"), col("notice"));
        // Notice labels resolve once, not once per row.
        let versions: std::collections::HashMap<String, i64> = self
            .notices(org)?
            .into_iter()
            .map(|n| (n.version, n.id))
            .collect();
        let mut rows = Vec::new();
        let mut subjects = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| Error::csv(path, e))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(i as u64 + 2);
            let fail = |(field, message): (String, String)| Error::Input {
                file: file.clone(),
                line,
                field,
                message,
            };
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("");
            let change = Change::parse(get(Some(action_col)), get(purpose_col))
                .map_err(|m| fail(("action".into(), m)))?;
            let at = match get(at_col).trim() {
                "" => default_at,
                s => parse_instant(s).map_err(|e| fail(("at".into(), e.to_string())))?,
            };
            let notice = match notice_col
                .map(|c| rec.get(c).unwrap_or("").trim())
                .filter(|v| !v.is_empty())
            {
                Some(v) => Some(*versions.get(v).ok_or_else(|| {
                    let mut known: Vec<&str> = versions.keys().map(String::as_str).collect();
                    known.sort();
                    fail((
                        "notice".into(),
                        format!(
                            "{org} has no notice version `{v}` (published: {})",
                            known.join(", ")
                        ),
                    ))
                })?),
                None => None,
            };
            let subject = get(Some(subject_col)).trim();
            rows.push(
                self.preference_row(org, subject, &change, at, notice, &file)
                    .map_err(fail)?,
            );
            subjects.push(subject.to_string());
        }
        // Keep each record's events in time order as they are stored and logged.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| (rows[i].record, rows[i].at));
        let rows: Vec<(PreferenceRow, String)> = order
            .into_iter()
            .map(|i| (rows[i].clone(), std::mem::take(&mut subjects[i])))
            .collect();
        let n = rows.len() as u64;
        logged(&mut self.store, &self.signer, |s, log| {
            let plain: Vec<PreferenceRow> = rows.iter().map(|(r, _)| r.clone()).collect();
            s.insert_preferences(&plain)?;
            let key = subject_key(s, org)?;
            for (row, subject) in &rows {
                log.append(s, &preference_entry(&key, org, subject, row))?;
            }
            Ok(())
        })?;
        Ok(n)
    }
}

fn preference_entry(key: &SubjectKey, org: &str, subject: &str, row: &PreferenceRow) -> Entry {
    Entry::PreferenceRecorded {
        at: row.at,
        subject: key.commit(subject),
        org: org.into(),
        action: row.action.clone(),
        purpose: row.purpose.clone(),
        notice: row.notice.map(|n| n as u64),
    }
}
