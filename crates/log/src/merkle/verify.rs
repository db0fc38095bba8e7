//! Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and
//! §2.1.4.2), in the shape of transparency-dev/merkle's `proof` package: a
//! proof is split into the part below the point where the paths to the leaf
//! and to the last leaf diverge ("inner") and the part along the right border.

use thiserror::Error;

use super::node_hash;
use crate::Hash;

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size2} is smaller than {size1}")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    FromEmptyTree,
    #[error("proof has {got} hashes, want {want}")]
    WrongProofSize { got: usize, want: usize },
    #[error("proof does not lead to the expected root")]
    RootMismatch,
}

/// Verifies that `leaf` is the leaf hash at `index` in the tree of `size`
/// leaves with root `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    check_len(proof, inner + border)?;
    let (inner_proof, border_proof) = proof.split_at(inner);
    let computed = chain_border(chain_inner(*leaf, inner_proof, index), border_proof);
    matches(&computed, root)
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of
/// the tree of `size2` leaves with root `root2`.
///
/// Equal sizes need an empty proof and equal roots, including two empty trees.
/// Like the Go reference (transparency-dev/merkle), a proof from the empty tree
/// to a larger one is rejected: every tree extends the empty tree, so such a
/// proof could only be a mistake by the caller, who should not trust `root2`
/// on its strength.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        check_len(proof, 0)?;
        return matches(root1, root2);
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }

    // The proof is the inclusion proof of leaf size1-1 in tree size2, minus the
    // levels below the largest complete subtree the two trees share, which is
    // given first unless it is the whole old tree (size1 a power of two).
    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift; // shift < inner because size1 < size2
    let shared_given = !size1.is_power_of_two();
    check_len(proof, usize::from(shared_given) + inner + border)?;
    let (seed, proof) = match proof.split_first() {
        Some((seed, rest)) if shared_given => (*seed, rest),
        _ => (*root1, proof),
    };
    let (inner_proof, border_proof) = proof.split_at(inner);
    let mask = (size1 - 1) >> shift;

    // The old root uses only the hashes to the left of the path...
    let hash1 = chain_border(chain_inner_right(seed, inner_proof, mask), border_proof);
    matches(&hash1, root1)?;
    // ...and the new root all of them.
    let hash2 = chain_border(chain_inner(seed, inner_proof, mask), border_proof);
    matches(&hash2, root2)
}

/// Splits the proof length for leaf `index` in a tree of `size` leaves into
/// the levels below the divergence from the path to leaf `size-1`, and the
/// left siblings above it.
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    // inner can be 64 for trees of more than 2^63 leaves, where >> would overflow.
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
    (inner, border)
}

/// Hashes up from `seed` at `index`, taking each proof hash as the left or right
/// sibling according to the bits of `index`.
fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, sibling)| {
        if (index >> i) & 1 == 0 {
            node_hash(&acc, sibling)
        } else {
            node_hash(sibling, &acc)
        }
    })
}

/// Like [`chain_inner`], but skips right siblings: the result is the hash of
/// the same subtree as it was before those siblings were appended.
fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, sibling)| {
        if (index >> i) & 1 == 1 {
            node_hash(sibling, &acc)
        } else {
            acc
        }
    })
}

/// Hashes up along the right border, where every sibling is on the left.
fn chain_border(seed: Hash, proof: &[Hash]) -> Hash {
    proof
        .iter()
        .fold(seed, |acc, sibling| node_hash(sibling, &acc))
}

fn check_len(proof: &[Hash], want: usize) -> Result<(), ProofError> {
    if proof.len() == want {
        Ok(())
    } else {
        Err(ProofError::WrongProofSize {
            got: proof.len(),
            want,
        })
    }
}

fn matches(computed: &Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, EMPTY_ROOT};

    #[test]
    fn huge_trees_do_not_overflow() {
        let h = leaf_hash(b"x");
        // Paths diverge at bit 63: the proof has 64 inner hashes.
        let err = verify_inclusion(&h, 0, u64::MAX, &[], &h).unwrap_err();
        assert_eq!(err, ProofError::WrongProofSize { got: 0, want: 64 });
        // The last leaf of that tree has only left siblings, one per set bit.
        let err = verify_inclusion(&h, u64::MAX - 1, u64::MAX, &[], &h).unwrap_err();
        assert_eq!(err, ProofError::WrongProofSize { got: 0, want: 63 });
        let err = verify_consistency(u64::MAX - 1, u64::MAX, &[], &h, &h).unwrap_err();
        assert!(
            matches!(err, ProofError::WrongProofSize { got: 0, .. }),
            "{err}"
        );
        let err = verify_consistency(1 << 63, u64::MAX, &[], &h, &h).unwrap_err();
        assert!(
            matches!(err, ProofError::WrongProofSize { got: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn index_must_be_inside_the_tree() {
        let h = leaf_hash(b"x");
        for (index, size) in [(0, 0), (1, 1), (5, 3), (u64::MAX, u64::MAX)] {
            assert_eq!(
                verify_inclusion(&h, index, size, &[], &h),
                Err(ProofError::IndexOutOfRange { index, size })
            );
        }
        assert_eq!(verify_inclusion(&h, 0, 1, &[], &h), Ok(()));
    }

    #[test]
    fn consistency_policy_for_empty_and_equal_trees() {
        let h = leaf_hash(b"x");
        assert_eq!(
            verify_consistency(0, 0, &[], &EMPTY_ROOT, &EMPTY_ROOT),
            Ok(())
        );
        assert_eq!(
            verify_consistency(0, 1, &[], &EMPTY_ROOT, &h),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(
            verify_consistency(0, 1, &[h], &EMPTY_ROOT, &h),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(verify_consistency(3, 3, &[], &h, &h), Ok(()));
        assert_eq!(
            verify_consistency(3, 3, &[], &h, &EMPTY_ROOT),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &[h], &h, &h),
            Err(ProofError::WrongProofSize { got: 1, want: 0 })
        );
        assert_eq!(
            verify_consistency(4, 3, &[], &h, &h),
            Err(ProofError::SizesOutOfOrder { size1: 4, size2: 3 })
        );
    }
}
