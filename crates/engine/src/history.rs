//! Disclosures that happened without the gate (as in 2017), recorded so that
//! they can be audited and traced. Nothing is decided here.

use std::path::Path;

use custody_core::entry::Entry;
use custody_core::text::HISTORY_LIMIT;
use custody_core::time::parse_instant;
use custody_core::vocab::TermKind;
use custody_store::{DisclosureRow, Store};
use serde::{Deserialize, Serialize};

use crate::disclosure::{record_disclosure, Listed, Selection};
use crate::log::commitment::Committer;
use crate::outcome::{Outcome, CHUNK};
use crate::{logged, seconds, Engine, Error, Result};

/// A history file as written: its disclosures, nothing yet checked against
/// the store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    pub disclosure: Vec<HistoryEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub to: String,
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    pub at: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    #[serde(default)]
    pub basis: Option<String>,
    /// "all", or a CSV of subjects relative to the history file.
    pub records: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Parses the text of a history file called `file` (TOML); the pure step of
/// [`Engine::import_history`], which the fuzz target `history` drives.
pub fn parse_history(file: &str, text: &str) -> Result<HistoryFile> {
    toml::from_str(text).map_err(|e| Error::Invalid(format!("{file}: {e}")))
}

#[derive(Debug, Serialize)]
pub struct Imported {
    pub disclosure: i64,
    pub to: String,
    pub at: String,
    pub records: u64,
    pub not_held: u64,
}

impl<S: Store> Engine<S> {
    pub fn import_history(&mut self, org: &str, path: &Path) -> Result<Vec<Imported>> {
        self.org(org)?;
        let file = path.display().to_string();
        let text = crate::input::read_text(path, HISTORY_LIMIT, "a history file")?;
        let parsed = parse_history(&file, &text)?;
        let vocab = &self.vocab;
        let mut plans = Vec::new();
        for (i, e) in parsed.disclosure.iter().enumerate() {
            let field = |name: &str, message: String| {
                Error::Invalid(format!("{file}: disclosure[{i}].{name}: {message}"))
            };
            let to = self
                .org(&e.to)
                .map_err(|err| field("to", err.to_string()))?;
            if to.id == org {
                return Err(field(
                    "to",
                    format!("`{org}` is the organisation itself: a disclosure goes to another one"),
                ));
            }
            for (name, list) in [("purposes", &e.purposes), ("categories", &e.categories)] {
                if list.is_empty() {
                    return Err(field(
                        name,
                        format!("names none: say which {name} the data was disclosed for"),
                    ));
                }
            }
            if let Some(o) = &e.on_behalf_of {
                self.org(o)
                    .map_err(|err| field("on_behalf_of", err.to_string()))?;
            }
            let at = parse_instant(&e.at).map_err(|err| field("at", err.to_string()))?;
            custody_core::time::check_claimed(&at, &chrono::Utc::now())
                .map_err(|err| field("at", err))?;
            let keys = |names: &[String], kind, name: &str| -> Result<Vec<String>> {
                names
                    .iter()
                    .map(|n| {
                        Ok(vocab
                            .term(
                                vocab
                                    .resolve(kind, n)
                                    .map_err(|err| field(name, err.to_string()))?,
                            )
                            .key
                            .clone())
                    })
                    .collect()
            };
            if let Some(b) = &e.basis {
                b.parse::<custody_core::basis::LegalBasis>()
                    .map_err(|m| field("basis", m))?;
            }
            let selection = match e.records.as_str() {
                "all" => Selection::All,
                rel => Selection::Subjects(path.parent().unwrap_or(Path::new(".")).join(rel)),
            };
            plans.push((
                DisclosureRow {
                    from_org: org.into(),
                    to_org: to.id,
                    on_behalf_of: e.on_behalf_of.clone(),
                    at: seconds(at),
                    purposes: keys(&e.purposes, TermKind::Purpose, "purposes")?,
                    categories: keys(&e.categories, TermKind::DataCategory, "categories")?,
                    basis: e.basis.clone(),
                    gated: false,
                    note: e.note.clone(),
                    created_at: seconds(chrono::Utc::now()),
                    ..Default::default()
                },
                selection,
                e.at.clone(),
            ));
        }
        logged(&mut self.store, &self.signer, |s, log| {
            let committer = Committer::load(s)?;
            let collectors = crate::holdings::all_notices(s, vocab)?;
            let mut out = Vec::new();
            for (mut row, selection, at) in plans {
                // The list names holdings as a share's does (README: The
                // rules, one person, one holding).
                let mut listed = selection.listed()?;
                let mut records = Vec::new();
                s.for_each_held(org, &mut |h| {
                    let collector = collectors.get(&h.notice).map_or("", |n| n.org.as_str());
                    if h.collected_at <= row.at
                        && listed
                            .as_mut()
                            .is_none_or(|l| l.names(collector, h.subject))
                    {
                        records.push((h.id, h.origin, h.subject.to_string(), h.notice));
                    }
                    Ok(())
                })?;
                let not_held = listed
                    .map(Listed::finish)
                    .transpose()?
                    .map_or(0, |n| n.len()) as i64;
                if records.is_empty() {
                    return Err(Error::Invalid(format!(
                        "{file}: the disclosure to {} on {at}: none of the records it names was held by {org} then",
                        row.to_org
                    )));
                }
                row.requested = records.len() as i64 + not_held;
                row.allowed = records.len() as i64;
                row.not_held = not_held;
                row.recorded = Some(log.recorded());
                let id = s.insert_disclosure(&row)?;
                let n = records.len() as u64;
                let outcomes = records
                    .into_iter()
                    .map(|(record, origin, subject, notice)| {
                        Ok(Outcome {
                            record,
                            origin,
                            reasons: None,
                            subject: committer.commit(notice, &subject)?,
                            copy: Some(subject),
                        })
                    })
                    .collect::<Result<Vec<Outcome>>>()?;
                let chunks: Vec<Result<Vec<Outcome>>> =
                    outcomes.chunks(CHUNK).map(|c| Ok(c.to_vec())).collect();
                record_disclosure(s, log, id, &row, chunks.into_iter(), |o| Entry::Disclosed {
                    at: row.at,
                    subject: o.subject,
                    disclosure: id as u64,
                    record: Some(o.record_ref()),
                })?;
                out.push(Imported {
                    disclosure: id,
                    to: row.to_org.clone(),
                    at,
                    records: n,
                    not_held: not_held as u64,
                });
            }
            Ok(out)
        })
    }
}
