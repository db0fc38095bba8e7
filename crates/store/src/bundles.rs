//! Log entries read out of stored C2SP entry bundles. Each store walks its
//! own bundle rows ([`Bundles`]); reading one entry, the entries from an
//! index on, or a person's entries is the same on every backend.

use crate::Result;

/// Entries per stored bundle: the width of a C2SP tile.
pub(crate) const BUNDLE: u64 = 256;

pub(crate) trait Bundles {
    /// Every entry of the bundles `from..=to`, with its index.
    fn bundles(
        &self,
        from: u64,
        to: Option<u64>,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()>;
}

pub(crate) fn entry(b: &impl Bundles, index: u64) -> Result<Option<Vec<u8>>> {
    let mut found = None;
    b.bundles(index / BUNDLE, Some(index / BUNDLE), &mut |i, e| {
        if i == index {
            found = Some(e.to_vec());
        }
        Ok(())
    })?;
    Ok(found)
}

pub(crate) fn entries_from(
    b: &impl Bundles,
    from: u64,
    f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    b.bundles(from / BUNDLE, None, &mut |i, e| {
        if i >= from {
            f(i, e)
        } else {
            Ok(())
        }
    })
}

pub(crate) fn entries_about(b: &impl Bundles, subject: &[u8; 32]) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    b.bundles(0, None, &mut |i, e| {
        if custody_core::entry::subject_of(e) == Some(&subject[..]) {
            out.push((i, e.to_vec()));
        }
        Ok(())
    })?;
    Ok(out)
}
