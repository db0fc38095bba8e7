//! What a share's verification may leave unread: the entry bundles that
//! hold nothing but refusals, as the last verification that hashed them
//! found, signed with the log's key (issue 13, point 2).
//!
//! A share rests on facts, and to know which entries are facts the
//! verification hashes every entry (a kind read off unhashed bytes could be
//! forged). Most of a busy log is refused decisions, which no share rests
//! on; each verification finds them again. So a share, once its
//! verification has held, records where they lie: a signed note naming the
//! log's size and root and the bundles of 256 entries that held only
//! version-2 refusals. The next verification takes each such bundle's
//! level-1 hash from the stored tiles instead of reading, decoding and
//! hashing its 256 entries ([`TileWriter::push_tile`]).
//!
//! Why that is sound: the verification still recomputes the whole tree and
//! checks it against every signed checkpoint and against this note's root
//! at its size. A stored tile hash that is not the one the log signed fails
//! there. One that is the signed one stands for the entries this note was
//! made from, which were hashed and found to be refusals; rewriting their
//! stored bytes since changes nothing a share reads. Only the log's key can
//! make the note, and whoever holds that key could sign any checkpoint: the
//! note asks for no more trust than a checkpoint does. An older note is
//! still true of the log's prefix (the checkpoints say the log only grew),
//! so a note put back from before only costs time. A note that does not
//! verify is an edit of the store, and the share fails.
//!
//! The note's body is `custody.refusals/v1`, the log's origin, the size, the
//! root (base64), then one line per run of bundles, `first-end` (end
//! excluded). Its first line is not the origin, so it can never be read as
//! a checkpoint of this log.

use std::ops::Range;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_core::entry::Entry;
use custody_log::checkpoint::Checkpoint;
use custody_log::note::{self, Signer, Verifier};
use custody_log::Hash;
use custody_store::Store;

use crate::{Error, Result};

/// The setting that holds the signed note.
pub(crate) const SETTING: &str = "log.refusals";
const HEADER: &str = "custody.refusals/v1";
/// Entries per bundle: the width of a tile.
const BUNDLE: u64 = custody_log::tiles::TILE_WIDTH;

/// Bundles that hold only refusals, among the first `size` entries of the
/// log whose root at that size is `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusals {
    pub(crate) size: u64,
    pub(crate) root: Hash,
    /// Runs of bundle indices, ascending and apart.
    pub(crate) runs: Vec<Range<u64>>,
}

impl Refusals {
    /// The note the store holds, verified; None if there is none.
    pub(crate) fn load<S: Store>(store: &S, verifier: &Verifier) -> Result<Option<Refusals>> {
        let Some(text) = store.setting(SETTING)? else {
            return Ok(None);
        };
        let refused = |why: String| {
            Error::Log(format!(
                "the stored index of the log's refusals ({SETTING}) {why}: it was edited"
            ))
        };
        let opened = note::open(&text, std::slice::from_ref(verifier))
            .map_err(|e| refused(format!("does not verify: {e}")))?;
        Refusals::parse(&opened.body, verifier.name())
            .map_err(refused)
            .map(Some)
    }

    /// Signs and stores the note, in the caller's transaction.
    pub(crate) fn save<S: Store>(&self, store: &mut S, signer: &Signer) -> Result<()> {
        let note = signer
            .sign(&self.body(signer.name()))
            .map_err(|e| Error::Log(format!("signing the index of refusals: {e}")))?;
        Ok(store.set_setting(SETTING, &note)?)
    }

    /// Whether bundle `index` holds only refusals.
    pub(crate) fn holds(&self, bundle: u64) -> bool {
        let after = self.runs.partition_point(|r| r.start <= bundle);
        after > 0 && self.runs[after - 1].contains(&bundle)
    }

    /// The size and root it was made at, as a checkpoint to check the
    /// recomputed tree against.
    pub(crate) fn checkpoint(&self, origin: &str) -> Checkpoint {
        Checkpoint {
            origin: origin.to_string(),
            size: self.size,
            root: self.root,
        }
    }

    fn body(&self, origin: &str) -> String {
        let mut body = format!(
            "{HEADER}\n{origin}\n{}\n{}\n",
            self.size,
            BASE64_STANDARD.encode(self.root)
        );
        for r in &self.runs {
            body.push_str(&format!("{}-{}\n", r.start, r.end));
        }
        body
    }

    fn parse(body: &str, origin: &str) -> std::result::Result<Refusals, String> {
        let mut lines = body.lines();
        let mut next = |what: &str| lines.next().ok_or_else(|| format!("lacks its {what}"));
        if next("header")? != HEADER {
            return Err(format!("does not begin `{HEADER}`"));
        }
        let named = next("origin")?;
        if named != origin {
            return Err(format!("is for the log `{named}`, not `{origin}`"));
        }
        let size = next("size")?;
        let size: u64 = size.parse().map_err(|_| format!("has size `{size}`"))?;
        let root = next("root")?;
        let root: Hash = BASE64_STANDARD
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| format!("has root `{root}`"))?;
        let mut runs: Vec<Range<u64>> = Vec::new();
        for line in lines {
            let run = line
                .split_once('-')
                .and_then(|(a, b)| Some(a.parse().ok()?..b.parse().ok()?))
                .filter(|r| r.start < r.end && r.end <= size / BUNDLE)
                .ok_or_else(|| format!("has the run `{line}`"))?;
            if runs.last().is_some_and(|last| last.end >= run.start) {
                return Err(format!("has the run `{line}` out of order"));
            }
            runs.push(run);
        }
        Ok(Refusals { size, root, runs })
    }
}

/// Gathers, as a verification walks the log, the bundles that hold only
/// refusals.
#[derive(Debug, Default)]
pub(crate) struct RefusalsFound {
    runs: Vec<Range<u64>>,
    /// Whether every entry of the bundle being walked so far is a refusal.
    so_far: bool,
}

impl RefusalsFound {
    /// Entry `index` is a refusal (of entry version 2) or not.
    pub(crate) fn entry(&mut self, index: u64, refusal: bool) {
        self.so_far = (index.is_multiple_of(BUNDLE) || self.so_far) && refusal;
    }

    /// The bundle that entry `index` ends is complete: kept if it held only
    /// refusals and `whole` (no checkpoint was signed inside it, so a
    /// verification never needs a root there).
    pub(crate) fn bundle_ends(&mut self, index: u64, whole: bool) {
        debug_assert_eq!(index % BUNDLE, BUNDLE - 1);
        if self.so_far && whole {
            self.add(index / BUNDLE);
        }
        self.so_far = false;
    }

    /// A bundle known to hold only refusals, taken whole.
    pub(crate) fn add(&mut self, bundle: u64) {
        match self.runs.last_mut() {
            Some(last) if last.end == bundle => last.end += 1,
            _ => self.runs.push(bundle..bundle + 1),
        }
    }

    pub(crate) fn finish(self, size: u64, root: Hash) -> Refusals {
        Refusals {
            size,
            root,
            runs: self.runs,
        }
    }
}

/// Whether an entry is one no share rests on in any case: a refusal.
pub(crate) fn is_refusal(entry: &Entry, version: u8) -> bool {
    version == custody_core::entry::VERSION
        && matches!(entry, Entry::Decided { reasons, .. } if *reasons != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_reads_back_and_refuses_what_it_does_not_say() {
        let r = Refusals {
            size: 256 * 9 + 3,
            root: [7; 32],
            runs: vec![0..2, 4..9],
        };
        let body = r.body("example.com/log");
        assert_eq!(Refusals::parse(&body, "example.com/log"), Ok(r.clone()));
        assert!(Refusals::parse(&body, "other.example/log").is_err());
        for (from, to) in [
            ("0-2\n", "2-0\n"),
            ("4-9\n", "4-10\n"),
            ("4-9\n", "1-9\n"),
            ("custody.refusals/v1", "custody.refusals/v2"),
            ("2307", "23x"),
        ] {
            let edited = body.replacen(from, to, 1);
            assert!(
                Refusals::parse(&edited, "example.com/log").is_err(),
                "{edited}"
            );
        }
        let holds: Vec<u64> = (0..10).filter(|b| r.holds(*b)).collect();
        assert_eq!(holds, [0, 1, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn only_whole_bundles_of_refusals_are_found() {
        let mut found = RefusalsFound::default();
        // Bundle 0: all refusals; 1: one fact; 2: all refusals but a
        // checkpoint inside; 3, 4: all refusals.
        for index in 0..5 * BUNDLE {
            let bundle = index / BUNDLE;
            found.entry(index, !(bundle == 1 && index % BUNDLE == 100));
            if index % BUNDLE == BUNDLE - 1 {
                found.bundle_ends(index, bundle != 2);
            }
        }
        assert_eq!(found.finish(5 * BUNDLE, [0; 32]).runs, vec![0..1, 3..5]);
    }
}
