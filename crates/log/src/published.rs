//! Proofs as logs publish them, so that custody can check proofs it did not
//! make.
//!
//! An RFC 6962 log answers `get-proof-by-hash` and `get-entry-and-proof`
//! with `"audit_path"`, and `get-sth-consistency` with `"consistency"`: "An
//! array of base64-encoded Merkle Tree nodes" (RFC 6962 §4.4, §4.5, §4.8).
//! custody's own `log consistency` prints base64 hashes one per line, and
//! published test vectors often write them in hex. [`parse_proof`] reads all
//! three; checking them is [`crate::merkle`]'s.

use serde_json::Value;
use thiserror::Error;

use crate::encoding::decode_hash;
use crate::Hash;

/// An inclusion proof in a tree of at most 2^64 - 1 leaves has at most 64
/// hashes, and a consistency proof at most 65 (one more: the shared subtree).
const MAX_PROOF_HASHES: usize = 65;

/// The longest text an error message quotes back.
const QUOTED: usize = 48;

/// Why a hash was not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{quoted}` is not a SHA-256 hash: {wanted}")]
pub struct HashError {
    quoted: String,
    wanted: &'static str,
}

/// Why a proof was not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PublishedProofError {
    #[error("line {line}: {source}")]
    Line { line: usize, source: HashError },
    #[error("not an RFC 6962 proof response: {0}")]
    Json(String),
    #[error("\"{field}\", hash {position}: {source}")]
    JsonHash {
        field: &'static str,
        position: usize,
        source: HashError,
    },
    #[error("a proof has at most {MAX_PROOF_HASHES} hashes; this one has {0}")]
    TooLong(usize),
}

/// A proof's hashes, leaf's sibling (or the shared subtree) first, and the
/// leaf index the log's answer names, if it names one (`get-proof-by-hash`
/// does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedProof {
    pub hashes: Vec<Hash>,
    pub leaf_index: Option<u64>,
}

/// Reads a hash written as 64 hex digits (either case) or as the 44
/// characters of its padded standard base64.
pub fn parse_hash(text: &str) -> Result<Hash, HashError> {
    let decoded = if text.len() == 64 {
        hex::decode(text).ok().and_then(|b| b.try_into().ok())
    } else {
        decode_hash(text)
    };
    decoded.ok_or_else(|| HashError {
        quoted: quote(text),
        wanted: "write 64 hex digits or 44 characters of base64",
    })
}

/// Reads a proof: an RFC 6962 JSON answer holding `"audit_path"` or
/// `"consistency"` (base64, as the RFC says), or else one hash per line, in
/// hex or base64, blank lines ignored.
pub fn parse_proof(text: &str) -> Result<PublishedProof, PublishedProofError> {
    let proof = if text.trim_start().starts_with('{') {
        parse_json(text)?
    } else {
        let hashes = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty())
            .map(|(line, text)| {
                parse_hash(text).map_err(|source| PublishedProofError::Line { line, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        PublishedProof {
            hashes,
            leaf_index: None,
        }
    };
    if proof.hashes.len() > MAX_PROOF_HASHES {
        return Err(PublishedProofError::TooLong(proof.hashes.len()));
    }
    Ok(proof)
}

fn parse_json(text: &str) -> Result<PublishedProof, PublishedProofError> {
    let json = |why: String| PublishedProofError::Json(why);
    let value: Value = serde_json::from_str(text).map_err(|e| json(e.to_string()))?;
    let fields: Vec<_> = ["audit_path", "consistency"]
        .into_iter()
        .filter_map(|f| value.get(f).map(|v| (f, v)))
        .collect();
    let (field, hashes) = match fields.as_slice() {
        [(field, hashes)] => (*field, *hashes),
        [] => {
            return Err(json(
                "it holds neither \"audit_path\" nor \"consistency\"".into(),
            ))
        }
        _ => {
            return Err(json(
                "it holds both \"audit_path\" and \"consistency\"".into(),
            ))
        }
    };
    let hashes = hashes
        .as_array()
        .ok_or_else(|| json(format!("\"{field}\" is not an array")))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let position = i + 1;
            let text = h
                .as_str()
                .ok_or_else(|| json(format!("\"{field}\", hash {position}, is not a string")))?;
            decode_hash(text).ok_or_else(|| PublishedProofError::JsonHash {
                field,
                position,
                source: HashError {
                    quoted: quote(text),
                    wanted: "RFC 6962 gives hashes in base64",
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaf_index = match value.get("leaf_index") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| json("\"leaf_index\" is not a whole number".into()))?,
        ),
    };
    Ok(PublishedProof { hashes, leaf_index })
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTED) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::encode_base64;

    const HEX: &str = "7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78";

    fn hash() -> Hash {
        hex::decode(HEX).unwrap().try_into().unwrap()
    }

    #[test]
    fn a_hash_is_hex_or_base64() {
        let b64 = encode_base64(&hash());
        for good in [HEX.to_owned(), HEX.to_uppercase(), b64.clone()] {
            assert_eq!(parse_hash(&good), Ok(hash()), "{good}");
        }
        for bad in [
            "",
            &HEX[..62],
            &format!("{HEX}00"),
            &HEX.replace('7', "g"),
            b64.trim_end_matches('='),
            &format!(" {b64}"),
            &b64[..40],
        ] {
            assert!(parse_hash(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn proofs_as_logs_publish_them() {
        let h = hash();
        let b64 = encode_base64(&h);
        let proof = |hashes: Vec<Hash>, leaf_index| PublishedProof { hashes, leaf_index };
        let cases = [
            ("".to_owned(), proof(vec![], None)),
            (format!("{HEX}\n"), proof(vec![h], None)),
            (format!("{b64}\r\n\n{HEX}"), proof(vec![h, h], None)),
            (
                format!(r#"{{"consistency": ["{b64}", "{b64}"]}}"#),
                proof(vec![h, h], None),
            ),
            (
                format!(r#"{{"leaf_index": 3, "audit_path": ["{b64}"]}}"#),
                proof(vec![h], Some(3)),
            ),
            (r#"{"audit_path": []}"#.to_owned(), proof(vec![], None)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_proof(&text), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn malformed_proofs_say_where() {
        let b64 = encode_base64(&hash());
        let cases = [
            (format!("{HEX}\n{}\n", &HEX[1..]), "line 2: `"),
            (r#"{"audit_path": "x"}"#.to_owned(), "is not an array"),
            (
                r#"{"audit_path": [1]}"#.to_owned(),
                "hash 1, is not a string",
            ),
            (
                format!(r#"{{"consistency": ["{b64}", "{HEX}"]}}"#),
                "\"consistency\", hash 2: `7a395c",
            ),
            (r#"{"proof": []}"#.to_owned(), "neither"),
            (
                r#"{"audit_path": [], "consistency": []}"#.to_owned(),
                "both",
            ),
            (
                r#"{"leaf_index": -1, "audit_path": []}"#.to_owned(),
                "\"leaf_index\" is not a whole number",
            ),
            ("{".to_owned(), "not an RFC 6962 proof response"),
            (
                format!("{HEX}\n").repeat(66),
                "at most 65 hashes; this one has 66",
            ),
        ];
        for (text, want) in cases {
            let err = parse_proof(&text).expect_err(&text).to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        let long = "x".repeat(100);
        let err = parse_hash(&long).unwrap_err().to_string();
        assert!(err.starts_with(&format!("`{}…`", "x".repeat(48))), "{err}");
    }

    /// What `testdata/ct` holds (its README says where each came from).
    mod certificate_transparency {
        use super::*;
        use crate::merkle::{leaf_hash, verify_consistency, verify_inclusion};
        use crate::testdata;

        /// Google's Pilot log (by every sign; the source does not name it):
        /// entry 848,049 of its tree of 3,630,887, in May 2014.
        struct Pilot {
            leaf: Hash,
            proof: Vec<Hash>,
            root: Hash,
        }
        const PILOT_INDEX: u64 = 848_049;
        const PILOT_SIZE: u64 = 3_630_887;

        fn pilot() -> Pilot {
            let entry = hex::decode(testdata::text("ct/pilot-848049.leaf.hex").trim()).unwrap();
            Pilot {
                leaf: leaf_hash(&entry),
                proof: parse_proof(&testdata::text("ct/pilot-848049.proof"))
                    .unwrap()
                    .hashes,
                root: parse_hash(
                    "78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb",
                )
                .unwrap(),
            }
        }

        /// A signed tree head of Google's Argon 2027h1 log, as get-sth serves it.
        fn sth(name: &str) -> (u64, Hash) {
            let v: Value = serde_json::from_str(&testdata::text(name)).unwrap();
            let root = v["sha256_root_hash"].as_str().unwrap();
            (v["tree_size"].as_u64().unwrap(), parse_hash(root).unwrap())
        }

        #[test]
        fn pilots_inclusion_proof_verifies_and_no_changed_one_does() {
            let p = pilot();
            assert_eq!(p.proof.len(), 22);
            let check = |leaf: &Hash, index, size, proof: &[Hash], root: &Hash| {
                verify_inclusion(leaf, index, size, proof, root)
            };
            assert_eq!(
                check(&p.leaf, PILOT_INDEX, PILOT_SIZE, &p.proof, &p.root),
                Ok(())
            );
            for i in 0..p.proof.len() {
                let mut flipped = p.proof.clone();
                flipped[i][31] ^= 1;
                assert!(
                    check(&p.leaf, PILOT_INDEX, PILOT_SIZE, &flipped, &p.root).is_err(),
                    "hash {i}"
                );
            }
            let mut leaf = p.leaf;
            leaf[0] ^= 0x80;
            let mut root = p.root;
            root[5] ^= 4;
            let wrong = [
                check(&leaf, PILOT_INDEX, PILOT_SIZE, &p.proof, &p.root),
                check(&p.leaf, PILOT_INDEX, PILOT_SIZE, &p.proof, &root),
                check(&p.leaf, PILOT_INDEX + 1, PILOT_SIZE, &p.proof, &p.root),
                check(&p.leaf, PILOT_INDEX, 1 << 21, &p.proof, &p.root),
                check(&p.leaf, PILOT_INDEX, (1 << 22) + 1, &p.proof, &p.root),
                check(&p.leaf, PILOT_INDEX, PILOT_SIZE, &p.proof[..21], &p.root),
            ];
            for (i, result) in wrong.iter().enumerate() {
                assert!(result.is_err(), "case {i}");
            }
        }

        /// RFC 9162's verification binds a tree size only through the
        /// proof's shape: a root stands for its entries, and only a signed
        /// tree head ties it to a size. So a size that gives the proof the
        /// same shape passes, which is why `log check` takes size and root
        /// from one tree head and custody's own checks never take a size
        /// apart from its signed checkpoint.
        #[test]
        fn a_size_is_bound_only_by_the_shape_of_the_proof() {
            let p = pilot();
            // Every tree of 2^21 + 1 to 2^22 entries gives entry 848,049
            // the same 22-hash path.
            for size in [(1 << 21) + 1, PILOT_SIZE - 1, PILOT_SIZE + 1, 1 << 22] {
                assert_eq!(
                    verify_inclusion(&p.leaf, PILOT_INDEX, size, &p.proof, &p.root),
                    Ok(()),
                    "{size}"
                );
            }
            let (size1, root1) = sth("ct/argon2027h1_sth1.json");
            let (size2, root2) = sth("ct/argon2027h1_sth2.json");
            let proof = parse_proof(&testdata::text("ct/argon2027h1_consistency.json"))
                .unwrap()
                .hashes;
            // The older size is bound (its root is rebuilt from its bits);
            // the newer one, like an inclusion proof's, only by the shape.
            for new_size in [384_065_537, size2 - 1, size2 + 1, 384_073_728] {
                assert_eq!(
                    verify_consistency(size1, new_size, &proof, &root1, &root2),
                    Ok(()),
                    "{new_size}"
                );
            }
        }

        #[test]
        fn argons_consistency_proof_verifies_and_no_changed_one_does() {
            let (size1, root1) = sth("ct/argon2027h1_sth1.json");
            let (size2, root2) = sth("ct/argon2027h1_sth2.json");
            let proof = parse_proof(&testdata::text("ct/argon2027h1_consistency.json"))
                .unwrap()
                .hashes;
            assert_eq!((size1, size2, proof.len()), (384_065_451, 384_071_894, 23));
            assert_eq!(
                verify_consistency(size1, size2, &proof, &root1, &root2),
                Ok(())
            );
            for i in 0..proof.len() {
                let mut flipped = proof.clone();
                flipped[i][0] ^= 0x40;
                assert!(
                    verify_consistency(size1, size2, &flipped, &root1, &root2).is_err(),
                    "hash {i}"
                );
            }
            let wrong = [
                verify_consistency(size1 + 1, size2, &proof, &root1, &root2),
                verify_consistency(size1 - 1, size2, &proof, &root1, &root2),
                verify_consistency(size1, 384_065_536, &proof, &root1, &root2),
                verify_consistency(size1, 384_073_729, &proof, &root1, &root2),
                verify_consistency(size1, size2, &proof[..22], &root1, &root2),
                verify_consistency(size1, size2, &proof, &root2, &root1),
            ];
            for (i, result) in wrong.iter().enumerate() {
                assert!(result.is_err(), "case {i}");
            }
        }
    }
}
