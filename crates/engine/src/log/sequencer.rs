//! Sequencing: the entries of one transaction go into the log inside that
//! transaction, and the checkpoint that covers them is signed before it
//! commits. So there is no state change without its entry, no entry without
//! its state change, and no commit without a checkpoint.

use custody_core::entry::Entry;
use custody_log::checkpoint::Checkpoint;
use custody_log::merkle;
use custody_log::note::Signer;
use custody_log::tiles::{decode_tile, TileHashes, TileWriter, TILE_HEIGHT};
use custody_log::Hash;
use custody_store::{EntryBatch, Store, StoreError};

use crate::log::ORIGIN_SETTING;
use crate::{Error, Result};

/// Entries are written to the store in batches of this many, to bound memory
/// on a disclosure of tens of millions of records.
const FLUSH_EVERY: usize = 1 << 16;

pub(crate) struct Sequencer {
    writer: TileWriter,
    /// Index of the first entry of `batch`.
    next: u64,
    batch: EntryBatch,
    /// Size and root of the latest signed checkpoint when the transaction began.
    signed: Option<Checkpoint>,
    /// When this transaction's entries are recorded: see [`recorded_clock`].
    recorded: i64,
}

impl Sequencer {
    /// Resumes the log where the store left it. Call inside the transaction.
    pub(crate) fn begin<S: Store>(store: &S, signer: &Signer) -> Result<Sequencer> {
        let size = store.log_size()?;
        let writer = TileWriter::resume(size, last_tiles(store, size)?)
            .map_err(|e| corrupt(format!("log tiles: {e}")))?;
        let signed = match store.latest_checkpoint()? {
            None => None,
            Some((_, note)) => Some(crate::log::open_checkpoint(&note, &signer.verifier())?),
        };
        Ok(Sequencer {
            writer,
            next: size,
            batch: EntryBatch::default(),
            signed,
            recorded: recorded_clock(store, size, chrono::Utc::now().timestamp_micros())?,
        })
    }

    /// When the entries of this transaction are recorded, in microseconds
    /// since the Unix epoch: one time for the whole transaction, later than
    /// every transaction before it.
    pub(crate) fn recorded(&self) -> i64 {
        self.recorded
    }

    pub(crate) fn append<S: Store>(&mut self, store: &mut S, entry: &Entry) -> Result<()> {
        let bytes = self
            .batch
            .push_with(|out| entry.encode(self.recorded, out))
            .map_err(|e| Error::Invalid(format!("log entry: {e}")))?;
        self.writer.push(merkle::leaf_hash(bytes));
        if self.batch.len() >= FLUSH_EVERY {
            self.flush(store)?;
        }
        Ok(())
    }

    /// Appends entries encoded and hashed elsewhere (see [`Prepared`]), after
    /// those appended so far.
    pub(crate) fn append_prepared<S: Store>(
        &mut self,
        store: &mut S,
        prepared: Prepared,
    ) -> Result<()> {
        self.flush(store)?;
        store.append_log(self.next, &prepared.batch)?;
        self.next += prepared.batch.len() as u64;
        for leaf in prepared.leaves {
            self.writer.push(leaf);
        }
        self.flush(store)
    }

    /// Writes the batched entries and the tiles that filled, which never
    /// change again: memory stays bounded however many entries one
    /// transaction appends.
    fn flush<S: Store>(&mut self, store: &mut S) -> Result<()> {
        store.append_log(self.next, &self.batch)?;
        self.next += self.batch.len() as u64;
        self.batch.clear();
        let filled: Vec<(u8, u64, Vec<u8>)> = self
            .writer
            .take_filled()
            .into_iter()
            .map(|(id, hashes)| (id.level, id.index, hashes.concat()))
            .collect();
        store.put_log_tiles(&filled)?;
        Ok(())
    }

    /// Writes what is left, the tiles, and a checkpoint signed only if the new
    /// tree extends the last signed one. Returns the new checkpoint, if the
    /// transaction appended anything.
    pub(crate) fn seal<S: Store>(
        mut self,
        store: &mut S,
        signer: &Signer,
        at: i64,
    ) -> Result<Option<String>> {
        self.flush(store)?;
        let size = self.writer.size();
        if self.signed.as_ref().is_some_and(|c| c.size == size) {
            return Ok(None);
        }
        let tiles: Vec<(u8, u64, Vec<u8>)> = self
            .writer
            .take_dirty()
            .into_iter()
            .map(|(id, hashes)| (id.level, id.index, hashes.concat()))
            .collect();
        store.put_log_tiles(&tiles)?;
        let root = self.writer.root();
        if let Some(old) = &self.signed {
            let source = tile_source(store);
            let then =
                merkle::root(&source, old.size).map_err(|e| corrupt(format!("log tiles: {e}")))?;
            if then != old.root {
                return Err(Error::Log(format!(
                    "refusing to sign: the tree of {} entries no longer has the root of the checkpoint signed at that size; \
                     run `custody log verify`",
                    old.size
                )));
            }
        }
        if store.setting(ORIGIN_SETTING)?.is_none() {
            store.set_setting(ORIGIN_SETTING, signer.name())?;
        }
        let checkpoint = Checkpoint {
            origin: signer.name().to_string(),
            size,
            root,
        };
        let note = checkpoint
            .sign(signer)
            .map_err(|e| Error::Log(format!("signing the checkpoint: {e}")))?;
        store.insert_checkpoint(size, &note, at)?;
        Ok(Some(note))
    }
}

/// Entries encoded and leaf-hashed off the sequencer, so that a large
/// disclosure's entries are prepared on one core while the store writes its
/// decisions on the other.
pub(crate) struct Prepared {
    batch: EntryBatch,
    leaves: Vec<Hash>,
}

impl Prepared {
    /// Encodes `entries` as recorded at `recorded` (the sequencer's
    /// [`Sequencer::recorded`]).
    pub(crate) fn new(
        recorded: i64,
        entries: impl Iterator<Item = Result<Entry>>,
    ) -> Result<Prepared> {
        let mut p = Prepared {
            batch: EntryBatch::default(),
            leaves: Vec::with_capacity(entries.size_hint().0),
        };
        for entry in entries {
            let entry = entry?;
            let bytes = p
                .batch
                .push_with(|out| entry.encode(recorded, out))
                .map_err(|e| Error::Invalid(format!("log entry: {e}")))?;
            p.leaves.push(merkle::leaf_hash(bytes));
        }
        Ok(p)
    }
}

impl Prepared {
    /// Keeps the entries whose index `keep` says, in order: a chunk prepared
    /// before the store said which of its records were new.
    pub(crate) fn retain(&mut self, keep: &[bool]) {
        if keep.iter().all(|k| *k) {
            return;
        }
        let mut batch = EntryBatch::default();
        let mut leaves = Vec::new();
        for ((bytes, leaf), _) in self
            .batch
            .iter()
            .zip(&self.leaves)
            .zip(keep)
            .filter(|(_, k)| **k)
        {
            batch
                .push_with(|out| {
                    out.extend_from_slice(bytes);
                    Ok::<(), std::convert::Infallible>(())
                })
                .expect("copying bytes cannot fail");
            leaves.push(*leaf);
        }
        self.batch = batch;
        self.leaves = leaves;
    }
}

/// The sequencer's clock: now, or just after the last entry if that was
/// recorded as late or later (a clock set back, or two transactions in one
/// microsecond), so that `recorded` orders transactions as the log does.
fn recorded_clock<S: Store>(store: &S, size: u64, now: i64) -> Result<i64> {
    if size == 0 {
        return Ok(now);
    }
    let last = store
        .log_entry(size - 1)?
        .ok_or_else(|| corrupt(format!("log entry {} is missing", size - 1)))?;
    Ok(custody_core::entry::recorded(&last).map_or(now, |then| now.max(then + 1)))
}

/// The last tile at each level for a tree of `size` leaves, level 0 first.
pub(crate) fn last_tiles<S: Store>(store: &S, size: u64) -> Result<Vec<Vec<Hash>>> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    loop {
        let nodes = size >> (TILE_HEIGHT as u32 * level as u32);
        if nodes == 0 {
            return Ok(tiles);
        }
        tiles.push(stored_tile(store, level, (nodes - 1) / 256)?);
        level += 1;
    }
}

/// A stored tile's hashes; a missing or malformed tile is a corrupt store.
pub(crate) fn stored_tile<S: Store>(
    store: &S,
    level: u8,
    index: u64,
) -> std::result::Result<Vec<Hash>, StoreError> {
    let bytes = store
        .log_tile(level, index)?
        .ok_or_else(|| StoreError::Corrupt(format!("log tile {level}/{index} is missing")))?;
    decode_tile(&bytes).map_err(|e| StoreError::Corrupt(format!("log tile {level}/{index}: {e}")))
}

/// Stored tiles as a source of subtree hashes for proofs.
pub(crate) fn tile_source<S: Store>(
    store: &S,
) -> TileHashes<impl Fn(u8, u64) -> std::result::Result<Vec<Hash>, StoreError> + '_> {
    TileHashes::new(move |level, index| stored_tile(store, level, index))
}

fn corrupt(message: String) -> Error {
    Error::Store(StoreError::Corrupt(message))
}
