//! C2SP tlog-checkpoint: the signed statement of a log's size and root.
//!
//! The body is the origin (the log's name), the tree size in decimal and the
//! root hash in base64, one per line, then optional extension lines. By
//! convention the log signs it with a key named after the origin.

use thiserror::Error;

use crate::encoding::{decode_hash, encode_base64, parse_decimal};
use crate::note::{self, NoteError, Signer, Verifier};
use crate::Hash;

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("checkpoint of {origin:?} is signed by key {key:?}")]
    OriginMismatch { origin: String, key: String },
    #[error("`{origin}` is not an origin a log should take: {why}")]
    BadOrigin { origin: String, why: &'static str },
}

/// Whether `origin` may name a new log. tlog-checkpoint: "The origin MUST be
/// non-empty, and it SHOULD be a schema-less URL containing neither Unicode
/// spaces nor plus (U+002B), such as `example.com/log42`." custody holds
/// the logs it starts to the SHOULD as well (checkpoints of other logs it
/// reads only need the MUST: "clients MUST NOT assume that the origin is
/// following this format").
pub fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    let why = if origin.is_empty() {
        Some("it is empty")
    } else if origin.contains(char::is_whitespace) {
        Some("it contains a space")
    } else if origin.contains('+') {
        Some("it contains a plus sign")
    } else if origin.contains("://") {
        Some("it has a scheme: write it without one, as example.com/log42")
    } else {
        None
    };
    match why {
        Some(why) => Err(CheckpointError::BadOrigin {
            origin: origin.into(),
            why,
        }),
        None => Ok(()),
    }
}

/// A tree head: the log called `origin` had `size` entries with root `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body, with no extension lines.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            encode_base64(&self.root)
        )
    }

    /// Parses a note body. Extension lines are allowed and, not being part of
    /// [`Checkpoint`], ignored.
    pub fn parse(body: &str) -> Result<Checkpoint, CheckpointError> {
        let malformed = CheckpointError::Malformed;
        let lines = body
            .strip_suffix('\n')
            .ok_or(malformed("no final newline"))?;
        let mut lines = lines.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(malformed("empty origin"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or(malformed("bad tree size"))?;
        let root = lines
            .next()
            .and_then(decode_hash)
            .ok_or(malformed("bad root hash"))?;
        if lines.any(str::is_empty) {
            return Err(malformed("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The signed checkpoint note. Fails only if the origin cannot be a note
    /// line (a newline or control character in it).
    pub fn sign(&self, signer: &Signer) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(CheckpointError::Malformed("origin is not one line"));
        }
        Ok(signer.sign(&self.body())?)
    }
}

/// Opens a signed checkpoint, which must be signed by `verifier`, whose key
/// name must be the checkpoint's origin.
pub fn open_checkpoint(note: &str, verifier: &Verifier) -> Result<Checkpoint, CheckpointError> {
    let opened = note::open(note, std::slice::from_ref(verifier))?;
    let checkpoint = Checkpoint::parse(&opened.body)?;
    if checkpoint.origin != verifier.name() {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
            key: verifier.name().to_owned(),
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;

    use super::*;
    use crate::merkle::EMPTY_ROOT;

    fn log_key() -> Signer {
        Signer::generate("example.com/log", &mut OsRng).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "example.com/log".into(),
            size: 1234,
            root: [0xab; 32],
        }
    }

    #[test]
    fn body_has_the_three_lines() {
        let body = checkpoint().body();
        assert_eq!(
            body,
            "example.com/log\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"
        );
        assert_eq!(Checkpoint::parse(&body), Ok(checkpoint()));
        let empty = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: EMPTY_ROOT,
        };
        assert_eq!(
            empty.body(),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::parse(&empty.body()), Ok(empty));
    }

    #[test]
    fn extension_lines_are_ignored() {
        let body = format!("{}extension one\nextension two\n", checkpoint().body());
        assert_eq!(Checkpoint::parse(&body), Ok(checkpoint()));
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        let root = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
        let bad = [
            String::new(),
            "example.com/log\n1234\n".into(),
            format!("example.com/log\n1234\n{root}"),
            format!("\n1234\n{root}\n"),
            format!("example.com/log\n01234\n{root}\n"),
            format!("example.com/log\n-1\n{root}\n"),
            format!("example.com/log\n+1\n{root}\n"),
            format!("example.com/log\n 1\n{root}\n"),
            format!("example.com/log\n18446744073709551616\n{root}\n"),
            format!("example.com/log\n1234\n{}\n", &root[..40]),
            format!("example.com/log\n1234\n{}\n", root.trim_end_matches('=')),
            "example.com/log\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw==\n".into(),
            format!("example.com/log\n1234\n{root}\n\n"),
            format!("example.com/log\n1234\n{root}\next\n\n"),
        ];
        for body in &bad {
            assert!(
                matches!(Checkpoint::parse(body), Err(CheckpointError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn signed_checkpoints_open() {
        let key = log_key();
        let note = checkpoint().sign(&key).unwrap();
        assert!(note.starts_with(&checkpoint().body()));
        assert_eq!(open_checkpoint(&note, &key.verifier()), Ok(checkpoint()));
    }

    #[test]
    fn the_origin_must_name_the_key() {
        let other = Signer::generate("example.com/other", &mut OsRng).unwrap();
        let note = checkpoint().sign(&other).unwrap();
        assert_eq!(
            open_checkpoint(&note, &other.verifier()),
            Err(CheckpointError::OriginMismatch {
                origin: "example.com/log".into(),
                key: "example.com/other".into()
            })
        );
    }

    #[test]
    fn tampered_or_unsigned_checkpoints_are_rejected() {
        let key = log_key();
        let note = checkpoint().sign(&key).unwrap();
        let tampered = note.replacen("1234", "1235", 1);
        assert!(matches!(
            open_checkpoint(&tampered, &key.verifier()),
            Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
        ));
        let stranger = log_key(); // same name, different key
        assert_eq!(
            open_checkpoint(&note, &stranger.verifier()),
            Err(CheckpointError::Note(NoteError::NoKnownSignature))
        );
        let not_a_checkpoint = key.sign("hello\n").unwrap();
        assert!(matches!(
            open_checkpoint(&not_a_checkpoint, &key.verifier()),
            Err(CheckpointError::Malformed(_))
        ));
    }

    #[test]
    fn origins_that_are_not_one_line_cannot_be_signed() {
        let key = log_key();
        for origin in ["", "two\nlines", "tab\there"] {
            let cp = Checkpoint {
                origin: origin.into(),
                ..checkpoint()
            };
            assert!(cp.sign(&key).is_err(), "{origin:?}");
        }
    }

    #[test]
    fn origins_follow_the_checkpoint_spec() {
        let cases = [
            ("example.com/log42", true),
            ("demo.custody.invalid/emmas-diary", true),
            ("", false),
            ("example.com/my log", false),
            ("example.com/a+b", false),
            ("https://example.com/log", false),
        ];
        for (origin, ok) in cases {
            assert_eq!(check_origin(origin).is_ok(), ok, "{origin:?}");
        }
    }
}
