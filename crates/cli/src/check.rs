//! `custody log check ...`: proofs custody did not make, checked by
//! crates/log alone (no database), what holds or fails told in words.

use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use custody_log::checkpoint::open_checkpoint;
use custody_log::merkle::{leaf_hash, verify_consistency, verify_inclusion, ProofError};
use custody_log::proof::TlogProof;
use custody_log::published::{parse_hash, parse_proof, PublishedProof};
use custody_log::Hash;

use crate::args::CheckCommand;
use crate::log::{read, read_verifier};
use crate::output::{count, num};

pub fn run(command: CheckCommand) -> Result<()> {
    match command {
        CheckCommand::Inclusion {
            leaf_hash,
            entry,
            index,
            size,
            root,
            proof,
        } => {
            let leaf = match (leaf_hash, entry) {
                (Some(hash), _) => hash_arg("--leaf-hash", &hash)?,
                (None, Some(file)) => entry_leaf(&file)?,
                (None, None) => bail!("give the leaf with --leaf-hash or --entry"),
            };
            let claim = Inclusion {
                leaf,
                index,
                size,
                root: hash_arg("--root", &root)?,
            };
            inclusion(&claim, &read_proof(&proof)?)
        }
        CheckCommand::Consistency {
            old_size,
            old_root,
            new_size,
            new_root,
            proof,
        } => {
            let claim = Consistency {
                old_size,
                old_root: hash_arg("--old-root", &old_root)?,
                new_size,
                new_root: hash_arg("--new-root", &new_root)?,
            };
            consistency(&claim, &read_proof(&proof)?)
        }
        CheckCommand::TlogProof {
            file,
            key,
            entry,
            leaf_hash,
        } => tlog_proof(&file, &key, entry.as_deref(), leaf_hash.as_deref()),
    }
}

/// What an inclusion proof is to show: `leaf` is entry `index` of the tree
/// of `size` entries whose root is `root`.
struct Inclusion {
    leaf: Hash,
    index: u64,
    size: u64,
    root: Hash,
}

/// What a consistency proof is to show: the tree of `old_size` entries with
/// `old_root` is a prefix of the tree of `new_size` with `new_root`.
struct Consistency {
    old_size: u64,
    old_root: Hash,
    new_size: u64,
    new_root: Hash,
}

fn inclusion(claim: &Inclusion, proof: &PublishedProof) -> Result<()> {
    let Inclusion {
        leaf,
        index,
        size,
        root,
    } = claim;
    if let Some(named) = proof.leaf_index.filter(|named| named != index) {
        bail!(
            "does not hold: the log's answer is the proof of entry {}, not of entry {} (--index)",
            num(named),
            num(*index)
        );
    }
    verify_inclusion(leaf, *index, *size, &proof.hashes, root)
        .map_err(|e| anyhow::anyhow!("does not hold: {}", inclusion_failure(&e, claim)))?;
    println!(
        "holds: the leaf {} is entry {} of the tree of {} whose root is {}",
        b64(leaf),
        num(*index),
        count(*size, "entry"),
        b64(root)
    );
    println!(
        "the proof's {} lead from the leaf to that root (RFC 9162 2.1.3.2)",
        hashes(proof.hashes.len())
    );
    Ok(())
}

fn inclusion_failure(e: &ProofError, claim: &Inclusion) -> String {
    let (index, size) = (num(claim.index), count(claim.size, "entry"));
    match e {
        ProofError::IndexOutOfRange { .. } => {
            format!("entry {index} cannot be in a tree of {size} (the first entry is 0)")
        }
        ProofError::WrongProofSize { got, want } => format!(
            "the proof of entry {index} in a tree of {size} has {}; this one has {got}: \
             it is {}, or it is for another entry or tree size",
            hashes(*want),
            cut_or_padded(*got, *want)
        ),
        ProofError::RootMismatch => format!(
            "the proof does not lead from this leaf, as entry {index} of a tree of {size}, to the \
             root {}: the leaf, index, size or root is not the one the proof is for, or the proof \
             was changed",
            b64(&claim.root)
        ),
        other => other.to_string(),
    }
}

fn consistency(claim: &Consistency, proof: &PublishedProof) -> Result<()> {
    let Consistency {
        old_size,
        old_root,
        new_size,
        new_root,
    } = claim;
    verify_consistency(*old_size, *new_size, &proof.hashes, old_root, new_root)
        .map_err(|e| anyhow::anyhow!("does not hold: {}", consistency_failure(&e, claim)))?;
    println!(
        "holds: the tree of {} with root {} is the start of the tree of {} with root {}",
        count(*old_size, "entry"),
        b64(old_root),
        count(*new_size, "entry"),
        b64(new_root)
    );
    println!(
        "so the log only appended between them ({} added; the proof's {} rebuild both roots, \
         RFC 9162 2.1.4.2)",
        count(new_size - old_size, "entry"),
        hashes(proof.hashes.len())
    );
    Ok(())
}

fn consistency_failure(e: &ProofError, claim: &Consistency) -> String {
    let (old, new) = (
        count(claim.old_size, "entry"),
        count(claim.new_size, "entry"),
    );
    match e {
        ProofError::SizesOutOfOrder { .. } => {
            format!("the newer tree ({new}) is smaller than the older ({old}); a log only grows")
        }
        ProofError::FromEmptyTree => "every tree extends the empty tree, so a proof from 0 \
                                      entries proves nothing; custody takes none"
            .into(),
        ProofError::WrongProofSize { got, want } => format!(
            "a consistency proof from {old} to {new} has {}; this one has {got}: it is {}, or \
             it is for other tree sizes",
            hashes(*want),
            cut_or_padded(*got, *want)
        ),
        ProofError::RootMismatch => format!(
            "the proof does not rebuild both roots: either the tree of {old} with root {} is not \
             the start of the tree of {new} with root {}, or a size or root is not the one the \
             proof is for, or the proof was changed",
            b64(&claim.old_root),
            b64(&claim.new_root)
        ),
        other => other.to_string(),
    }
}

fn tlog_proof(file: &Path, key: &str, entry: Option<&Path>, leaf: Option<&str>) -> Result<()> {
    let leaf_given = leaf.is_some() || entry.is_some();
    let verifier = read_verifier(key)?;
    let proof = TlogProof::parse(&read(file)?).with_context(|| file.display().to_string())?;
    let (leaf, which) = match (leaf, entry, &proof.extra) {
        (Some(hash), _, _) => (hash_arg("--leaf-hash", hash)?, "the leaf hash given".into()),
        (None, Some(entry), _) => (
            entry_leaf(entry)?,
            format!("the entry in {}", entry.display()),
        ),
        (None, None, Some(extra)) => (
            leaf_hash(extra),
            format!(
                "the proof's own entry (its extra data, {} bytes)",
                num(extra.len() as u64)
            ),
        ),
        (None, None, None) => bail!(
            "{}: the proof carries no entry (no extra line): give it with --entry, or its hash \
             with --leaf-hash",
            file.display()
        ),
    };
    let checkpoint = open_checkpoint(&proof.checkpoint, &verifier).map_err(|e| {
        anyhow::anyhow!(
            "does not hold: the proof's checkpoint is not one the key {} signed: {e}",
            verifier.name()
        )
    })?;
    let claim = Inclusion {
        leaf,
        index: proof.index,
        size: checkpoint.size,
        root: checkpoint.root,
    };
    verify_inclusion(
        &leaf,
        proof.index,
        checkpoint.size,
        &proof.proof,
        &checkpoint.root,
    )
    .map_err(|e| anyhow::anyhow!("does not hold: {}", inclusion_failure(&e, &claim)))?;
    println!(
        "holds: {which} is entry {} of the log {} as of its checkpoint of {} (root {}), signed by \
         the key given",
        num(proof.index),
        checkpoint.origin,
        count(checkpoint.size, "entry"),
        b64(&checkpoint.root)
    );
    if !leaf_given {
        // tlog-proof: "Applications MUST NOT implicitly trust the extra data".
        println!(
            "the extra data is the proof's word for what the entry is: the check shows these \
             bytes are in the log, not that they are the entry you expect (give that with --entry)"
        );
    }
    Ok(())
}

fn hash_arg(flag: &str, text: &str) -> Result<Hash> {
    parse_hash(text.trim()).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// The leaf hash of the entry whose bytes `file` holds.
fn entry_leaf(file: &Path) -> Result<Hash> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(leaf_hash(&bytes))
}

fn read_proof(file: &Path) -> Result<PublishedProof> {
    parse_proof(&read(file)?).with_context(|| file.display().to_string())
}

fn cut_or_padded(got: usize, want: usize) -> &'static str {
    if got < want {
        "cut short"
    } else {
        "padded"
    }
}

/// "1 hash", "22 hashes" (`count` adds only an s).
fn hashes(n: usize) -> String {
    match n {
        1 => "1 hash".into(),
        n => format!("{} hashes", num(n as u64)),
    }
}

fn b64(hash: &Hash) -> String {
    BASE64_STANDARD.encode(hash)
}
