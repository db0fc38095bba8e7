//! C2SP signed-note: text signed by one or more named Ed25519 keys.
//!
//! A note is its text, which ends with a newline, then a blank line, then one
//! line per signature: `— <key name> <base64(key ID || signature)>`. The key ID
//! is derived from the key name and public key, so a verifier can skip
//! signatures by keys it does not know without trying them.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::encoding::{decode_base64, encode_base64};

/// Beyond this many signature lines a note is rejected, so that a hostile note
/// cannot make us parse forever (the Go reference's limit).
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte of Ed25519 keys.
const ALG_ED25519: u8 = 0x01;
/// Starts every signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key or note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    #[error("malformed verifier key")]
    MalformedVerifierKey,
    #[error("malformed signer key")]
    MalformedSignerKey,
    #[error("key ID does not match the key")]
    WrongKeyId,
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("the signature by {name} does not verify")]
    InvalidSignature { name: String },
    #[error("no signature by a known key")]
    NoKnownSignature,
}

/// A key name: non-empty, with no Unicode white space and no `+`, which
/// separates the fields of key texts.
fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '+') {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// The first four bytes of SHA-256(name || "\n" || 0x01 || public key).
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Parses `<name>+<8 hex key ID>+<base64(0x01 || key)>`.
fn parse_key_text(text: &str) -> Option<(&str, u32, [u8; 32])> {
    let mut fields = text.splitn(3, '+');
    let (name, id, key) = (fields.next()?, fields.next()?, fields.next()?);
    check_name(name).ok()?;
    let id: [u8; 4] = hex::decode(id).ok()?.try_into().ok()?;
    match decode_base64(key)?.split_first() {
        Some((&ALG_ED25519, key)) => Some((name, u32::from_be_bytes(id), key.try_into().ok()?)),
        _ => None,
    }
}

fn key_text(name: &str, id: u32, key: &[u8; 32]) -> String {
    let mut typed = vec![ALG_ED25519];
    typed.extend_from_slice(key);
    format!("{name}+{id:08x}+{}", encode_base64(&typed))
}

/// Note text: UTF-8 (as a `str` is) with no control characters but newlines.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(NoteError::Malformed("control character"));
    }
    Ok(())
}

/// A public key that checks signatures on notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses the verifier key text `<name>+<key ID>+<base64(0x01 || key)>`.
    pub fn from_text(text: &str) -> Result<Verifier, NoteError> {
        let (name, id, key) = parse_key_text(text).ok_or(NoteError::MalformedVerifierKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| NoteError::MalformedVerifierKey)?;
        if key_id(name, &key) != id {
            return Err(NoteError::WrongKeyId);
        }
        Ok(Verifier {
            name: name.to_owned(),
            key_id: id,
            key,
        })
    }

    pub fn to_text(&self) -> String {
        key_text(&self.name, self.key_id, self.key.as_bytes())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verifies(&self, text: &str, signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &signature).is_ok()
    }
}

/// A private key that signs notes. Its [`to_text`](Self::to_text) is secret;
/// its `Debug` shows only the name and key ID.
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// A new random key called `name`.
    pub fn generate(name: &str, rng: &mut impl CryptoRngCore) -> Result<Signer, NoteError> {
        check_name(name)?;
        Ok(Signer::new(name, SigningKey::generate(rng)))
    }

    fn new(name: &str, key: SigningKey) -> Signer {
        let key_id = key_id(name, &key.verifying_key());
        Signer {
            name: name.to_owned(),
            key_id,
            key,
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>`, the format
    /// of Go's golang.org/x/mod/sumdb/note.
    pub fn from_text(text: &str) -> Result<Signer, NoteError> {
        let malformed = NoteError::MalformedSignerKey;
        let (name, id, seed) = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .and_then(parse_key_text)
            .ok_or(malformed)?;
        let signer = Signer::new(name, SigningKey::from_bytes(&seed));
        if signer.key_id != id {
            return Err(NoteError::WrongKeyId);
        }
        Ok(signer)
    }

    /// The secret key text, for storing; see [`from_text`](Self::from_text).
    pub fn to_text(&self) -> String {
        let seed = self.key.to_bytes();
        format!(
            "{PRIVATE_KEY_PREFIX}{}",
            key_text(&self.name, self.key_id, &seed)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `body`, which must end with a newline, returning the whole note.
    pub fn sign(&self, body: &str) -> Result<String, NoteError> {
        if !body.ends_with('\n') {
            return Err(NoteError::Malformed("text does not end with a newline"));
        }
        check_text(body)?;
        let mut signature = self.key_id.to_be_bytes().to_vec();
        signature.extend_from_slice(&self.key.sign(body.as_bytes()).to_bytes());
        Ok(format!(
            "{body}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            encode_base64(&signature)
        ))
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A note whose signatures checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The signed text, including its final newline.
    pub body: String,
    /// The known keys that signed it, each once, in the order of their lines.
    pub signed_by: Vec<Verifier>,
}

/// Opens a signed note, checking the signatures by the `verifiers` it knows.
///
/// Signatures by unknown keys are ignored, as the spec requires, but a
/// signature that claims a known key (name and key ID) and does not verify is
/// an error: it means the note was altered. At least one known key must have
/// signed.
pub fn open(note: &str, verifiers: &[Verifier]) -> Result<Opened, NoteError> {
    check_text(note)?;
    // Signature lines are never blank, so the last blank line ends the text.
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before signatures"))?;
    let (body, signatures) = (&note[..=split], &note[split + 2..]);
    let signatures = signatures
        .strip_suffix('\n')
        .ok_or(NoteError::Malformed("signatures do not end with a newline"))?;

    let mut signed_by: Vec<Verifier> = Vec::new();
    for (count, line) in signatures.split('\n').enumerate() {
        if count == MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures"));
        }
        let (name, id, signature) = parse_signature_line(line)?;
        let Some(verifier) = verifiers.iter().find(|v| v.name == name && v.key_id == id) else {
            continue;
        };
        if !verifier.verifies(body, &signature) {
            return Err(NoteError::InvalidSignature {
                name: name.to_owned(),
            });
        }
        if !signed_by.contains(verifier) {
            signed_by.push(verifier.clone());
        }
    }
    if signed_by.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(Opened {
        body: body.to_owned(),
        signed_by,
    })
}

/// `— <name> <base64(key ID || signature)>` into its name, key ID and signature.
fn parse_signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let malformed = NoteError::Malformed("bad signature line");
    let (name, signature) = line
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(|l| l.split_once(' '))
        .ok_or(malformed.clone())?;
    check_name(name).map_err(|_| malformed.clone())?;
    let signature = decode_base64(signature).ok_or(malformed.clone())?;
    match signature.split_first_chunk::<4>() {
        Some((id, rest)) if !rest.is_empty() => Ok((name, u32::from_be_bytes(*id), rest.to_vec())),
        _ => Err(malformed),
    }
}

#[cfg(test)]
mod tests;
