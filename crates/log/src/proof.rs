//! C2SP tlog-proof@v1: a receipt that an entry is in a log, checkable offline
//! with only the log's public key.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 opaque data>         (optional)
//! index <leaf index>
//! <base64 inclusion proof hash>      (zero or more, leaf's sibling first)
//!
//! <signed checkpoint note, verbatim>
//! ```

use thiserror::Error;

use crate::checkpoint::{open_checkpoint, Checkpoint, CheckpointError};
use crate::encoding::{decode_base64, decode_hash, encode_base64, parse_decimal};
use crate::merkle::{verify_inclusion, ProofError};
use crate::note::Verifier;
use crate::Hash;

const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// An inclusion proof in a tree of at most 2^64 - 1 leaves has at most 64 hashes.
const MAX_PROOF_HASHES: usize = 64;

/// Why a tlog-proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlogProofError {
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("inclusion: {0}")]
    Inclusion(#[from] ProofError),
}

/// An inclusion proof of the entry at `index`, with the signed checkpoint it
/// leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Unauthenticated data for the application, such as the entry itself.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note text.
    pub checkpoint: String,
}

impl TlogProof {
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            text += &format!("extra {}\n", encode_base64(extra));
        }
        text += &format!("index {}\n", self.index);
        for hash in &self.proof {
            text += &encode_base64(hash);
            text.push('\n');
        }
        text.push('\n');
        text + &self.checkpoint
    }

    /// Parses a proof strictly: canonical numbers, 32-byte hashes in canonical
    /// base64, and every line in its place. The checkpoint must look like a
    /// checkpoint note, but is only opened by [`verify`](Self::verify).
    pub fn parse(text: &str) -> Result<TlogProof, TlogProofError> {
        let malformed = TlogProofError::Malformed;
        // The header lines are never empty, so the first empty line ends them.
        let (header, checkpoint) = text.split_once("\n\n").ok_or(malformed("no empty line"))?;
        let mut lines = header.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(malformed("not a c2sp.org/tlog-proof@v1"));
        }
        let extra = match lines.next_if(|l| l.starts_with("extra ")) {
            Some(line) => {
                Some(decode_base64(&line["extra ".len()..]).ok_or(malformed("bad extra data"))?)
            }
            None => None,
        };
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .and_then(parse_decimal)
            .ok_or(malformed("bad index line"))?;
        let proof = lines
            .map(|line| decode_hash(line).ok_or(malformed("bad proof hash")))
            .collect::<Result<Vec<_>, _>>()?;
        if proof.len() > MAX_PROOF_HASHES {
            return Err(malformed("too many proof hashes"));
        }
        // Catch misplaced lines early: what follows must look like a checkpoint
        // note (its signatures are checked by verify).
        let body = checkpoint.rfind("\n\n").map(|end| &checkpoint[..=end]);
        if body.map(Checkpoint::parse).and_then(Result::ok).is_none() {
            return Err(malformed("no checkpoint note after the proof"));
        }
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Opens the checkpoint with the log's `verifier` and checks that `leaf` is
    /// at `index` in the tree it signs, returning that checkpoint.
    pub fn verify(&self, verifier: &Verifier, leaf: &Hash) -> Result<Checkpoint, TlogProofError> {
        let checkpoint = open_checkpoint(&self.checkpoint, verifier)?;
        verify_inclusion(
            leaf,
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;

    use super::*;
    use crate::merkle::{inclusion_proof, leaf_hash, MemoryTree};
    use crate::note::{NoteError, Signer};

    const ORIGIN: &str = "example.com/log";

    fn entry(i: u64) -> Vec<u8> {
        format!("entry {i}").into_bytes()
    }

    /// A log of `size` entries and a proof for the entry at `index`.
    fn receipt(size: u64, index: u64) -> (Signer, TlogProof) {
        let key = Signer::generate(ORIGIN, &mut OsRng).unwrap();
        let tree = MemoryTree::from_leaves((0..size).map(|i| leaf_hash(&entry(i))));
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree.root(),
        };
        let proof = TlogProof {
            extra: Some(entry(index)),
            index,
            proof: inclusion_proof(&tree, index, size).unwrap(),
            checkpoint: checkpoint.sign(&key).unwrap(),
        };
        (key, proof)
    }

    #[test]
    fn receipts_round_trip_and_verify() {
        let (key, proof) = receipt(1000, 733);
        let text = proof.to_text();
        assert!(
            text.starts_with("c2sp.org/tlog-proof@v1\nextra ZW50cnkgNzMz\nindex 733\n"),
            "{text}"
        );
        assert!(text.ends_with(&proof.checkpoint));
        let parsed = TlogProof::parse(&text).unwrap();
        assert_eq!(parsed, proof);
        let leaf = leaf_hash(parsed.extra.as_deref().unwrap());
        let checkpoint = parsed.verify(&key.verifier(), &leaf).unwrap();
        assert_eq!(
            (checkpoint.origin.as_str(), checkpoint.size),
            (ORIGIN, 1000)
        );
    }

    #[test]
    fn spec_layout() {
        let proof = TlogProof {
            extra: None,
            index: 0,
            proof: vec![[0; 32], [0xff; 32]],
            checkpoint: "log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— log AAAA\n"
                .into(),
        };
        let want = "c2sp.org/tlog-proof@v1\nindex 0\n\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\
                    //////////////////////////////////////////8=\n\
                    \n\
                    log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— log AAAA\n";
        assert_eq!(proof.to_text(), want);
        assert_eq!(TlogProof::parse(want).as_ref(), Ok(&proof));
        // One-leaf trees have empty proofs; empty extra data is still extra data.
        let single = TlogProof {
            extra: Some(vec![]),
            proof: vec![],
            ..proof
        };
        let want = format!(
            "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n{}",
            single.checkpoint
        );
        assert_eq!(single.to_text(), want);
        assert_eq!(TlogProof::parse(&single.to_text()), Ok(single));
    }

    #[test]
    fn a_receipt_proves_only_its_own_entry() {
        let (key, proof) = receipt(1000, 733);
        let verifier = key.verifier();
        let wrong_leaf = leaf_hash(&entry(734));
        assert_eq!(
            proof.verify(&verifier, &wrong_leaf),
            Err(TlogProofError::Inclusion(ProofError::RootMismatch))
        );
        let leaf = leaf_hash(&entry(733));
        let moved = TlogProof {
            index: 734,
            ..proof.clone()
        };
        assert!(matches!(
            moved.verify(&verifier, &leaf),
            Err(TlogProofError::Inclusion(_))
        ));
        let mut flipped = proof.clone();
        flipped.proof[3][7] ^= 0x10;
        assert!(matches!(
            flipped.verify(&verifier, &leaf),
            Err(TlogProofError::Inclusion(_))
        ));
        let stranger = Signer::generate(ORIGIN, &mut OsRng).unwrap();
        assert_eq!(
            proof.verify(&stranger.verifier(), &leaf),
            Err(TlogProofError::Checkpoint(CheckpointError::Note(
                NoteError::NoKnownSignature
            )))
        );
        assert!(
            proof.verify(&verifier, &leaf).is_ok(),
            "the cases above are tampered with"
        );
    }

    #[test]
    fn malformed_receipts_are_rejected() {
        let (_, proof) = receipt(20, 5);
        let text = proof.to_text();
        let hash = encode_base64(&proof.proof[0]);
        let bad = [
            String::new(),
            text.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
            text.replacen("c2sp.org/tlog-proof@v1\n", "", 1),
            text.replacen("index 5", "index 05", 1),
            text.replacen("index 5", "index -5", 1),
            text.replacen("index 5", "index  5", 1),
            text.replacen("index 5", "index", 1),
            text.replacen("index 5\n", "", 1),
            text.replacen("extra ", "extra  ", 1),
            text.replacen("extra ", "extra=", 1),
            text.replacen("extra ZW50cnkgNQ==", "extra ZW50cnkgNQ", 1),
            // extra after index
            text.replacen(
                "extra ZW50cnkgNQ==\nindex 5",
                "index 5\nextra ZW50cnkgNQ==",
                1,
            ),
            text.replacen(&hash, &hash[..40], 1),
            text.replacen(&hash, hash.trim_end_matches('='), 1),
            text.replacen(&hash, &format!("{hash}AAAA"), 1),
            text.replacen(&hash, &format!(" {hash}"), 1),
            text.replacen(&format!("{hash}\n"), &format!("{hash}\n\n"), 1),
            text.replacen("\n\n", "\n", 1),
            text.split_inclusive("\n\n").next().unwrap().to_owned(),
            format!(
                "c2sp.org/tlog-proof@v1\nindex 0\n{}\n{}",
                format!("{hash}\n").repeat(65),
                proof.checkpoint
            ),
            text.replacen(&proof.checkpoint, "", 1),
            text.replacen(&proof.checkpoint, "example.com/log\n20\n", 1),
            text.replacen("example.com/log\n20\n", "example.com/log\nnineteen\n", 1),
        ];
        for case in &bad {
            assert!(
                matches!(TlogProof::parse(case), Err(TlogProofError::Malformed(_))),
                "{case:?}"
            );
        }
        assert_eq!(TlogProof::parse(&text), Ok(proof));
    }
}
