//! C2SP tlog-tiles: the Merkle tree served as static tiles of 256 hashes.
//!
//! The tile at level `L`, index `N` holds the hashes of the complete subtrees
//! of 256^L leaves numbered N*256 .. N*256+W-1, that is, the tree nodes at
//! height 8L. The levels in between are recomputed by hashing up to 7 levels
//! within one tile, so the tiles are all the storage a log needs.

use std::cell::RefCell;
use std::collections::HashMap;

use thiserror::Error;

use crate::encoding::parse_decimal;
use crate::merkle::{node_hash, HashSource, EMPTY_ROOT};
use crate::Hash;

/// How many tree levels one tile spans.
pub const TILE_HEIGHT: u8 = 8;
/// How many hashes (or entries) a full tile holds.
pub const TILE_WIDTH: u64 = 256;

const MAX_LEVEL: u8 = 63;
const FULL: u16 = TILE_WIDTH as u16;

/// Malformed tiles, tile paths and entry bundles.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TileError {
    #[error("malformed tile path {0:?}")]
    MalformedPath(String),
    #[error("entry of {0} bytes does not fit a bundle's 16-bit length")]
    EntryTooLong(usize),
    #[error("{0} entries do not fit one bundle")]
    TooManyEntries(usize),
    #[error("entry bundle is truncated")]
    TruncatedBundle,
    #[error("tile of {0} bytes is not 1 to 256 hashes")]
    MalformedTile(usize),
    #[error("a tree of size {size} has tiles at {want} levels, got {got}")]
    WrongLevelCount { size: u64, got: usize, want: usize },
    #[error("a tree of size {size} has a last level-{level} tile of width {want}, got {got}")]
    WrongTileWidth {
        size: u64,
        level: u8,
        got: usize,
        want: u64,
    },
}

/// The number of complete subtrees at the bottom of level `level` tiles, that
/// is, of height 8*level, in a tree of `size` leaves.
fn hashes_at_level(size: u64, level: u8) -> u64 {
    size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// Names one tile: a `width` of 256 is a full tile, 1..=255 a partial one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
    pub width: u16,
}

impl TileId {
    pub fn is_full(&self) -> bool {
        self.width == FULL
    }

    /// `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, index_path(self.index, self.width))
    }

    /// `tile/entries/<N>[.p/<W>]`: the bundle of the entries whose leaf hashes
    /// are in the level-0 tile `index` of `width`.
    pub fn entries_path(index: u64, width: u16) -> String {
        format!("tile/entries/{}", index_path(index, width))
    }

    /// Parses a path made by [`path`](Self::path), accepting only its
    /// canonical form.
    pub fn parse(path: &str) -> Result<TileId, TileError> {
        let malformed = || TileError::MalformedPath(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(malformed)?;
        let (level, rest) = rest.split_once('/').ok_or_else(malformed)?;
        let level = parse_decimal(level)
            .and_then(|l| u8::try_from(l).ok())
            .filter(|&l| l <= MAX_LEVEL)
            .ok_or_else(malformed)?;
        let (index, width) = parse_index_path(rest).ok_or_else(malformed)?;
        Ok(TileId {
            level,
            index,
            width,
        })
    }

    /// Parses a path made by [`entries_path`](Self::entries_path), as the
    /// level-0 tile the bundle corresponds to.
    pub fn parse_entries(path: &str) -> Result<TileId, TileError> {
        let malformed = || TileError::MalformedPath(path.to_owned());
        let rest = path.strip_prefix("tile/entries/").ok_or_else(malformed)?;
        let (index, width) = parse_index_path(rest).ok_or_else(malformed)?;
        Ok(TileId {
            level: 0,
            index,
            width,
        })
    }
}

/// `<N>[.p/<W>]`, with N in groups of three digits, all but the last prefixed
/// with `x`, so that a directory never holds more than 1000 entries.
fn index_path(index: u64, width: u16) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    let mut path = groups.join("/");
    if width != FULL {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

fn parse_index_path(s: &str) -> Option<(u64, u16)> {
    let (index, width) = match s.split_once(".p/") {
        Some((index, width)) => {
            let width = parse_decimal(width).filter(|w| (1..TILE_WIDTH).contains(w))?;
            (index, width as u16)
        }
        None => (s, FULL),
    };
    let mut groups: Vec<&str> = index.split('/').collect();
    let last = groups.pop()?;
    // A leading x000 group would be a second spelling of the same index.
    if groups.first() == Some(&"x000") {
        return None;
    }
    let mut n: u64 = 0;
    for group in groups
        .iter()
        .map(|g| g.strip_prefix('x'))
        .chain([Some(last)])
    {
        let group = group.filter(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))?;
        let digits: u64 = group.parse().ok()?;
        n = n.checked_mul(1000)?.checked_add(digits)?;
    }
    Some((n, width))
}

/// Every tile of a tree of `size` leaves: level by level from the leaves up,
/// the full tiles in order and then the partial one, if any. A mirror fetching
/// them in this order can check each level against the one below as it goes.
///
/// There is one entry per tile, about size/255 of them, so `size` should be
/// that of a verified checkpoint, not an arbitrary number.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    let mut tiles = Vec::new();
    for level in 0..=MAX_LEVEL {
        let hashes = hashes_at_level(size, level);
        if hashes == 0 {
            break;
        }
        let full = hashes / TILE_WIDTH;
        tiles.extend((0..full).map(|index| TileId {
            level,
            index,
            width: FULL,
        }));
        let width = (hashes % TILE_WIDTH) as u16;
        if width > 0 {
            tiles.push(TileId {
                level,
                index: full,
                width,
            });
        }
    }
    tiles
}

/// A tile as served: its hashes concatenated.
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Splits a served tile into its hashes.
pub fn decode_tile(bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    let count = bytes.len() / 32;
    if bytes.len() % 32 != 0 || !(1..=TILE_WIDTH as usize).contains(&count) {
        return Err(TileError::MalformedTile(bytes.len()));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|h| h.try_into().expect("chunks of 32"))
        .collect())
}

/// An entry bundle: each entry prefixed with its length as a big-endian u16.
pub fn encode_bundle(entries: &[&[u8]]) -> Result<Vec<u8>, TileError> {
    if entries.len() > TILE_WIDTH as usize {
        return Err(TileError::TooManyEntries(entries.len()));
    }
    let mut bundle = Vec::with_capacity(entries.iter().map(|e| 2 + e.len()).sum());
    for entry in entries {
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong(entry.len()))?;
        bundle.extend_from_slice(&len.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// The entries of a bundle made by [`encode_bundle`].
pub fn decode_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::TruncatedBundle)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(TileError::TruncatedBundle);
        }
        let (entry, tail) = tail.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    if entries.len() > TILE_WIDTH as usize {
        return Err(TileError::TooManyEntries(entries.len()));
    }
    Ok(entries)
}

/// The root of the complete subtree whose bottom row is `hashes` (a power of
/// two of them).
fn hash_up(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    match hashes {
        [one] => *one,
        _ => {
            let (left, right) = hashes.split_at(hashes.len() / 2);
            node_hash(&hash_up(left), &hash_up(right))
        }
    }
}

/// Why [`TileHashes`] could not produce a subtree hash.
#[derive(Debug, Error)]
pub enum TileReadError<E> {
    #[error("reading tile {index} at level {level}")]
    Fetch {
        level: u8,
        index: u64,
        #[source]
        source: E,
    },
    #[error("tile {index} at level {level} has {have} hashes, need {need}")]
    ShortTile {
        level: u8,
        index: u64,
        have: usize,
        need: usize,
    },
    #[error("no subtree of height {height} at index {index} in any tree")]
    OutOfRange { height: u8, index: u64 },
}

/// A [`HashSource`] reading stored tiles through `fetch(level, index)`, which
/// returns the hashes of that tile: the full one or the current partial one
/// (longer than needed is fine). Tiles, with every subtree inside them, are
/// cached for the life of the source, so a proof reads each tile it touches
/// once and hashes each node once, however often the ragged right edge asks.
pub struct TileHashes<F> {
    fetch: F,
    cache: RefCell<HashMap<(u8, u64), Vec<Vec<Hash>>>>,
}

impl<F> TileHashes<F> {
    pub fn new(fetch: F) -> Self {
        TileHashes {
            fetch,
            cache: RefCell::new(HashMap::new()),
        }
    }
}

impl<F, E> HashSource for TileHashes<F>
where
    F: Fn(u8, u64) -> Result<Vec<Hash>, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = TileReadError<E>;

    fn subtree(&self, height: u8, index: u64) -> Result<Hash, TileReadError<E>> {
        // The subtree is the node `up` rows above the bottom of one tile.
        let level = height / TILE_HEIGHT;
        let up = u32::from(height % TILE_HEIGHT);
        let first = index
            .checked_shl(up)
            .filter(|first| first >> up == index)
            .ok_or(TileReadError::OutOfRange { height, index })?;
        let tile = first / TILE_WIDTH;
        let key = (level, tile);
        if !self.cache.borrow().contains_key(&key) {
            let hashes = (self.fetch)(level, tile).map_err(|source| TileReadError::Fetch {
                level,
                index: tile,
                source,
            })?;
            self.cache.borrow_mut().insert(key, rows(hashes));
        }
        let cache = self.cache.borrow();
        let rows = &cache[&key];
        let at = ((first % TILE_WIDTH) >> up) as usize;
        match rows.get(up as usize).and_then(|row| row.get(at)) {
            Some(h) => Ok(*h),
            None => Err(TileReadError::ShortTile {
                level,
                index: tile,
                have: rows[0].len(),
                need: (at + 1) << up,
            }),
        }
    }
}

/// Every complete subtree inside a tile, row by row from its stored hashes
/// up: a proof needs nearly all of them, so each is hashed once.
fn rows(bottom: Vec<Hash>) -> Vec<Vec<Hash>> {
    let mut rows = vec![bottom];
    while rows.len() < usize::from(TILE_HEIGHT) {
        let below = rows.last().expect("one row at least");
        let row: Vec<Hash> = below
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
        rows.push(row);
    }
    rows
}

/// Keeps the tiles of a log up to date as leaves are appended in order.
///
/// Only the last tile of each level is kept: a full tile never changes again.
/// Call [`take_dirty`](Self::take_dirty) after each batch to collect what to
/// store; tiles that filled are held until then.
#[derive(Debug, Clone)]
pub struct TileWriter {
    size: u64,
    /// The hashes of the incomplete last tile at each level, level 0 first.
    partial: Vec<Vec<Hash>>,
    /// Tiles that filled since the last `take_dirty`, in the order they filled.
    filled: Vec<(TileId, Vec<Hash>)>,
    /// Bit `L` is set when the level-`L` partial tile changed.
    changed: u64,
}

impl TileWriter {
    /// A writer for the empty tree.
    pub fn new() -> Self {
        TileWriter {
            size: 0,
            partial: Vec::new(),
            filled: Vec::new(),
            changed: 0,
        }
    }

    /// Picks up a tree of `size` leaves from the last stored tile at each
    /// level, level 0 first: the partial tile, or the last full one for a level
    /// whose hash count is a multiple of 256.
    pub fn resume(size: u64, last_tiles: Vec<Vec<Hash>>) -> Result<Self, TileError> {
        let want = (0..=MAX_LEVEL)
            .take_while(|&l| hashes_at_level(size, l) > 0)
            .count();
        if last_tiles.len() != want {
            return Err(TileError::WrongLevelCount {
                size,
                got: last_tiles.len(),
                want,
            });
        }
        let mut partial = Vec::with_capacity(want);
        for (level, mut tile) in (0..).zip(last_tiles) {
            let width = match hashes_at_level(size, level) % TILE_WIDTH {
                0 => TILE_WIDTH,
                w => w,
            };
            if tile.len() as u64 != width {
                return Err(TileError::WrongTileWidth {
                    size,
                    level,
                    got: tile.len(),
                    want: width,
                });
            }
            if width == TILE_WIDTH {
                // Already stored and already hashed into the level above.
                tile.clear();
            }
            tile.reserve_exact(TILE_WIDTH as usize - tile.len());
            partial.push(tile);
        }
        Ok(TileWriter {
            size,
            partial,
            filled: Vec::new(),
            changed: 0,
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    ///
    /// # Panics
    ///
    /// If the tree already has 2^64 - 1 leaves.
    pub fn push(&mut self, leaf: Hash) {
        let size = self.size.checked_add(1).expect("tree size overflows u64");
        self.climb(0, leaf, size);
    }

    /// Appends the 256 leaves of a full level-0 tile by its hash alone, the
    /// level-1 hash a stored tile gives: a tree is the same whether its
    /// leaves came one by one or a full tile at a time, so a reader that
    /// already knows what a tile holds need not read or hash its leaves.
    /// That level-0 tile is then absent from [`take_filled`]
    /// (Self::take_filled) and [`take_dirty`](Self::take_dirty): the writer
    /// never saw it.
    ///
    /// # Panics
    ///
    /// If the size is not a multiple of 256 (a level-0 tile is part full),
    /// or the tree would overflow.
    pub fn push_tile(&mut self, tile_hash: Hash) {
        assert!(
            self.size % TILE_WIDTH == 0,
            "a tile is pushed whole only at a tile boundary, not at size {}",
            self.size
        );
        let size = self
            .size
            .checked_add(TILE_WIDTH)
            .expect("tree size overflows u64");
        self.climb(1, tile_hash, size);
    }

    /// Puts `hash` into the partial tile of `level` and carries full tiles
    /// up; the tree then has `size` leaves.
    fn climb(&mut self, from: u8, hash: Hash, size: u64) {
        let mut hash = hash;
        for level in from.. {
            while self.partial.len() <= usize::from(level) {
                self.partial.push(Vec::with_capacity(TILE_WIDTH as usize));
            }
            let tile = &mut self.partial[usize::from(level)];
            tile.push(hash);
            self.changed |= 1 << level;
            if tile.len() < TILE_WIDTH as usize {
                break;
            }
            // The tile is full: it is final, and its subtree is the next hash up.
            let full = std::mem::replace(tile, Vec::with_capacity(TILE_WIDTH as usize));
            hash = hash_up(&full);
            let index = hashes_at_level(size, level + 1) - 1;
            self.filled.push((
                TileId {
                    level,
                    index,
                    width: FULL,
                },
                full,
            ));
        }
        self.size = size;
    }

    /// The root of the tree: the right edge, read off the partial tiles.
    pub fn root(&self) -> Hash {
        // Each partial tile splits into complete subtrees by the bits of its
        // width; from level 0 and the low bits up, they come right to left.
        let mut root: Option<Hash> = None;
        for tile in &self.partial {
            let mut end = tile.len();
            for bit in 0..TILE_HEIGHT {
                let len = 1 << bit;
                if tile.len() & len == 0 {
                    continue;
                }
                end -= len;
                let left = hash_up(&tile[end..end + len]);
                root = Some(match root {
                    None => left,
                    Some(right) => node_hash(&left, &right),
                });
            }
        }
        root.unwrap_or(EMPTY_ROOT)
    }

    /// The tiles that filled since the last call, once each. A writer
    /// appending tens of millions of leaves in one batch hands these to the
    /// store as it goes, so that memory stays bounded; [`take_dirty`]
    /// (Self::take_dirty) then returns only what filled after.
    pub fn take_filled(&mut self) -> Vec<(TileId, Vec<Hash>)> {
        std::mem::take(&mut self.filled)
    }

    /// Every tile changed since the last call: the tiles that filled, once
    /// each, then the current partial tile of each level that changed.
    pub fn take_dirty(&mut self) -> Vec<(TileId, Vec<Hash>)> {
        let mut dirty = std::mem::take(&mut self.filled);
        for (level, tile) in (0u8..).zip(&self.partial) {
            if self.changed & (1 << level) != 0 && !tile.is_empty() {
                let index = hashes_at_level(self.size, level + 1);
                let id = TileId {
                    level,
                    index,
                    width: tile.len() as u16,
                };
                dirty.push((id, tile.clone()));
            }
        }
        self.changed = 0;
        dirty
    }
}

impl Default for TileWriter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
