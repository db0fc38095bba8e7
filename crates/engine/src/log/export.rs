//! The log as C2SP tlog-tiles: exported to a directory, and each tile and
//! entry bundle as the API serves it.

use std::path::{Path, PathBuf};

use custody_log::tiles::{self, TileId};
use custody_store::Store;
use serde::Serialize;

use crate::{Engine, Error, Progress, Result};

#[derive(Debug, Serialize)]
pub struct Exported {
    pub dir: PathBuf,
    pub size: u64,
    pub tiles: usize,
    pub bundles: u64,
}

impl<S: Store> Engine<S> {
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
