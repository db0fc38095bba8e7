//! `custody log verify`, and a share's verification of what it rests on
//! (issue 13, point 2): the tree recomputed against every signed
//! checkpoint, and the stored rows bound to their entries.

use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_core::entry::Entry;
use custody_log::checkpoint::Checkpoint;
use custody_log::merkle;
use custody_log::merkle::HashSource;
use custody_log::note::{Signer, Verifier};
use custody_log::tiles::{self, TileId, TileReadError, TileWriter, TILE_HEIGHT};
use custody_log::Hash;
use custody_store::{StateCounts, Store, StoreError, Tally};
use rustc_hash::FxHashSet;
use serde::Serialize;

use super::binding::Binder;
use super::open_checkpoint;
use super::refusals::{self, Refusals, RefusalsFound};
use super::sequencer::tile_source;
use crate::{Engine, Error, Progress, Result};

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
    /// verification ([`crate::log::refusals`]).
    #[serde(skip)]
    pub(crate) refusals: Refusals,
}

impl<S: Store> Engine<S> {
    /// Recomputes the whole tree from the stored entries and checks it against
    /// the stored hashes, every signed checkpoint, `from` (a checkpoint someone
    /// kept), and the state the entries describe. The first fault is an error
    /// naming the entry.
    pub fn verify_log(&self, from: Option<&str>, progress: &dyn Progress) -> Result<Verified> {
        Verification::of(self).run(from, None, progress)
    }

    /// What a decision about `org`'s records rest on, verified (issue 13,
    /// point 2): the whole tree, every entry hashed, against every signed
    /// checkpoint, and the rows of those facts bound to their entries
    /// ([`Binder::facts_of`]). The rows of entries the decisions do not rest
    /// on (a decision made, another holder's record) are not read; the
    /// entries are still hashed, since only a hashed entry says truly what
    /// it is.
    pub fn verify_facts_of(&self, org: &str, progress: &dyn Progress) -> Result<Verified> {
        Verification::of(self).run(None, Some(org), progress)
    }
}

/// A verification of one connection's store with the log's key: an engine's
/// own, or the one a writer holds inside its transaction ([`crate::log::vouch`]).
pub(crate) struct Verification<'a, S: Store> {
    pub(crate) store: &'a S,
    pub(crate) signer: &'a Signer,
}

impl<'a, S: Store> Verification<'a, S> {
    pub(crate) fn of(engine: &'a Engine<S>) -> Self {
        Verification {
            store: &engine.store,
            signer: &engine.signer,
        }
    }

    /// The tree against every signed checkpoint and `from`, and the rows
    /// bound to their entries: every row, or (`scope`) what decisions about
    /// an organisation's records rest on.
    pub(crate) fn run(
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
            Some(_) => Refusals::load(self.store, &verifier)?,
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
        let level1 = tile_source(self.store);
        let mut skipping = false;
        let mut stored_leaves: Vec<Hash> = Vec::new();
        let mut kinds = StateCounts::default();
        let mut expected = 0u64;
        progress.start("verifying the log", Some(size));
        // Rows are bound to entries only in a log of version-2 entries: a
        // version-1 entry does not hold its whole row.
        let mut binder = Some(match scope {
            Some(org) => Binder::facts_of(self.store, org)?,
            None => Binder::new(self.store)?,
        });
        // The stored tiles above level 0 are compared only in a whole
        // verification: no decision reads them.
        let compare = |dirty: Vec<(TileId, Vec<Hash>)>| match scope {
            None => compare_tiles(self.store, dirty),
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
                    let hash = bundle_hash(&level1, bundle)?;
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
}

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

/// The stored hash of the 256 leaves of `bundle`, from the level-1 tiles
/// the proofs read too ([`tile_source`]: each tile read once).
fn bundle_hash(
    tiles: &impl HashSource<Error = TileReadError<StoreError>>,
    bundle: u64,
) -> custody_store::Result<Hash> {
    tiles.subtree(TILE_HEIGHT, bundle).map_err(|e| match e {
        // A failed read keeps its kind; a tile cut short is a store edited.
        TileReadError::Fetch { source, .. } => source,
        short => StoreError::Corrupt(format!("bundle {bundle}'s level-1 hash: {short}")),
    })
}

/// Recomputed tiles against the stored ones (level 0 was checked entry by entry).
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
