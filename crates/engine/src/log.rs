//! The transparency log as its users see it: the latest checkpoint and the
//! key that verifies it, consistency proofs between checkpoints, a full
//! re-verification of the stored log, and export as C2SP tlog-tiles.

use std::path::{Path, PathBuf};

use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_core::entry::Entry;
use custody_log::checkpoint::{self, Checkpoint};
use custody_log::merkle;
use custody_log::note::{Signer, Verifier};
use custody_log::proof::TlogProof;
use custody_log::tiles::{self, TileId, TileWriter};
use custody_log::Hash;
use custody_store::{StateCounts, Store, Tally};
use serde::Serialize;

use crate::binding::Binder;
use crate::refusals::{self, Refusals, RefusalsFound};
use crate::sequencer::tile_source;
use custody_core::time::Instant;
use rustc_hash::FxHashSet;

use crate::{instant, logged, Engine, Error, Progress, Result};

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

/// What `custody log verify` found: all of it holds, or it returned an error.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub checkpoints: usize,
    /// The size of the checkpoint given with `--from`, shown consistent.
    pub from: Option<u64>,
    pub state: StateCounts,
    /// Every stored row was compared with its entry. False for a log begun
    /// before entry version 2, whose entries do not hold their whole rows:
    /// its state is checked by counts only.
    pub rows_bound: bool,
    /// The bundles found to hold only refusals, for the next share's
    /// verification ([`crate::refusals`]).
    #[serde(skip)]
    pub(crate) refusals: Refusals,
}

/// A proof that the current tree extends an older checkpoint.
#[derive(Debug, Serialize)]
pub struct Consistency {
    pub from_size: u64,
    pub to_size: u64,
    pub proof: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Exported {
    pub dir: PathBuf,
    pub size: u64,
    pub tiles: usize,
    pub bundles: u64,
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

    /// Recomputes the whole tree from the stored entries and checks it against
    /// the stored hashes, every signed checkpoint, `from` (a checkpoint someone
    /// kept), and the state the entries describe. The first fault is an error
    /// naming the entry.
    pub fn verify_log(&self, from: Option<&str>, progress: &dyn Progress) -> Result<Verified> {
        self.verify(from, None, progress)
    }

    /// What a decision about `org`'s records rest on, verified (issue 13,
    /// point 2): the whole tree, every entry hashed, against every signed
    /// checkpoint, and the rows of those facts bound to their entries
    /// ([`Binder::facts_of`]). The rows of entries the decisions do not rest
    /// on (a decision made, another holder's record) are not read; the
    /// entries are still hashed, since only a hashed entry says truly what
    /// it is.
    pub fn verify_facts_of(&self, org: &str, progress: &dyn Progress) -> Result<Verified> {
        self.verify(None, Some(org), progress)
    }

    fn verify(
        &self,
        from: Option<&str>,
        scope: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<Verified> {
        let verifier = self.signer.verifier();
        let checkpoints = self.signed_checkpoints(&verifier)?;
        let from = from.map(|n| open_checkpoint(n, &verifier)).transpose()?;
        // A share leaves unread the bundles a signed note says held only
        // refusals; `log verify` reads everything.
        let refusals = match scope {
            Some(_) => Refusals::load(&self.store, &verifier)?,
            None => None,
        };
        let noted = refusals.as_ref().map(|r| r.checkpoint(self.signer.name()));
        let mut targets: Vec<(&Checkpoint, &str)> = checkpoints
            .iter()
            .map(|c| (c, "the checkpoint signed"))
            .collect();
        targets.extend(from.iter().map(|f| (f, "the given checkpoint")));
        targets.extend(noted.iter().map(|n| (n, "the signed index of refusals")));
        targets.sort_by_key(|(c, _)| c.size);
        // Bundles a checkpoint was signed inside: the tree needs their leaves.
        let cut: FxHashSet<u64> = checkpoints
            .iter()
            .filter(|c| c.size % 256 != 0)
            .map(|c| c.size / 256)
            .collect();

        let size = self.store.log_size()?;
        let mut tree = Tree::new(targets);
        tree.check()?;
        let mut found = RefusalsFound::default();
        let mut level1 = Level1::default();
        let mut skipping = false;
        let mut stored_leaves: Vec<Hash> = Vec::new();
        let mut kinds = StateCounts::default();
        let mut expected = 0u64;
        progress.start("verifying the log", Some(size));
        // Rows are bound to entries only in a log of version-2 entries: a
        // version-1 entry does not hold its whole row.
        let mut binder = Some(match scope {
            Some(org) => Binder::facts_of(&self.store, org)?,
            None => Binder::new(&self.store)?,
        });
        // The stored tiles above level 0 are compared only in a whole
        // verification: no decision reads them.
        let compare = |dirty: Vec<(TileId, Vec<Hash>)>| match scope {
            None => compare_tiles(&self.store, dirty),
            Some(_) => Ok(()),
        };
        let mut unbound = false;
        let mut failed: Option<Error> = None;
        self.store.for_each_log_entry(0, &mut |index, bytes| {
            let fail = |m: String| custody_store::StoreError::Corrupt(m);
            if index != expected {
                return Err(fail(format!("entry {expected} is missing (the next stored entry is {index}): a row was deleted")));
            }
            expected += 1;
            progress.counted(expected);
            let bundle = index / 256;
            if index.is_multiple_of(256) {
                skipping = refusals.as_ref().is_some_and(|r| r.holds(bundle));
                if skipping {
                    let hash = level1.hash(&self.store, bundle)?;
                    tree.push_tile(hash).map_err(|e| fail(e.to_string()))?;
                    found.add(bundle);
                }
            }
            if skipping {
                return Ok(());
            }
            let entry = Entry::decode(bytes).map_err(|e| fail(format!("entry {index} does not decode: {e}")))?;
            count(&mut kinds, &entry);
            found.entry(index, refusals::is_refusal(&entry, bytes[0]));
            if index % 256 == 255 {
                found.bundle_ends(index, !cut.contains(&bundle));
            }
            // Every entry read is hashed, those no decision rests on too:
            // what an entry is (a fact, or a decision no share reads) is
            // only known from its bytes once they hash to the leaf the
            // signed root holds. Taken on trust, a fact's entry rewritten as
            // a refusal would drop out of the facts with its row.
            let leaf = merkle::leaf_hash(bytes);
            if scope.is_none() {
                // The stored hash names the entry edited; a share needs only
                // the root, which fails for the same edit.
                if index.is_multiple_of(256) {
                    let tile = self.store.log_tile(0, bundle)?.unwrap_or_default();
                    stored_leaves = tiles::decode_tile(&tile).unwrap_or_default();
                }
                if stored_leaves.get((index % 256) as usize) != Some(&leaf) {
                    return Err(fail(format!(
                        "entry {index} does not match the hash stored when it was appended: it was edited or moved"
                    )));
                }
            }
            tree.push(leaf).map_err(|e| fail(e.to_string()))?;
            if expected.is_multiple_of(crate::progress::STEP) {
                compare(tree.writer.take_dirty()).map_err(|e| fail(e.to_string()))?;
            }
            if bytes[0] != custody_core::entry::VERSION {
                binder = None;
                unbound = true;
            }
            if let Some(b) = &mut binder {
                if let Err(e) = b.entry(index, entry, custody_core::entry::recorded(bytes)) {
                    failed = Some(e);
                    return Err(fail(String::new()));
                }
            }
            Ok(())
        })
        .map_err(|e| match (failed.take(), e) {
            (Some(first), _) => first,
            (None, custody_store::StoreError::Corrupt(m)) => Error::Log(m),
            (None, other) => other.into(),
        })?;
        progress.finish();
        compare(tree.writer.take_dirty())?;
        tree.covers(size, checkpoints.last().map_or(0, |c| c.size))?;
        if let Some(b) = binder {
            b.finish()?;
        }
        let state = match scope {
            None => self.store.state_counts(Tally::Whole)?,
            Some(_) => {
                // Decisions are not facts a decision rests on.
                (kinds.decisions, kinds.disclosed_history) = (0, 0);
                self.store.state_counts(Tally::Facts)?
            }
        };
        if state != kinds {
            return Err(Error::Log(format!(
                "the store and the log disagree: the store holds {} and the log records {}",
                describe_counts(&state),
                describe_counts(&kinds)
            )));
        }
        let root = tree.writer.root();
        Ok(Verified {
            origin: self.signer.name().to_string(),
            size,
            root: BASE64_STANDARD.encode(root),
            checkpoints: checkpoints.len(),
            from: from.map(|f| f.size),
            state,
            rows_bound: !unbound,
            refusals: found.finish(size, root),
        })
    }

    /// Every stored checkpoint, each verified with the log's key and for the
    /// size it is stored under.
    fn signed_checkpoints(&self, verifier: &Verifier) -> Result<Vec<Checkpoint>> {
        let mut checkpoints = Vec::new();
        for (size, note) in self.store.checkpoints()? {
            let cp = open_checkpoint(&note, verifier).map_err(|e| {
                Error::Log(format!(
                    "the checkpoint stored for size {size} does not verify: {e}"
                ))
            })?;
            if cp.size != size {
                return Err(Error::Log(format!(
                    "the checkpoint stored for size {size} is for size {}",
                    cp.size
                )));
            }
            checkpoints.push(cp);
        }
        Ok(checkpoints)
    }

    /// Writes the log as C2SP tlog-tiles under `dir`: `checkpoint`, every
    /// tile, every entry bundle.
    pub fn export_tiles(&self, dir: &Path, progress: &dyn Progress) -> Result<Exported> {
        let (cp, note) = self.latest()?;
        let write = |rel: &str, bytes: &[u8]| -> Result<()> {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
        };
        // tlog-tiles: "the log MUST make available the partial tiles" of
        // every size it signed a checkpoint at, so a client can audit an
        // older checkpoint from the export too. Stored tiles only grow at
        // their end, so an older partial tile is a prefix of the stored one.
        let sizes: Vec<u64> = self
            .store
            .checkpoint_times()?
            .into_iter()
            .map(|(size, _)| size)
            .filter(|size| *size <= cp.size)
            .collect();
        let ids: std::collections::BTreeSet<(u8, u64, u16)> = sizes
            .iter()
            .chain(std::iter::once(&cp.size))
            .flat_map(|size| tiles::tiles_for_size(*size))
            .map(|id| (id.level, id.index, id.width))
            .collect();
        for &(level, index, width) in &ids {
            let id = TileId {
                level,
                index,
                width,
            };
            let stored = self
                .store
                .log_tile(id.level, id.index)?
                .ok_or_else(|| Error::Log(format!("tile {} is missing", id.path())))?;
            let want = id.width as usize * 32;
            if stored.len() < want {
                return Err(Error::Log(format!(
                    "tile {} holds {} hashes, not {}",
                    id.path(),
                    stored.len() / 32,
                    id.width
                )));
            }
            write(&id.path(), &stored[..want])?;
        }
        // The partial entry bundles of those sizes, by bundle: widths.
        let mut partial: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
        for size in &sizes {
            if size % 256 != 0 {
                partial
                    .entry(size / 256)
                    .or_default()
                    .push((size % 256) as usize);
            }
        }
        let write_bundles = |index: u64, bundle: &[Vec<u8>]| -> Result<()> {
            for &width in partial.get(&index).into_iter().flatten() {
                if width < bundle.len() {
                    write_bundle(&write, index, &bundle[..width])?;
                }
            }
            write_bundle(&write, index, bundle)
        };
        progress.start("exporting entries", Some(cp.size));
        let mut bundle: Vec<Vec<u8>> = Vec::with_capacity(256);
        let mut bundles = 0u64;
        let mut failed = None;
        self.store
            .for_each_log_entry(0, &mut |index, bytes| {
                if index >= cp.size {
                    return Ok(());
                }
                bundle.push(bytes.to_vec());
                if bundle.len() == 256 {
                    if let Err(e) = write_bundles(index / 256, &bundle) {
                        failed = Some(e);
                        return Err(custody_store::StoreError::Conflict("export failed".into()));
                    }
                    bundle.clear();
                    bundles += 1;
                    progress.advance(256);
                }
                Ok(())
            })
            .map_err(|e| failed.take().unwrap_or(e.into()))?;
        if !bundle.is_empty() {
            write_bundles(cp.size / 256, &bundle)?;
            bundles += 1;
        }
        progress.finish();
        // The checkpoint last: a mirror that sees it can fetch everything it covers.
        write("checkpoint", note.as_bytes())?;
        Ok(Exported {
            dir: dir.to_path_buf(),
            size: cp.size,
            tiles: ids.len(),
            bundles,
        })
    }
}

impl<S: Store> Engine<S> {
    /// The tile `id` as C2SP tlog-tiles serves it: exactly `width` hashes,
    /// none beyond the latest checkpoint. NotFound for a tile the log does
    /// not have (yet), including a full tile whose level is still partial.
    pub fn tile(&self, id: TileId) -> Result<Vec<u8>> {
        let (cp, _) = self.latest()?;
        let missing = || Error::NotFound(format!("the log has no tile {}", id.path()));
        if !tiles::tiles_for_size(cp.size).iter().any(|t| {
            t.level == id.level
                && (t.index > id.index || t.index == id.index && t.width >= id.width)
        }) {
            return Err(missing());
        }
        let stored = self
            .store
            .log_tile(id.level, id.index)?
            .ok_or_else(missing)?;
        let want = id.width as usize * 32;
        stored.get(..want).map(<[u8]>::to_vec).ok_or_else(missing)
    }

    /// The entry bundle of the level-0 tile `id`: `width` entries from
    /// `index * 256`, each a big-endian u16 length and its bytes.
    pub fn entry_bundle(&self, id: TileId) -> Result<Vec<u8>> {
        let (cp, _) = self.latest()?;
        let first = id.index.saturating_mul(256);
        let end = first.saturating_add(u64::from(id.width));
        if id.level != 0 || end > cp.size {
            return Err(Error::NotFound(format!(
                "the log has no entry bundle {}",
                TileId::entries_path(id.index, id.width)
            )));
        }
        let entries = self.log_entries(first, u64::from(id.width))?;
        let refs: Vec<&[u8]> = entries.iter().map(|(_, e)| e.as_slice()).collect();
        tiles::encode_bundle(&refs).map_err(|e| Error::Log(e.to_string()))
    }
}

fn write_bundle(
    write: &dyn Fn(&str, &[u8]) -> Result<()>,
    index: u64,
    entries: &[Vec<u8>],
) -> Result<()> {
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let bytes = tiles::encode_bundle(&refs).map_err(|e| Error::Log(e.to_string()))?;
    write(&TileId::entries_path(index, entries.len() as u16), &bytes)
}

/// Recomputed tiles against the stored ones (level 0 was checked entry by entry).
/// The tree recomputed as a verification walks the log, checked against
/// each target (a signed checkpoint, a given one, the index of refusals)
/// when it reaches the target's size.
struct Tree<'a> {
    writer: TileWriter,
    /// Ascending by size.
    targets: Vec<(&'a Checkpoint, &'a str)>,
    next: usize,
    /// The size of the last target that held.
    last_good: u64,
}

impl<'a> Tree<'a> {
    fn new(targets: Vec<(&'a Checkpoint, &'a str)>) -> Tree<'a> {
        Tree {
            writer: TileWriter::new(),
            targets,
            next: 0,
            last_good: 0,
        }
    }

    fn push(&mut self, leaf: Hash) -> Result<()> {
        self.writer.push(leaf);
        self.check()
    }

    /// A bundle of refusals, by its stored level-1 hash.
    fn push_tile(&mut self, hash: Hash) -> Result<()> {
        self.writer.push_tile(hash);
        self.check()
    }

    /// Checks every target at the tree's size; one skipped past (inside a
    /// tile pushed whole) is left unmet, and [`Tree::covers`] fails on it.
    fn check(&mut self) -> Result<()> {
        while let Some((cp, what)) = self.targets.get(self.next) {
            if cp.size != self.writer.size() {
                break;
            }
            if self.writer.root() != cp.root {
                return Err(Error::Log(format!(
                    "the first {} entries no longer hash to {what} at that size: an entry from {} to {} was changed, \
                     removed or reordered (the stored hashes were rewritten to match)",
                    cp.size,
                    self.last_good,
                    cp.size - 1
                )));
            }
            self.last_good = cp.size;
            self.next += 1;
        }
        Ok(())
    }

    /// After the walk: every target met, and the log's `size` entries all
    /// under the `latest` signed checkpoint.
    fn covers(&self, size: u64, latest: u64) -> Result<()> {
        if let Some((cp, what)) = self.targets.get(self.next) {
            return Err(Error::Log(format!(
                "{what} covers {} entries but the log holds {size}: entries were removed from its end",
                cp.size
            )));
        }
        if latest != size {
            return Err(Error::Log(format!(
                "entries {latest} to {} are not covered by any signed checkpoint",
                size - 1
            )));
        }
        Ok(())
    }
}

/// The stored level-1 tiles, read as bundles of refusals are passed over:
/// one read per 256 bundles.
#[derive(Default)]
struct Level1 {
    index: Option<u64>,
    hashes: Vec<Hash>,
}

impl Level1 {
    /// The hash of the 256 leaves of `bundle`, as stored.
    fn hash<S: Store>(&mut self, store: &S, bundle: u64) -> custody_store::Result<Hash> {
        let index = bundle / 256;
        if self.index != Some(index) {
            let tile = store.log_tile(1, index)?.unwrap_or_default();
            self.hashes = tiles::decode_tile(&tile).unwrap_or_default();
            self.index = Some(index);
        }
        self.hashes
            .get((bundle % 256) as usize)
            .copied()
            .ok_or_else(|| {
                custody_store::StoreError::Corrupt(format!(
                    "bundle {bundle} has no level-1 hash stored: the tiles were cut short"
                ))
            })
    }
}

fn compare_tiles<S: Store>(store: &S, recomputed: Vec<(TileId, Vec<Hash>)>) -> Result<()> {
    for (id, hashes) in recomputed.into_iter().filter(|(id, _)| id.level > 0) {
        let stored = store.log_tile(id.level, id.index)?.unwrap_or_default();
        let stored = tiles::decode_tile(&stored).unwrap_or_default();
        if stored.get(..hashes.len()) != Some(&hashes[..]) {
            return Err(Error::Log(format!(
                "the stored tile {} does not match the entries: it was rewritten",
                id.path()
            )));
        }
    }
    Ok(())
}

fn count(c: &mut StateCounts, e: &Entry) {
    match e {
        Entry::OrgAdded { .. } => c.orgs += 1,
        Entry::TermAdded { .. } => c.terms += 1,
        Entry::ExplicitPurposesSet { .. } | Entry::CollectionRecorded { .. } => {}
        Entry::NoticePublished { .. } => c.notices += 1,
        Entry::RecordCollected { .. } => c.records_collected += 1,
        Entry::PreferenceRecorded { .. } => c.preferences += 1,
        Entry::DisclosureRecorded { .. } => c.disclosures += 1,
        Entry::Decided { .. } => c.decisions += 1,
        Entry::Disclosed { .. } => c.disclosed_history += 1,
    }
}

fn describe_counts(c: &StateCounts) -> String {
    format!(
        "{} organisations, {} terms, {} notices, {} collected records, {} preference events, {} disclosures, \
         {} decisions, {} records disclosed in imported history",
        c.orgs, c.terms, c.notices, c.records_collected, c.preferences, c.disclosures, c.decisions, c.disclosed_history
    )
}
