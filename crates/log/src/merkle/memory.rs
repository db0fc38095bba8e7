//! A whole tree in memory: the obvious implementation, used as an oracle.

use thiserror::Error;

use super::{node_hash, HashSource};
use crate::Hash;

/// Every complete subtree hash of a tree, level by level: `levels[h][i]` is
/// the subtree of height `h` at index `i`, and `levels[0]` are the leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

/// The tree does not (yet) have the requested subtree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no complete subtree of height {height} at index {index}")]
pub struct MemoryTreeError {
    pub height: u8,
    pub index: u64,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        leaves.into_iter().for_each(|leaf| tree.push(leaf));
        tree
    }

    /// Appends a leaf hash, completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        for height in 0.. {
            if self.levels.len() == height {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[height];
            level.push(hash);
            match level.as_slice() {
                [.., left, right] if level.len().is_multiple_of(2) => hash = node_hash(left, right),
                _ => return,
            }
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        match super::root(self, self.size()) {
            Ok(root) => root,
            Err(e) => unreachable!("a MemoryTree holds all its complete subtrees: {e}"),
        }
    }
}

impl HashSource for MemoryTree {
    type Error = MemoryTreeError;

    fn subtree(&self, height: u8, index: u64) -> Result<Hash, MemoryTreeError> {
        let level = self.levels.get(usize::from(height));
        let hash = usize::try_from(index).ok().and_then(|i| level?.get(i));
        hash.copied().ok_or(MemoryTreeError { height, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    #[test]
    fn holds_exactly_the_complete_subtrees() {
        let leaves: Vec<Hash> = (0..6u8).map(|i| leaf_hash(&[i])).collect();
        let tree = MemoryTree::from_leaves(leaves.iter().copied());
        assert_eq!(tree.size(), 6);
        assert_eq!(tree.subtree(0, 5), Ok(leaves[5]));
        assert_eq!(tree.subtree(1, 2), Ok(node_hash(&leaves[4], &leaves[5])));
        let left = node_hash(
            &node_hash(&leaves[0], &leaves[1]),
            &node_hash(&leaves[2], &leaves[3]),
        );
        assert_eq!(tree.subtree(2, 0), Ok(left));
        assert_eq!(
            tree.subtree(0, 6),
            Err(MemoryTreeError {
                height: 0,
                index: 6
            })
        );
        assert_eq!(
            tree.subtree(2, 1),
            Err(MemoryTreeError {
                height: 2,
                index: 1
            })
        );
        assert_eq!(
            tree.subtree(3, 0),
            Err(MemoryTreeError {
                height: 3,
                index: 0
            })
        );
        assert_eq!(
            tree.subtree(63, u64::MAX),
            Err(MemoryTreeError {
                height: 63,
                index: u64::MAX
            })
        );
    }
}
