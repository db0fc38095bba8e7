//! Subject commitments: a record is committed to, wherever it is held, under
//! the key of the organisation that collected it, so every entry about one
//! person carries the same commitment along the chain.

use custody_core::entry::{Commitment, SubjectKey};
use custody_core::NoticeId;
use custody_store::Store;
use rustc_hash::FxHashMap;

use crate::{Error, Result};

/// The key behind an organisation's subject commitments, made the first time
/// it is needed. Call inside a transaction.
pub(crate) fn subject_key<S: Store + ?Sized>(store: &mut S, org: &str) -> Result<SubjectKey> {
    if let Some(key) = existing_key(store, org)? {
        return Ok(key);
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    store.insert_org_secret(org, &secret)?;
    Ok(SubjectKey::new(&secret))
}

/// The key behind an organisation's subject commitments, if it has one yet.
pub(crate) fn existing_key<S: Store + ?Sized>(store: &S, org: &str) -> Result<Option<SubjectKey>> {
    Ok(store
        .org_secret(org)?
        .map(|secret| SubjectKey::new(&secret)))
}

/// Commits to held records by the notice they were collected under: the
/// notice says which organisation collected them.
pub(crate) struct Committer {
    by_notice: FxHashMap<NoticeId, SubjectKey>,
}

impl Committer {
    /// Call inside a transaction: it may create missing keys.
    pub(crate) fn load<S: Store + ?Sized>(store: &mut S) -> Result<Committer> {
        let mut by_org: FxHashMap<String, SubjectKey> = FxHashMap::default();
        let mut by_notice = FxHashMap::default();
        for n in store.notices(None)? {
            if !by_org.contains_key(&n.org) {
                let key = subject_key(store, &n.org)?;
                by_org.insert(n.org.clone(), key);
            }
            by_notice.insert(n.id, by_org[&n.org].clone());
        }
        Ok(Committer { by_notice })
    }

    pub(crate) fn commit(&self, notice: NoticeId, subject: &str) -> Result<Commitment> {
        let key = self
            .by_notice
            .get(&notice)
            .ok_or_else(|| Error::Invalid(format!("no notice {notice}")))?;
        Ok(key.commit(subject))
    }
}
