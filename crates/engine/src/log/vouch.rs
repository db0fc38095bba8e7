//! No decision rests on a fact the log does not vouch for (issue 13,
//! point 2). A command that decides on the store's rows and publishes what
//! it decided verifies, beside its own reading and on a connection of its
//! own, what its decisions rest on ([`Engine::verify_facts_of`]): the Merkle
//! tree recomputed and checked against every signed checkpoint, and every
//! fact about the sender's records (its records and copies, every
//! preference event, notices, terms, organisations, disclosures) bound to
//! its entry ([`crate::log::binding`]). Not the rows of the decisions already
//! made, nor other holders' records: they decide nothing here. Their
//! entries are hashed all the same: what an entry is (a fact, or a past
//! refusal) is known only once its bytes hash to the leaf the signed root
//! holds, and a fact's entry rewritten as a refusal, its row deleted, would
//! otherwise drop out of the facts unseen
//! (`tamper.rs::a_fact_passed_off_as_a_past_decision_refuses_the_share`).
//!
//! The command's transaction keeps every other writer out while both read
//! ([`Store::hold_state`]), so the two read one state. The command records
//! its decisions meanwhile, in its transaction, which the verifier does not
//! see; it commits them and moves its files into place only once the
//! verification has held. Otherwise it rolls back, fails naming the first
//! row that differs, and has disclosed nothing.
//!
//! A writer that decides many times on one connection (the server's named
//! shares, many small requests a second) cannot verify before each: it
//! keeps [`Vouched`], the store verified once and kept verified by its own
//! writes, which append an entry for every row they write in the same
//! transaction (`logged`). A write from any other connection, custody's
//! or an edit in a database tool, moves [`Store::outside_writes`], and
//! the writer's next decision verifies everything again first.
//!
use std::thread::JoinHandle;

use custody_log::note::Signer;
use custody_store::{Store, StoreError};

use crate::log::verify::Verification;
use crate::log::Verified;
use crate::{Engine, Error, Result, Silent};

/// An engine on a connection of its own, to verify the store with.
pub trait Voucher: Send {
    /// Verifies what decisions about `org`'s records rest on.
    fn verify(self: Box<Self>, org: &str) -> Result<Verified>;
}

impl<S: Store + Send> Voucher for Engine<S> {
    fn verify(self: Box<Self>, org: &str) -> Result<Verified> {
        self.verify_facts_of(org, &Silent)
    }
}

/// A verification under way, or none (a caller that gave no voucher: the
/// engine's own unit tests).
pub(crate) struct Vouching(Option<JoinHandle<Result<Verified>>>);

impl Vouching {
    /// Starts verifying. Call it once the command's transaction holds the
    /// state, so that the verifier reads the state the command reads.
    pub(crate) fn start(voucher: Option<Box<dyn Voucher>>, org: &str) -> Vouching {
        let org = org.to_string();
        Vouching(voucher.map(|v| {
            std::thread::Builder::new()
                .name("custody-vouch".into())
                .spawn(move || v.verify(&org))
                .expect("a thread starts")
        }))
    }

    /// Waits for the verification; what it found, or an error if the store
    /// does not verify. None without a voucher.
    pub(crate) fn held(self) -> Result<Option<Verified>> {
        let Some(handle) = self.0 else {
            return Ok(None);
        };
        match handle.join() {
            Ok(verified) => verified.map(Some).map_err(refused),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// A verification that failed, as the decision it stops reports it.
pub(crate) fn refused(e: Error) -> Error {
    match e {
        // What the log and the rows say, or what they are (a notice that
        // no longer parses): a store that does not verify.
        e @ (Error::Log(_) | Error::Store(StoreError::Corrupt(_))) => {
            Error::Unverified(e.to_string())
        }
        // Anything else (the database gone, a full disk) keeps its kind.
        e => e,
    }
}

/// What one connection has verified: the store as it stood when its count
/// of outside writes was `outside`.
#[derive(Debug, Default)]
pub(crate) struct Vouched {
    outside: Option<u64>,
}

impl Vouched {
    /// Inside a transaction holding the state (`hold_state`), before it
    /// writes: verifies the whole store (`log verify`'s verification)
    /// unless nothing but this connection has written since it last did.
    /// True when it verified: what the caller keeps from the store (the
    /// vocabulary, the notices) must be read again.
    pub(crate) fn renew<S: Store>(&mut self, store: &mut S, signer: &Signer) -> Result<bool> {
        let outside = store.outside_writes()?;
        if self.outside == Some(outside) {
            return Ok(false);
        }
        self.outside = None;
        Verification { store, signer }
            .run(None, None, &Silent)
            .map_err(refused)?;
        self.outside = Some(outside);
        Ok(true)
    }
}
