//! Known answers: the transparency-dev/merkle test vectors and RFC 6962
//! reference tree in crates/log/testdata/merkle, plus property tests of
//! proof generation against verification.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::*;
use crate::encoding::decode_hash;

fn testdata() -> PathBuf {
    crate::testdata::path("merkle")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(json_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A field as a tree size or index; negative or missing numbers are `None`.
fn number(v: &Value, field: &str) -> Option<u64> {
    v[field].as_u64()
}

/// A field as a hash, through the same strict decoding the text formats use.
/// Placeholders such as "ZG9uJ3QgY2FyZSAx" ("don't care 1") are not hashes.
fn hash(v: &Value) -> Option<Hash> {
    decode_hash(v.as_str()?)
}

/// A hash field for a vector that must verify: the typed API cannot hold a
/// placeholder, so it stands in as a distinct 32-byte value. This keeps the
/// vector's meaning (which roots are equal) for the vectors that only compare
/// roots.
fn hash_or_stand_in(v: &Value) -> Hash {
    hash(v).unwrap_or_else(|| Sha256::digest(v.as_str().unwrap().as_bytes()).into())
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    match &v["proof"] {
        Value::Null => Some(Vec::new()),
        Value::Array(hashes) => hashes.iter().map(hash).collect(),
        _ => None,
    }
}

fn desc(path: &Path) -> String {
    path.strip_prefix(testdata())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn check_inclusion(v: &Value) -> Result<(), String> {
    let index = number(v, "leafIdx").ok_or("bad leafIdx")?;
    let size = number(v, "treeSize").ok_or("bad treeSize")?;
    let leaf = hash(&v["leafHash"]).ok_or("bad leafHash")?;
    let root = hash(&v["root"]).ok_or("bad root")?;
    let proof = proof(v).ok_or("bad proof")?;
    verify_inclusion(&leaf, index, size, &proof, &root).map_err(|e| e.to_string())
}

fn check_consistency(v: &Value, hash: impl Fn(&Value) -> Option<Hash>) -> Result<(), String> {
    let size1 = number(v, "size1").ok_or("bad size1")?;
    let size2 = number(v, "size2").ok_or("bad size2")?;
    let root1 = hash(&v["root1"]).ok_or("bad root1")?;
    let root2 = hash(&v["root2"]).ok_or("bad root2")?;
    let proof = proof(v).ok_or("bad proof")?;
    verify_consistency(size1, size2, &proof, &root1, &root2).map_err(|e| e.to_string())
}

#[test]
fn inclusion_vectors() {
    let files = json_files(&testdata().join("inclusion"));
    assert!(files.len() > 50, "found only {} vectors", files.len());
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let v = load(path);
        let result = check_inclusion(&v);
        if v["wantErr"] == Value::Bool(true) {
            assert!(result.is_err(), "{}: accepted", desc(path));
            rejected += 1;
        } else {
            assert_eq!(result, Ok(()), "{}", desc(path));
            accepted += 1;
        }
    }
    assert!(
        accepted >= 5 && rejected >= 50,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn consistency_vectors() {
    let files = json_files(&testdata().join("consistency"));
    assert!(files.len() > 50, "found only {} vectors", files.len());
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let v = load(path);
        if v["wantErr"] == Value::Bool(true) {
            assert!(
                check_consistency(&v, hash).is_err(),
                "{}: accepted",
                desc(path)
            );
            rejected += 1;
        } else {
            let result = check_consistency(&v, |h| Some(hash_or_stand_in(h)));
            assert_eq!(result, Ok(()), "{}", desc(path));
            accepted += 1;
        }
    }
    assert!(
        accepted >= 5 && rejected >= 50,
        "{accepted} accepted, {rejected} rejected"
    );
}

struct ReferenceTree {
    leaves: Vec<Hash>,
    roots: Vec<Hash>,
}

fn reference_tree() -> ReferenceTree {
    let v = load(&testdata().join("reference-tree.json"));
    let hexes = |field: &str| -> Vec<Vec<u8>> {
        let list = v[field].as_array().unwrap();
        list.iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect()
    };
    let leaves: Vec<Hash> = hexes("leaf_inputs_hex")
        .iter()
        .map(|e| leaf_hash(e))
        .collect();
    let roots: Vec<Hash> = hexes("root_hashes_hex_by_size")
        .into_iter()
        .map(|r| r.try_into().unwrap())
        .collect();
    assert_eq!((leaves.len(), roots.len()), (8, 9));
    ReferenceTree { leaves, roots }
}

/// RFC 6962's definition of MTH, literally.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

#[test]
fn reference_tree_roots() {
    let t = reference_tree();
    for (n, want) in t.roots.iter().enumerate() {
        let mut frontier = Frontier::new();
        t.leaves[..n].iter().for_each(|l| frontier.push(*l));
        let memory = MemoryTree::from_leaves(t.leaves[..n].iter().copied());
        assert_eq!(frontier.root(), *want, "Frontier, n = {n}");
        assert_eq!(memory.root(), *want, "MemoryTree, n = {n}");
        assert_eq!(mth(&t.leaves[..n]), *want, "mth, n = {n}");
        let full = MemoryTree::from_leaves(t.leaves.iter().copied());
        assert_eq!(
            root(&full, n as u64).unwrap(),
            *want,
            "prefix of the full tree, n = {n}"
        );
    }
}

#[test]
fn reference_tree_proofs_verify() {
    let t = reference_tree();
    let tree = MemoryTree::from_leaves(t.leaves.iter().copied());
    for size in 1..=8u64 {
        let root = &t.roots[size as usize];
        for index in 0..size {
            let proof = inclusion_proof(&tree, index, size).unwrap();
            let leaf = &t.leaves[index as usize];
            assert_eq!(
                verify_inclusion(leaf, index, size, &proof, root),
                Ok(()),
                "{index} in {size}"
            );
        }
        for size1 in 1..=size {
            let proof = consistency_proof(&tree, size1, size).unwrap();
            let root1 = &t.roots[size1 as usize];
            assert_eq!(
                verify_consistency(size1, size, &proof, root1, root),
                Ok(()),
                "{size1} to {size}"
            );
        }
    }
}

/// The happy-path vectors were made from the reference tree, so generation
/// must reproduce them hash for hash: this pins the order of proof hashes.
#[test]
fn generated_proofs_equal_the_vectors() {
    let t = reference_tree();
    let tree = MemoryTree::from_leaves(t.leaves.iter().copied());
    let mut compared = 0;
    for path in json_files(&testdata().join("inclusion")) {
        let v = load(&path);
        let (Some(index), Some(size), Some(want)) =
            (number(&v, "leafIdx"), number(&v, "treeSize"), proof(&v))
        else {
            continue;
        };
        let from_reference = size <= 8
            && index < size
            && hash(&v["root"]) == Some(t.roots[size as usize])
            && hash(&v["leafHash"]) == Some(t.leaves[index as usize]);
        if v["wantErr"] == Value::Bool(false) && from_reference {
            assert_eq!(
                inclusion_proof(&tree, index, size).unwrap(),
                want,
                "{}",
                desc(&path)
            );
            compared += 1;
        }
    }
    for path in json_files(&testdata().join("consistency")) {
        let v = load(&path);
        let (Some(size1), Some(size2), Some(want)) =
            (number(&v, "size1"), number(&v, "size2"), proof(&v))
        else {
            continue;
        };
        let from_reference = 0 < size1
            && size1 <= size2
            && size2 <= 8
            && hash(&v["root1"]) == Some(t.roots[size1 as usize])
            && hash(&v["root2"]) == Some(t.roots[size2 as usize]);
        if v["wantErr"] == Value::Bool(false) && from_reference {
            assert_eq!(
                consistency_proof(&tree, size1, size2).unwrap(),
                want,
                "{}",
                desc(&path)
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "compared only {compared} vectors");
}

fn tree_of(size: u64, seed: u64) -> (MemoryTree, Vec<Hash>) {
    let leaves: Vec<Hash> = (0..size)
        .map(|i| leaf_hash(format!("{seed}/{i}").as_bytes()))
        .collect();
    (MemoryTree::from_leaves(leaves.iter().copied()), leaves)
}

fn flip(proof: &[Hash], at: usize, byte: usize, bit: u8) -> Vec<Hash> {
    let mut tampered = proof.to_vec();
    tampered[at][byte] ^= 1 << bit;
    tampered
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roots_agree(size in 0u64..600, seed: u64) {
        let (tree, leaves) = tree_of(size, seed);
        let mut frontier = Frontier::new();
        leaves.iter().for_each(|l| frontier.push(*l));
        let want = mth(&leaves);
        prop_assert_eq!(tree.root(), want);
        prop_assert_eq!(frontier.root(), want);
        let rebuilt = Frontier::from_subtrees(size, frontier.subtrees().to_vec()).unwrap();
        prop_assert_eq!(rebuilt.root(), want);
    }

    #[test]
    fn inclusion_proofs_verify_and_bind(
        (size, index) in (1u64..600).prop_flat_map(|n| (Just(n), 0..n)),
        seed: u64,
        pick: (usize, usize, u8),
        other_size in 1u64..600,
    ) {
        let (tree, leaves) = tree_of(size.max(other_size), seed);
        let leaf = &leaves[index as usize];
        let root = root(&tree, size).unwrap();
        let proof = inclusion_proof(&tree, index, size).unwrap();
        prop_assert_eq!(verify_inclusion(leaf, index, size, &proof, &root), Ok(()));

        if !proof.is_empty() {
            let tampered = flip(&proof, pick.0 % proof.len(), pick.1 % 32, pick.2 % 8);
            prop_assert!(verify_inclusion(leaf, index, size, &tampered, &root).is_err());
        }
        let mut wrong_leaf = *leaf;
        wrong_leaf[pick.1 % 32] ^= 1;
        prop_assert!(verify_inclusion(&wrong_leaf, index, size, &proof, &root).is_err());
        for other_index in [index ^ 1, index.wrapping_sub(1), index + 1, index ^ 4] {
            if other_index != index {
                prop_assert!(verify_inclusion(leaf, other_index, size, &proof, &root).is_err());
            }
        }
        // A proof against one tree head does not verify against another.
        if other_size != size && index < other_size {
            let other_root = super::root(&tree, other_size).unwrap();
            prop_assert!(verify_inclusion(leaf, index, other_size, &proof, &other_root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_bind(
        (size1, size2) in (1u64..600).prop_flat_map(|n| (1..=n, Just(n))),
        seed: u64,
        pick: (usize, usize, u8),
        other_size in 1u64..600,
    ) {
        let (tree, _) = tree_of(size2.max(other_size), seed);
        let root1 = root(&tree, size1).unwrap();
        let root2 = root(&tree, size2).unwrap();
        let proof = consistency_proof(&tree, size1, size2).unwrap();
        prop_assert_eq!(verify_consistency(size1, size2, &proof, &root1, &root2), Ok(()));

        if !proof.is_empty() {
            let tampered = flip(&proof, pick.0 % proof.len(), pick.1 % 32, pick.2 % 8);
            prop_assert!(verify_consistency(size1, size2, &tampered, &root1, &root2).is_err());
        }
        let (mut bad1, mut bad2) = (root1, root2);
        bad1[pick.1 % 32] ^= 1;
        bad2[pick.1 % 32] ^= 1;
        prop_assert!(verify_consistency(size1, size2, &proof, &bad1, &root2).is_err());
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &bad2).is_err());
        // Against other honest tree heads, the proof fails.
        if other_size != size1 && other_size <= size2 {
            let other_root = root(&tree, other_size).unwrap();
            prop_assert!(verify_consistency(other_size, size2, &proof, &other_root, &root2).is_err());
        }
        if other_size != size2 && other_size >= size1 {
            let other_root = root(&tree, other_size).unwrap();
            prop_assert!(verify_consistency(size1, other_size, &proof, &root1, &other_root).is_err());
        }
    }
}

#[test]
fn generation_rejects_impossible_requests() {
    let (tree, _) = tree_of(10, 0);
    assert!(matches!(
        inclusion_proof(&tree, 10, 10),
        Err(ProofGenError::IndexOutOfRange {
            index: 10,
            size: 10
        })
    ));
    assert!(matches!(
        inclusion_proof(&tree, 0, 0),
        Err(ProofGenError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        consistency_proof(&tree, 5, 4),
        Err(ProofGenError::SizesOutOfOrder { .. })
    ));
    assert!(matches!(
        consistency_proof(&tree, 0, 4),
        Err(ProofGenError::FromEmptyTree)
    ));
    assert_eq!(consistency_proof(&tree, 0, 0).unwrap(), Vec::<Hash>::new());
    assert_eq!(consistency_proof(&tree, 4, 4).unwrap(), Vec::<Hash>::new());
    // Beyond what the source holds, its error comes through.
    assert!(matches!(
        inclusion_proof(&tree, 0, 11),
        Err(ProofGenError::Source(_))
    ));
    assert!(matches!(root(&tree, 11), Err(ProofGenError::Source(_))));
    assert_eq!(root(&tree, 0).unwrap(), EMPTY_ROOT);
}
