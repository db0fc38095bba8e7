//! Consent and objection events, one at a time or in bulk from CSV. Events
//! attach to the collecting organisation's record and are never overwritten.

use std::path::Path;

use custody_core::basis::LegalBasis;
use custody_core::entry::{Entry, SubjectKey};
use std::collections::HashMap;

use custody_core::notice::{Declaration, Notice};
use custody_core::preference::{
    purposes_told, touches, Asked, ConsentStatus, Preference, Preferences,
};
use custody_core::time::{format_instant, parse_instant, Instant};
use custody_core::vocab::{TermId, TermKind};
use custody_store::{PreferenceRow, RecordRow, Store};
use serde::Serialize;

use crate::table::{row_too_long, Bounded, RowLimit};
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

/// One change of mind to record: whose, what, when, under which notice and
/// from where.
#[derive(Debug, Clone, Copy)]
pub struct PreferenceRequest<'a> {
    pub org: &'a str,
    pub subject: &'a str,
    pub change: &'a Change,
    pub at: Instant,
    /// The notice version the person was shown, when it is a newer one.
    pub notice: Option<&'a str>,
    /// Where it came from: `cli`, `api`, `api:subject`, `web:subject`.
    pub source: &'a str,
}

/// What was recorded: the action, and the purpose as it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub action: String,
    /// The purpose's key and label, for give and withdraw.
    pub purpose: Option<String>,
    pub label: Option<String>,
}

impl Recorded {
    fn of(vocab: &custody_core::vocab::Vocabulary, row: &PreferenceRow) -> Recorded {
        let label = row
            .purpose
            .as_deref()
            .and_then(|k| vocab.get(k))
            .map(|id| vocab.term(id).label.clone());
        Recorded {
            action: row.action.clone(),
            purpose: row.purpose.clone(),
            label,
        }
    }
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words = crate::log::receipt::preference_in_words(&self.action, self.purpose.as_deref());
        f.write_str(&words)?;
        if let Some(label) = &self.label {
            write!(f, " ({label})")?;
        }
        Ok(())
    }
}

/// What a bulk load recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedPreferences {
    pub events: u64,
    /// Each purpose as the file wrote it, and the term it was recorded as.
    pub resolved: Vec<Resolution>,
}

/// A purpose as written, and as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub written: String,
    pub key: String,
    pub label: Option<String>,
    pub events: u64,
}

/// Per record, the purposes its person was told of or asked about
/// ([`purposes_told`]), loaded once per record however many events name it.
#[derive(Default)]
struct Told {
    notices: Option<HashMap<i64, Notice>>,
    by_record: HashMap<(i64, Option<i64>), Vec<TermId>>,
}

impl Told {
    fn of<S: Store>(
        &mut self,
        engine: &Engine<S>,
        record: &RecordRow,
        shown: Option<i64>,
    ) -> Result<&[TermId]> {
        let notices = match &mut self.notices {
            Some(n) => n,
            slot => slot.insert(crate::holdings::all_notices(&engine.store, &engine.vocab)?),
        };
        let purposes = match self.by_record.entry((record.id, shown)) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let events = engine
                    .store
                    .preferences_of(record.id)?
                    .iter()
                    .map(|r| crate::holdings::preference_event(&engine.vocab, r))
                    .collect::<Result<Vec<_>>>()?;
                let under = [record.notice, shown]
                    .into_iter()
                    .flatten()
                    .chain(events.iter().filter_map(|e| e.notice))
                    .filter_map(|n| notices.get(&n));
                v.insert(purposes_told(under, &events))
            }
        };
        Ok(purposes)
    }
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
            notices: &notices,
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
            // Informed of this declaration: the notice shown named every
            // recipient it names.
            let recipients_told = |shown: &Declaration| {
                d.recipient_orgs
                    .iter()
                    .all(|o| shown.recipient_orgs.contains(o))
                    && d.recipient_categories
                        .iter()
                        .all(|c| shown.recipient_categories.contains(c))
            };
            for p in &d.purposes {
                let asked = Asked {
                    declaration: &d.id,
                    purpose: *p,
                    at,
                    recipients_told: &recipients_told,
                };
                let (status, cause) = prefs.consent_and_cause(&self.vocab, &asked);
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

    /// The row one event becomes, or the field that makes it wrong. The
    /// outer error is the store's; the inner one is the request's.
    fn preference_row(
        &self,
        event: &PreferenceRequest,
        notice: Option<i64>,
        told: &mut Told,
    ) -> Result<std::result::Result<PreferenceRow, (String, String)>> {
        let (org, subject) = (event.org, event.subject);
        let Some(record) = self.store.collected(org, subject)? else {
            return Ok(Err((
                "subject".to_string(),
                format!("{org} collected no record for subject `{subject}`"),
            )));
        };
        let (action, purpose) = match event.change {
            Change::Give(p) => ("give", Some(p)),
            Change::Withdraw(p) => ("withdraw", Some(p)),
            // An objection to direct marketing is absolute (UK GDPR Art
            // 21(2), (3)) and binds future marketing too: always taken.
            Change::ObjectDirectMarketing => ("object-direct-marketing", None),
            Change::WithdrawObjection => ("withdraw-objection", None),
        };
        let purpose = match purpose {
            None => None,
            Some(p) => {
                let id = match self.vocab.resolve(TermKind::Purpose, p) {
                    Ok(id) => id,
                    Err(e) => return Ok(Err(("purpose".into(), e.to_string()))),
                };
                let purposes = told.of(self, &record, notice)?;
                if !touches(&self.vocab, id, purposes) {
                    return Ok(Err((
                        "purpose".into(),
                        self.touches_nothing(id, event, purposes),
                    )));
                }
                Some(self.vocab.term(id).key.clone())
            }
        };
        if let Err(e) = custody_core::time::check_claimed(&event.at, &chrono::Utc::now()) {
            return Ok(Err(("at".into(), e)));
        }
        if seconds(event.at) < record.at {
            return Ok(Err((
                "at".into(),
                format!(
                    "{} is before the record was collected",
                    event.at.date_naive()
                ),
            )));
        }
        Ok(Ok(PreferenceRow {
            record: record.id,
            at: seconds(event.at),
            action: action.into(),
            purpose,
            notice,
            source: event.source.into(),
            recorded: None,
        }))
    }

    /// Why a purpose cannot be consented to or withdrawn, naming the ones
    /// that can.
    fn touches_nothing(&self, id: TermId, event: &PreferenceRequest, told: &[TermId]) -> String {
        let t = self.vocab.term(id);
        let mut named: Vec<String> = told
            .iter()
            .map(|&p| format!("{} ({})", self.vocab.term(p).key, self.vocab.term(p).label))
            .collect();
        named.sort();
        format!(
            "`{}` ({}) is not among the purposes {} told `{}` about or asked consent for, nor broader \
             or narrower than one, so recording it would change nothing; the purposes are: {}",
            t.key,
            t.label,
            event.org,
            event.subject,
            if named.is_empty() { "none".into() } else { named.join(", ") }
        )
    }

    /// Record one change of mind, logged. Returns what was recorded, with
    /// the purpose as resolved, so that the person can be told which term
    /// their words became.
    pub fn record_preference(&mut self, event: &PreferenceRequest) -> Result<Recorded> {
        self.org(event.org)?;
        // An unknown or ambiguous purpose is its own error, not a generic
        // invalid input.
        if let Change::Give(p) | Change::Withdraw(p) = event.change {
            self.vocab.resolve(TermKind::Purpose, p)?;
        }
        let notice = event
            .notice
            .map(|v| self.notice(event.org, Some(v)))
            .transpose()?
            .map(|n| n.id);
        let row = self
            .preference_row(event, notice, &mut Told::default())?
            .map_err(|(field, message)| Error::Field { field, message })?;
        let recorded = Recorded::of(&self.vocab, &row);
        let (org, subject) = (event.org, event.subject);
        logged(&mut self.store, &self.signer, |s, log| {
            let row = PreferenceRow {
                recorded: Some(log.recorded()),
                ..row
            };
            s.insert_preferences(std::slice::from_ref(&row))?;
            let key = subject_key(s, org)?;
            log.append(s, &preference_entry(&key, org, subject, &row))
        })?;
        Ok(recorded)
    }

    /// Bulk events: CSV with columns `subject,action,purpose,at` and optionally
    /// `notice`. All rows land or none. Says which term each purpose, as
    /// written, was recorded as.
    pub fn import_preferences(
        &mut self,
        org: &str,
        path: &Path,
        default_at: Instant,
    ) -> Result<ImportedPreferences> {
        self.org(org)?;
        let file = path.display().to_string();
        let input = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut lines = PreferenceFile::new(&file, input, default_at)?;
        // Notice labels resolve once, not once per row.
        let versions: std::collections::HashMap<String, i64> = self
            .notices(org)?
            .into_iter()
            .map(|n| (n.version, n.id))
            .collect();
        let mut rows = Vec::new();
        let mut subjects = Vec::new();
        let mut told = Told::default();
        let mut resolved: std::collections::BTreeMap<(String, String), u64> = Default::default();
        while let Some(read) = lines.next_line()? {
            let fail = |(field, message): (String, String)| Error::Input {
                file: file.clone(),
                line: read.line,
                field,
                message,
            };
            let notice = match &read.notice {
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
            let subject = read.subject.as_str();
            let event = PreferenceRequest {
                org,
                subject,
                change: &read.change,
                at: read.at,
                notice: None,
                source: &file,
            };
            let row = self
                .preference_row(&event, notice, &mut told)?
                .map_err(fail)?;
            if let Some(key) = &row.purpose {
                *resolved
                    .entry((read.purpose.clone(), key.clone()))
                    .or_default() += 1;
            }
            rows.push(row);
            subjects.push(read.subject);
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
            let recorded = Some(log.recorded());
            let plain: Vec<PreferenceRow> = rows
                .iter()
                .map(|(r, _)| PreferenceRow {
                    recorded,
                    ..r.clone()
                })
                .collect();
            s.insert_preferences(&plain)?;
            let key = subject_key(s, org)?;
            for (row, subject) in &rows {
                log.append(s, &preference_entry(&key, org, subject, row))?;
            }
            Ok(())
        })?;
        Ok(ImportedPreferences {
            events: n,
            resolved: resolved
                .into_iter()
                .map(|((written, key), events)| Resolution {
                    label: self
                        .vocab
                        .get(&key)
                        .map(|id| self.vocab.term(id).label.clone()),
                    written,
                    key,
                    events,
                })
                .collect(),
        })
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
        record: Some(row.record as u64),
        source: Some(row.source.clone()),
    }
}

/// A preference file (CSV: `subject,action,purpose,at[,notice]`) read a row
/// at a time: its columns found and each row's change and time parsed, with
/// nothing looked up in the store. [`Engine::import_preferences`] reads its
/// file with it; so does the fuzz target `consent_file`.
pub struct PreferenceFile<R: std::io::Read> {
    file: String,
    reader: csv::Reader<Bounded<R>>,
    limit: RowLimit,
    record: csv::StringRecord,
    columns: PreferenceColumns,
    default_at: Instant,
    rows: u64,
}

struct PreferenceColumns {
    subject: usize,
    action: usize,
    purpose: Option<usize>,
    at: Option<usize>,
    notice: Option<usize>,
}

/// One row of a preference file, not yet matched to a record.
#[derive(Debug, Clone)]
pub struct PreferenceLine {
    pub line: u64,
    pub subject: String,
    pub change: Change,
    /// The purpose as written, to say which term it was recorded as.
    pub purpose: String,
    pub at: Instant,
    /// The notice version the row names, if any.
    pub notice: Option<String>,
}

impl<R: std::io::Read> PreferenceFile<R> {
    /// Reads the header of `input`, called `file` in errors; rows without
    /// an `at` take `default_at`.
    pub fn new(file: &str, input: R, default_at: Instant) -> Result<PreferenceFile<R>> {
        let (input, mut limit) = Bounded::new(input);
        let mut reader = csv::Reader::from_reader(input);
        let read = reader.headers().map(|_| ());
        match limit.header_read(&reader, read) {
            Ok(()) => {}
            Err(None) => return Err(row_too_long(Path::new(file), 1)),
            Err(Some(e)) => return Err(Error::csv(Path::new(file), e)),
        }
        let header = reader
            .headers()
            .map_err(|e| Error::csv(Path::new(file), e))?
            .clone();
        let col = |name: &str| header.iter().position(|h| h == name);
        let missing = |field: &str, message: &str| Error::Input {
            file: file.into(),
            line: 1,
            field: field.into(),
            message: message.into(),
        };
        let columns = PreferenceColumns {
            subject: col("subject").ok_or_else(|| {
                missing(
                    "subject",
                    "the file needs a `subject` column (columns: subject,action,purpose,at[,notice])",
                )
            })?,
            action: col("action")
                .ok_or_else(|| missing("action", "the file needs an `action` column"))?,
            purpose: col("purpose"),
            at: col("at"),
            notice: col("notice"),
        };
        Ok(PreferenceFile {
            file: file.into(),
            reader,
            limit,
            record: csv::StringRecord::new(),
            columns,
            default_at,
            rows: 0,
        })
    }

    /// The next row, None at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<PreferenceLine>> {
        let path = Path::new(&self.file);
        let start = self.limit.start();
        let more = match self.reader.read_record(&mut self.record) {
            Ok(more) => more,
            Err(_) if self.limit.tripped() => {
                return Err(row_too_long(path, self.limit.line_of(&self.record)))
            }
            Err(e) => return Err(Error::csv(path, e)),
        };
        if !more {
            return Ok(None);
        }
        self.rows += 1;
        let line = self.limit.line_of(&self.record);
        if !self.limit.row_read(&self.reader, start) {
            return Err(row_too_long(path, line));
        }
        let rec = &self.record;
        let fail = |field: &str, message: String| Error::Input {
            file: self.file.clone(),
            line,
            field: field.into(),
            message,
        };
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("");
        let c = &self.columns;
        let change =
            Change::parse(get(Some(c.action)), get(c.purpose)).map_err(|m| fail("action", m))?;
        let at = match get(c.at).trim() {
            "" => self.default_at,
            s => parse_instant(s).map_err(|e| fail("at", e.to_string()))?,
        };
        let notice = Some(get(c.notice).trim())
            .filter(|v| !v.is_empty())
            .map(String::from);
        Ok(Some(PreferenceLine {
            line,
            subject: get(Some(c.subject)).trim().to_string(),
            change,
            purpose: get(c.purpose).trim().to_string(),
            at,
            notice,
        }))
    }
}
