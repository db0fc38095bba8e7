//! custody's transparency log: the small, exact cores, with no I/O.
//!
//! Everything here is a pure function of its inputs, so that the engine can
//! store and serve the log however it likes and still be checked against the
//! specifications it claims to follow.
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and
//!   consistency proofs (generation and verification), and the [`merkle::Frontier`]
//!   that re-hashes a whole log in one streaming pass.
//! - [`tiles`]: C2SP tlog-tiles: tile paths, entry bundles, a tile-backed
//!   [`merkle::HashSource`], and the [`tiles::TileWriter`] that keeps tiles up to
//!   date as leaves are appended.
//! - [`note`]: C2SP signed-note with Ed25519 keys.
//! - [`checkpoint`]: C2SP tlog-checkpoint, the signed tree head.
//! - [`proof`]: C2SP tlog-proof, the offline-verifiable receipt of inclusion.
//! - [`published`]: proofs as other logs publish them (RFC 6962 JSON answers,
//!   hash lists), read so that custody can check proofs it did not make.

pub mod checkpoint;
mod encoding;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod published;
pub mod tiles;

/// A SHA-256 hash: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];

#[cfg(test)]
mod testdata;
