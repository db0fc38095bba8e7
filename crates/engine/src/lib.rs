//! custody's workflows over a [`Store`]: what the CLI (and later the server)
//! call. Each public operation is one transaction.

pub mod access;
pub mod audit;
pub mod collection;
pub mod disclosure;
pub mod error;
pub mod history;
pub mod holdings;
mod input;
pub mod keys;
pub mod log;
mod outcome;
pub mod preferences;
pub mod progress;
pub mod publishing;
pub mod screen;
pub mod snapshot;
pub mod table;
pub mod trace;

use custody_core::entry::Entry;
use custody_core::organisation::{validate_id, Organisation};
use custody_core::time::Instant;
use custody_core::vocab::{ExplicitPurpose, TermKind, Vocabulary};
use custody_log::note::Signer;
use custody_store::{atomic, Store, StoredTerm};

use log::commitment::subject_key;
use log::sequencer::Sequencer;

pub use error::{Error, Result};
pub use progress::{Progress, Silent};

/// A store with the vocabulary it extends (the embedded DPV and fideslang
/// terms, organisations' own terms, the explicit-purpose list in force) and
/// the key that signs its log's checkpoints.
pub struct Engine<S: Store> {
    pub store: S,
    pub vocab: Vocabulary,
    signer: Signer,
    /// Notices resolved, for disclosures of named records.
    notices: disclosure::named::NoticeCache,
    /// What this engine's connection has verified, for the decisions it
    /// makes without a verification of their own ([`log::vouch`]).
    vouched: log::vouch::Vouched,
}

/// Runs `f` in one transaction that also appends its log entries and signs
/// the checkpoint covering them: all of it lands, or none of it.
pub(crate) fn logged<S: Store, T>(
    store: &mut S,
    signer: &Signer,
    f: impl FnOnce(&mut S, &mut Sequencer) -> Result<T>,
) -> Result<T> {
    atomic(store, |s| {
        let mut seq = Sequencer::begin(s, signer)?;
        let out = f(s, &mut seq)?;
        seq.seal(s, signer, seconds(chrono::Utc::now()))?;
        Ok(out)
    })
}

/// The vocabulary: the embedded one, with the store's terms and explicit
/// purposes.
pub(crate) fn vocabulary<S: Store>(store: &S) -> Result<Vocabulary> {
    let mut vocab = Vocabulary::embedded();
    for t in store.terms()? {
        // A stored term that does not load was edited by hand: say where.
        let unloadable = |e: String| {
            Error::Log(format!(
                "the store's terms row `{}` does not load ({e}): it was edited behind custody's back",
                t.key
            ))
        };
        let kind: TermKind = t.kind.parse().map_err(|e| unloadable(format!("{e}")))?;
        let parents = t
            .parents
            .iter()
            .map(|p| vocab.resolve(kind, p))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| unloadable(e.to_string()))?;
        vocab
            .add_term(&t.org, &t.key, kind, &t.label, &t.definition, &parents)
            .map_err(|e| unloadable(e.to_string()))?;
    }
    if let Some(list) = store.explicit_purposes()? {
        let list = list
            .iter()
            .map(|(k, reason)| {
                Ok(ExplicitPurpose {
                    term: vocab.resolve(TermKind::Purpose, k)?,
                    reason: reason.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        vocab.set_explicit_purposes(list);
    }
    Ok(vocab)
}

pub(crate) fn seconds(t: Instant) -> i64 {
    t.timestamp()
}

pub(crate) fn instant(s: i64) -> Instant {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

impl<S: Store> Engine<S> {
    /// Opens a store whose log `signer` signs. The key must be the one that
    /// signed the log so far, under the origin the log was started with.
    pub fn open(store: S, signer: Signer) -> Result<Self> {
        log::check_signer(&store, &signer)?;
        let vocab = vocabulary(&store)?;
        Ok(Engine {
            store,
            vocab,
            signer,
            notices: None,
            vouched: Default::default(),
        })
    }

    pub fn org(&self, id: &str) -> Result<Organisation> {
        self.store.org(id)?.ok_or_else(|| {
            let known: Vec<String> = self
                .store
                .orgs()
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.id)
                .collect();
            Error::NotFound(format!(
                "no organisation `{id}` (known: {}); add it with `custody org add`",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    pub fn add_org(&mut self, org: &Organisation) -> Result<()> {
        validate_id(&org.id).map_err(Error::Invalid)?;
        if let Some(problem) = custody_core::text::identifier_problem(&org.name) {
            return Err(Error::Field {
                field: "name".into(),
                message: format!("the organisation's name {problem}"),
            });
        }
        logged(&mut self.store, &self.signer, |s, log| {
            s.insert_org(org)?;
            subject_key(s, &org.id)?;
            let at = seconds(chrono::Utc::now());
            log.append(
                s,
                &Entry::OrgAdded {
                    at,
                    org: org.id.clone(),
                    name: org.name.clone(),
                    role: org.role.as_str().into(),
                    categories: Some(
                        org.categories
                            .iter()
                            .map(|c| c.as_str().to_string())
                            .collect(),
                    ),
                },
            )
        })
    }

    /// An organisation's own term, under existing terms of the same kind.
    pub fn add_term(
        &mut self,
        org: &str,
        key: &str,
        kind: TermKind,
        label: &str,
        definition: &str,
        parents: &[String],
    ) -> Result<()> {
        self.org(org)?;
        let checks = [
            ("label", custody_core::text::identifier_problem(label)),
            ("definition", custody_core::text::field_problem(definition)),
        ];
        if let Some((field, Some(problem))) = checks.into_iter().find(|(_, p)| p.is_some()) {
            return Err(Error::Field {
                field: field.into(),
                message: format!("the term's {field} {problem}"),
            });
        }
        let ids = parents
            .iter()
            .map(|p| self.vocab.resolve(kind, p))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let id = self
            .vocab
            .add_term(org, key, kind, label, definition, &ids)?;
        let stored = StoredTerm {
            key: self.vocab.term(id).key.clone(),
            kind: kind.to_string(),
            label: label.into(),
            definition: definition.into(),
            parents: ids
                .iter()
                .map(|p| self.vocab.term(*p).key.clone())
                .collect(),
            org: org.into(),
        };
        logged(&mut self.store, &self.signer, |s, log| {
            s.insert_term(&stored)?;
            let entry = Entry::TermAdded {
                at: seconds(chrono::Utc::now()),
                org: stored.org.clone(),
                key: stored.key.clone(),
                kind: stored.kind.clone(),
                parents: stored.parents.clone(),
                label: Some(stored.label.clone()),
                definition: Some(stored.definition.clone()),
            };
            log.append(s, &entry)
        })
    }

    /// Replace the explicit-purpose list (each with the reason it must be named).
    pub fn set_explicit(&mut self, list: Vec<(String, String)>) -> Result<()> {
        let resolved = list
            .iter()
            .map(|(k, r)| {
                Ok(ExplicitPurpose {
                    term: self.vocab.resolve(TermKind::Purpose, k)?,
                    reason: r.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<(String, String)> = resolved
            .iter()
            .map(|e| (self.vocab.term(e.term).key.clone(), e.reason.clone()))
            .collect();
        logged(&mut self.store, &self.signer, |s, log| {
            s.set_explicit_purposes(&keys)?;
            log.append(
                s,
                &Entry::ExplicitPurposesSet {
                    at: seconds(chrono::Utc::now()),
                    purposes: keys.iter().map(|(k, _)| k.clone()).collect(),
                    reasons: Some(keys.iter().map(|(_, r)| r.clone()).collect()),
                },
            )
        })?;
        self.vocab.set_explicit_purposes(resolved);
        Ok(())
    }
}
