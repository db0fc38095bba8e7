//! custody's workflows over a [`Store`]: what the CLI (and later the server)
//! call. Each public operation is one transaction.

pub mod audit;
pub mod collection;
pub mod disclosure;
pub mod error;
pub mod history;
pub mod holdings;
pub mod preferences;
pub mod progress;
pub mod publishing;
pub mod synth;
pub mod trace;

use custody_core::organisation::{validate_id, Organisation};
use custody_core::time::Instant;
use custody_core::vocab::{ExplicitPurpose, TermKind, Vocabulary};
use custody_store::{atomic, Store, StoredTerm};

pub use error::{Error, Result};
pub use progress::{Progress, Silent};

/// A store with the vocabulary it extends: the embedded DPV and fideslang
/// terms, organisations' own terms, and the explicit-purpose list in force.
pub struct Engine<S: Store> {
    pub store: S,
    pub vocab: Vocabulary,
}

pub(crate) fn seconds(t: Instant) -> i64 {
    t.timestamp()
}

pub(crate) fn instant(s: i64) -> Instant {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

impl<S: Store> Engine<S> {
    pub fn open(store: S) -> Result<Self> {
        let mut vocab = Vocabulary::embedded();
        for t in store.terms()? {
            let kind: TermKind = t.kind.parse().map_err(|e| Error::Invalid(format!("stored term {}: {e}", t.key)))?;
            let parents = t.parents.iter().map(|p| vocab.resolve(kind, p)).collect::<std::result::Result<Vec<_>, _>>()?;
            vocab.add_term(&t.org, &t.key, kind, &t.label, &t.definition, &parents)?;
        }
        if let Some(list) = store.explicit_purposes()? {
            let list = list
                .iter()
                .map(|(k, reason)| Ok(ExplicitPurpose { term: vocab.resolve(TermKind::Purpose, k)?, reason: reason.clone() }))
                .collect::<Result<Vec<_>>>()?;
            vocab.set_explicit_purposes(list);
        }
        Ok(Engine { store, vocab })
    }

    pub fn org(&self, id: &str) -> Result<Organisation> {
        self.store.org(id)?.ok_or_else(|| {
            let known: Vec<String> = self.store.orgs().unwrap_or_default().into_iter().map(|o| o.id).collect();
            Error::NotFound(format!(
                "no organisation `{id}` (known: {}); add it with `custody org add`",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })
    }

    pub fn add_org(&mut self, org: &Organisation) -> Result<()> {
        validate_id(&org.id).map_err(Error::Invalid)?;
        atomic(&mut self.store, |s| s.insert_org(org))?;
        Ok(())
    }

    /// An organisation's own term, under existing terms of the same kind.
    pub fn add_term(&mut self, org: &str, key: &str, kind: TermKind, label: &str, definition: &str, parents: &[String]) -> Result<()> {
        self.org(org)?;
        let ids = parents.iter().map(|p| self.vocab.resolve(kind, p)).collect::<std::result::Result<Vec<_>, _>>()?;
        let id = self.vocab.add_term(org, key, kind, label, definition, &ids)?;
        let stored = StoredTerm {
            key: self.vocab.term(id).key.clone(),
            kind: kind.to_string(),
            label: label.into(),
            definition: definition.into(),
            parents: ids.iter().map(|p| self.vocab.term(*p).key.clone()).collect(),
            org: org.into(),
        };
        atomic(&mut self.store, |s| s.insert_term(&stored))?;
        Ok(())
    }

    /// Replace the explicit-purpose list (each with the reason it must be named).
    pub fn set_explicit(&mut self, list: Vec<(String, String)>) -> Result<()> {
        let resolved = list
            .iter()
            .map(|(k, r)| Ok(ExplicitPurpose { term: self.vocab.resolve(TermKind::Purpose, k)?, reason: r.clone() }))
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<(String, String)> =
            resolved.iter().map(|e| (self.vocab.term(e.term).key.clone(), e.reason.clone())).collect();
        atomic(&mut self.store, |s| s.set_explicit_purposes(&keys))?;
        self.vocab.set_explicit_purposes(resolved);
        Ok(())
    }
}
