//! Consent and objection events, one at a time or in bulk from CSV. Events
//! attach to the collecting organisation's record and are never overwritten.

use std::path::Path;

use custody_core::entry::{Entry, SubjectKey};
use custody_core::time::{parse_instant, Instant};
use custody_core::vocab::TermKind;
use custody_store::{PreferenceRow, Store};

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

impl<S: Store> Engine<S> {
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
