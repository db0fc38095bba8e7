//! No decision rests on a fact the log does not vouch for (issue 13,
//! point 2). A command that decides on the store's rows and publishes what
//! it decided runs, beside its own reading and on a connection of its own,
//! the whole of `log verify` over the same state: the Merkle tree recomputed
//! from the entries and checked against every signed checkpoint, and every
//! row bound to its entry ([`crate::binding`]). The command's transaction
//! keeps every other writer out while both read ([`Store::hold_state`]), so
//! the two read one state; the command records its decisions and moves its
//! files into place only once the verification has held. Otherwise it fails
//! naming the first row that differs, and has disclosed nothing.
//!
//! The verification runs on the other core while the command decides, but
//! it takes longer than the deciding: a share of 1,065,220 records went from
//! 6.67 s to 18.51 s, `log verify` of that store alone taking 16.5 s.

use std::thread::JoinHandle;

use custody_store::{Store, StoreError};

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

    /// Waits for the verification; an error if the store does not verify.
    pub(crate) fn held(self) -> Result<()> {
        let Some(handle) = self.0 else {
            return Ok(());
        };
        match handle.join() {
            Ok(Ok(_)) => Ok(()),
            // What the log and the rows say, or what they are (a notice
            // that no longer parses): a store that does not verify.
            Ok(Err(e @ (Error::Log(_) | Error::Store(StoreError::Corrupt(_))))) => Err(Error::Log(
                format!("the store no longer verifies, so nothing was decided or disclosed: {e}"),
            )),
            // Anything else (the database gone, a full disk) keeps its kind.
            Ok(Err(e)) => Err(e),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
