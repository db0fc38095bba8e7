//! Proof generation (RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF) over any store
//! of complete subtree hashes.
//!
//! Every node a proof or root needs is the Merkle Tree Hash of some range of
//! leaves. RFC 6962 only ever splits a range at a power of two, so each such
//! range is a run of complete, aligned subtrees of decreasing size: the binary
//! digits of its length. A store therefore only needs to know complete
//! subtrees; the ragged right edge is hashed here.

use thiserror::Error;

use super::{node_hash, EMPTY_ROOT};
use crate::Hash;

/// A store of the hashes of complete subtrees.
pub trait HashSource {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Hash of the complete subtree of height `height` (2^height leaves) at
    /// position `index` (covering leaves index*2^height .. (index+1)*2^height),
    /// in a tree of at least that many leaves.
    fn subtree(&self, height: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof or root could not be produced.
#[derive(Debug, Error)]
pub enum ProofGenError<E> {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size2} is smaller than {size1}")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    FromEmptyTree,
    #[error("reading subtree hashes")]
    Source(#[source] E),
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves,
/// from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: HashSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    if index >= size {
        return Err(ProofGenError::IndexOutOfRange { index, size });
    }
    // Walk down from the root to the leaf, keeping the sibling at each step.
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            proof.push(range_hash(src, mid, hi)?);
            hi = mid;
        } else {
            proof.push(range_hash(src, lo, mid)?);
            lo = mid;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof between the trees of the first `size1` and `size2`
/// leaves. Equal sizes have an empty proof; from the empty tree there is no
/// proof (see [`verify_consistency`](super::verify_consistency)).
pub fn consistency_proof<S: HashSource>(
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    if size2 < size1 {
        return Err(ProofGenError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        return Ok(Vec::new());
    }
    if size1 == 0 {
        return Err(ProofGenError::FromEmptyTree);
    }
    // Walk down towards the subtree that ends where the old tree ends, keeping
    // the sibling at each step. That subtree itself is part of the proof unless
    // it is the whole old tree, which the verifier already knows.
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0, size2);
    let mut whole_old_tree = true;
    while hi != size1 {
        let mid = lo + split(hi - lo);
        if size1 <= mid {
            proof.push(range_hash(src, mid, hi)?);
            hi = mid;
        } else {
            proof.push(range_hash(src, lo, mid)?);
            lo = mid;
            whole_old_tree = false;
        }
    }
    if !whole_old_tree {
        proof.push(range_hash(src, lo, hi)?);
    }
    proof.reverse();
    Ok(proof)
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: HashSource>(src: &S, size: u64) -> Result<Hash, ProofGenError<S::Error>> {
    range_hash(src, 0, size)
}

/// The largest power of two smaller than `n`, where RFC 6962 splits a range of
/// `n >= 2` leaves.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash of leaves [lo, hi), where lo is a multiple of the
/// smallest power of two not less than hi - lo (true of every range that
/// [`split`] produces).
fn range_hash<S: HashSource>(src: &S, lo: u64, hi: u64) -> Result<Hash, ProofGenError<S::Error>> {
    debug_assert!(lo <= hi);
    let len = hi - lo;
    // Hash the complete subtrees from the right: the smallest one ends at hi.
    let mut end = hi;
    let mut acc: Option<Hash> = None;
    for height in 0..u64::BITS as u8 {
        if len >> height & 1 == 0 {
            continue;
        }
        end -= 1 << height;
        let left = src
            .subtree(height, end >> height)
            .map_err(ProofGenError::Source)?;
        acc = Some(match acc {
            None => left,
            Some(right) => node_hash(&left, &right),
        });
    }
    Ok(acc.unwrap_or(EMPTY_ROOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_the_largest_power_of_two_below() {
        let cases = [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ];
        for (n, k) in cases {
            assert_eq!(split(n), k, "split({n})");
        }
    }
}
