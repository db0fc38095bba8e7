//! The right edge of a tree: the compact range [0, size).

use thiserror::Error;

use super::{node_hash, EMPTY_ROOT};
use crate::Hash;

/// The hashes of the complete subtrees along the right edge of a tree, largest
/// (leftmost) first: one per set bit of the tree size, so at most 64.
///
/// This is all the state needed to append leaves and compute the root, which
/// is how a whole log is re-hashed in one streaming pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    subtrees: Vec<Hash>,
}

/// A frontier that cannot be rebuilt from what was stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a tree of size {size} has {want} right-edge subtrees, got {got}")]
pub struct FrontierError {
    pub size: u64,
    pub got: usize,
    pub want: usize,
}

/// Enough room for any tree: pushes never allocate.
const MAX_SUBTREES: usize = u64::BITS as usize;

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Frontier {
            size: 0,
            subtrees: Vec::with_capacity(MAX_SUBTREES),
        }
    }

    /// Rebuilds a frontier from its [`size`](Self::size) and
    /// [`subtrees`](Self::subtrees).
    pub fn from_subtrees(size: u64, subtrees: Vec<Hash>) -> Result<Self, FrontierError> {
        let want = size.count_ones() as usize;
        if subtrees.len() != want {
            return Err(FrontierError {
                size,
                got: subtrees.len(),
                want,
            });
        }
        let mut frontier = Frontier { size, subtrees };
        frontier.subtrees.reserve_exact(MAX_SUBTREES - want);
        Ok(frontier)
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete subtree hashes along the right edge, largest first.
    pub fn subtrees(&self) -> &[Hash] {
        &self.subtrees
    }

    /// Appends a leaf hash.
    ///
    /// # Panics
    ///
    /// If the tree already has 2^64 - 1 leaves.
    pub fn push(&mut self, leaf: Hash) {
        let new_size = self.size.checked_add(1).expect("tree size overflows u64");
        // Each trailing one bit of the old size is a subtree the new leaf completes.
        let mut hash = leaf;
        for _ in 0..self.size.trailing_ones() {
            // The subtrees of the trailing ones are the last ones stored.
            let left = self
                .subtrees
                .pop()
                .expect("one subtree per set bit of size");
            hash = node_hash(&left, &hash);
        }
        self.subtrees.push(hash);
        self.size = new_size;
    }

    /// The root of the tree ([`EMPTY_ROOT`] for no leaves): the subtrees hashed
    /// together from the right.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        match subtrees.next() {
            None => EMPTY_ROOT,
            Some(last) => subtrees.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

impl Default for Frontier {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    #[test]
    fn subtrees_follow_the_bits_of_size() {
        let mut f = Frontier::new();
        for i in 0..1000u64 {
            assert_eq!(f.subtrees().len(), f.size().count_ones() as usize);
            f.push(leaf_hash(&i.to_be_bytes()));
        }
        assert_eq!(f.size(), 1000);
    }

    #[test]
    fn rebuilt_frontier_continues_the_same_tree() {
        let mut f = Frontier::new();
        for i in 0..77u64 {
            f.push(leaf_hash(&i.to_be_bytes()));
        }
        let mut g = Frontier::from_subtrees(f.size(), f.subtrees().to_vec()).unwrap();
        assert_eq!(g, f);
        for i in 77..200u64 {
            f.push(leaf_hash(&i.to_be_bytes()));
            g.push(leaf_hash(&i.to_be_bytes()));
        }
        assert_eq!(g.root(), f.root());
    }

    #[test]
    fn push_does_not_allocate() {
        let mut f = Frontier::from_subtrees(u64::MAX >> 1, vec![[0; 32]; 63]).unwrap();
        assert!(f.subtrees.capacity() >= 64);
        f.push([1; 32]);
        assert_eq!(f.subtrees().len(), 1);

        let mut f = Frontier::new();
        let capacity = f.subtrees.capacity();
        assert!(capacity >= 64);
        for i in 0..5000u64 {
            f.push(leaf_hash(&i.to_be_bytes()));
            assert_eq!(f.subtrees.capacity(), capacity);
        }
    }

    #[test]
    fn wrong_subtree_count_is_rejected() {
        assert_eq!(
            Frontier::from_subtrees(5, vec![[0; 32]]),
            Err(FrontierError {
                size: 5,
                got: 1,
                want: 2
            })
        );
        assert!(Frontier::from_subtrees(0, vec![[0; 32]]).is_err());
        assert_eq!(
            Frontier::from_subtrees(0, vec![]).unwrap().root(),
            EMPTY_ROOT
        );
    }
}
