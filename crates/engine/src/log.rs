//! The transparency log as its users see it: the latest checkpoint and the
//! key that verifies it, consistency proofs between checkpoints, inclusion
//! proofs; and, one module each, what the rest of custody does with it:
//! appending entries and signing checkpoints ([`sequencer`]), the full
//! re-verification ([`verify`]) and a share's verification of what it rests
//! on ([`vouch`], [`binding`], [`refusals`]), export as C2SP tlog-tiles
//! ([`export`]), receipts ([`receipt`]), subject commitments
//! ([`commitment`]) and the signing key ([`signing_key`]).

pub(crate) mod binding;
pub(crate) mod commitment;
mod export;
pub mod receipt;
pub(crate) mod refusals;
pub(crate) mod sequencer;
pub mod signing_key;
pub(crate) mod verify;
pub mod vouch;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_log::checkpoint::{self, Checkpoint};
use custody_log::merkle;
use custody_log::note::{Signer, Verifier};
use custody_log::proof::TlogProof;
use custody_log::Hash;
use custody_store::Store;
use serde::Serialize;

use custody_core::time::Instant;
use sequencer::tile_source;

use crate::{instant, logged, Engine, Error, Result};

pub use export::Exported;
pub use verify::Verified;

pub(crate) const ORIGIN_SETTING: &str = "log.origin";

/// Refuses a key that is not the one this log was signed with.
pub(crate) fn check_signer<S: Store>(store: &S, signer: &Signer) -> Result<()> {
    if let Some(origin) = store.setting(ORIGIN_SETTING)? {
        if origin != signer.name() {
            return Err(Error::Log(format!(
                "this log's origin is `{origin}` but the signing key is for `{}`: use the key the log was started with",
                signer.name()
            )));
        }
    }
    if let Some((size, note)) = store.latest_checkpoint()? {
        open_checkpoint(&note, &signer.verifier()).map_err(|_| {
            Error::Log(format!(
                "the checkpoint signed at size {size} does not verify with the key {}: \
                 this is not the key the log was signed with",
                signer.verifier().to_text()
            ))
        })?;
    }
    Ok(())
}

pub(crate) fn open_checkpoint(note: &str, verifier: &Verifier) -> Result<Checkpoint> {
    checkpoint::open_checkpoint(note, verifier).map_err(|e| Error::Log(format!("checkpoint: {e}")))
}

/// A proof that the current tree extends an older checkpoint.
#[derive(Debug, Serialize)]
pub struct Consistency {
    pub from_size: u64,
    pub to_size: u64,
    pub proof: Vec<String>,
}

impl<S: Store> Engine<S> {
    /// Records the log's origin and signs its first (possibly empty) checkpoint.
    pub fn init_log(&mut self) -> Result<String> {
        // Signing the first checkpoint records the origin too.
        if self.store.latest_checkpoint()?.is_none() {
            logged(&mut self.store, &self.signer, |_, _| Ok(()))?;
        }
        self.checkpoint()
    }

    /// The latest signed checkpoint, as the signed note.
    pub fn checkpoint(&self) -> Result<String> {
        Ok(self
            .store
            .latest_checkpoint()?
            .ok_or_else(|| {
                Error::NotFound("the log has no checkpoint yet: run `custody init`".into())
            })?
            .1)
    }

    /// The verifier key, `<origin>+<key id>+<key>`.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier().to_text()
    }

    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The latest checkpoint, opened.
    pub fn latest(&self) -> Result<(Checkpoint, String)> {
        let note = self.checkpoint()?;
        Ok((open_checkpoint(&note, &self.signer.verifier())?, note))
    }

    /// The proof that the latest checkpoint's tree extends `old` (a signed
    /// checkpoint note of this log). The proof is checked before it is given.
    pub fn consistency(&self, old: &str) -> Result<Consistency> {
        let old = open_checkpoint(old, &self.signer.verifier())?;
        let (new, _) = self.latest()?;
        self.prove_extends(&old, &new)
    }

    /// The proof that the checkpoint signed at `new_size` extends the one
    /// signed at `old_size`, both as stored and each checked against the
    /// log's key: what a regulator asks to see the log was never rewritten
    /// between two dates.
    pub fn consistency_between(&self, old_size: u64, new_size: u64) -> Result<Consistency> {
        let (old, _) = self.signed_checkpoint(old_size)?;
        let (new, _) = self.signed_checkpoint(new_size)?;
        self.prove_extends(&old, &new)
    }

    /// The checkpoint signed for `size` entries, opened, and its note.
    pub fn signed_checkpoint(&self, size: u64) -> Result<(Checkpoint, String)> {
        let note = self
            .store
            .checkpoint_of_size(size)?
            .ok_or_else(|| Error::NotFound(format!("no checkpoint was signed for size {size}")))?;
        Ok((open_checkpoint(&note, &self.signer.verifier())?, note))
    }

    /// Every signed checkpoint's size and when it was signed, smallest first.
    pub fn checkpoint_times(&self) -> Result<Vec<(u64, Instant)>> {
        Ok(self
            .store
            .checkpoint_times()?
            .into_iter()
            .map(|(size, at)| (size, instant(at)))
            .collect())
    }

    fn prove_extends(&self, old: &Checkpoint, new: &Checkpoint) -> Result<Consistency> {
        if old.size > new.size {
            return Err(Error::Log(format!(
                "the older checkpoint has {} entries but the newer has {}: the log has been truncated, or it is another log",
                old.size, new.size
            )));
        }
        if old.size == 0 {
            // Every tree extends the empty one; RFC 9162 defines no proof from it.
            return Ok(Consistency {
                from_size: 0,
                to_size: new.size,
                proof: Vec::new(),
            });
        }
        let source = tile_source(&self.store);
        let proof = merkle::consistency_proof(&source, old.size, new.size)
            .map_err(|e| Error::Log(e.to_string()))?;
        merkle::verify_consistency(old.size, new.size, &proof, &old.root, &new.root).map_err(|_| {
            Error::Log(format!(
                "the log does not extend the checkpoint of size {}: its first {} entries have another root now",
                old.size, old.size
            ))
        })?;
        Ok(Consistency {
            from_size: old.size,
            to_size: new.size,
            proof: proof.iter().map(|h| BASE64_STANDARD.encode(h)).collect(),
        })
    }

    /// Up to `limit` stored entries from index `from`.
    pub fn log_entries(&self, from: u64, limit: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let end = self.store.log_size()?.min(from.saturating_add(limit));
        (from..end)
            .map(|i| {
                Ok((
                    i,
                    self.store
                        .log_entry(i)?
                        .ok_or_else(|| Error::Log(format!("entry {i} is missing")))?,
                ))
            })
            .collect()
    }

    /// The inclusion proof of entry `index` in the tree of the first `size`
    /// entries, from the stored tiles.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        merkle::inclusion_proof(&tile_source(&self.store), index, size)
            .map_err(|e| Error::Log(e.to_string()))
    }

    /// Entry `index`, its inclusion proof in the latest checkpoint, and that checkpoint.
    pub fn inclusion(&self, index: u64) -> Result<(Vec<u8>, Vec<Hash>, String)> {
        let (cp, note) = self.latest()?;
        if index >= cp.size {
            return Err(Error::NotFound(format!(
                "the log has {} entries; there is no entry {index}",
                cp.size
            )));
        }
        let entry = self
            .store
            .log_entry(index)?
            .ok_or_else(|| Error::Log(format!("entry {index} is missing")))?;
        Ok((entry, self.inclusion_proof(index, cp.size)?, note))
    }

    /// Entry `index` as a C2SP tlog-proof: the entry's bytes as its extra
    /// data, the index, the inclusion proof and the latest checkpoint.
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        let (entry, proof, checkpoint) = self.inclusion(index)?;
        Ok(TlogProof {
            extra: Some(entry),
            index,
            proof,
            checkpoint,
        })
    }
}
