//! RFC 6962 Merkle trees (RFC 9162 §2.1): hashing, proofs, and the frontier.
//!
//! Leaves and interior nodes are hashed with distinct one-byte prefixes so a
//! leaf can never be passed off as a node, and the tree of `n` leaves splits
//! at the largest power of two smaller than `n`.

mod frontier;
mod memory;
mod prove;
mod verify;

#[cfg(test)]
mod vectors;

use sha2::{Digest, Sha256};

use crate::Hash;

pub use frontier::{Frontier, FrontierError};
pub use memory::{MemoryTree, MemoryTreeError};
pub use prove::{consistency_proof, inclusion_proof, root, HashSource, ProofGenError};
pub use verify::{verify_consistency, verify_inclusion, ProofError};

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The hash of a leaf: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn leaves_and_nodes_are_domain_separated() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let mut concatenated = a.to_vec();
        concatenated.extend_from_slice(&b);
        assert_ne!(leaf_hash(&concatenated), node_hash(&a, &b));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
        // RFC 6962 reference tree: the leaf hash of the empty entry.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
