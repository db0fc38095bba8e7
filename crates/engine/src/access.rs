//! Per-record access codes: what a collector hands a person so that they,
//! and only they, can see their trace, change their consents and fetch
//! their receipts over HTTP.
//!
//! Nothing is stored per record (collection must stay fast for millions):
//! a code is the record id and a MAC of it under a key derived from the
//! collecting organisation's secret, so it is checked by recomputing. The
//! key is SHA-256("custody access code v1" ‖ secret), not an HMAC under the
//! secret itself: the log publishes HMACs of subject identifiers under that
//! secret, and no subject identifier must ever equal a code's MAC input.

use custody_store::Store;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::log::commitment::subject_key;
use crate::{Engine, Error, Result};

const LABEL: &[u8] = b"custody access code v1";
/// Bytes of MAC kept: 128 bits.
const MAC_LEN: usize = 16;

/// A record an access code opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeHolder {
    pub record: i64,
    /// The collecting organisation.
    pub org: String,
    pub subject: String,
}

fn mac(secret: &[u8; 32], record: i64) -> [u8; MAC_LEN] {
    let key = Sha256::new()
        .chain_update(LABEL)
        .chain_update(secret)
        .finalize();
    let mut m = <Hmac<Sha256>>::new_from_slice(&key).expect("HMAC takes any key length");
    m.update(&record.to_be_bytes());
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

fn encode(record: i64, secret: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(8 + MAC_LEN);
    bytes.extend_from_slice(&record.to_be_bytes());
    bytes.extend_from_slice(&mac(secret, record));
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

impl<S: Store> Engine<S> {
    /// The access code of the record `org` collected for `subject`.
    pub fn access_code(&mut self, org: &str, subject: &str) -> Result<String> {
        Ok(self
            .access_codes(org, &[subject.to_string()])?
            .pop()
            .expect("one code per subject")
            .1)
    }

    /// Access codes of records `org` collected, in the order asked.
    pub fn access_codes(
        &mut self,
        org: &str,
        subjects: &[String],
    ) -> Result<Vec<(String, String)>> {
        self.org(org)?;
        // Organisations added before logging have no secret until first needed.
        let secret = match self.store.org_secret(org)? {
            Some(s) => s,
            None => {
                custody_store::atomic(&mut self.store, |s| subject_key(s, org).map(|_| ()))?;
                self.store
                    .org_secret(org)?
                    .ok_or_else(|| Error::Invalid(format!("{org} has no secret")))?
            }
        };
        subjects
            .iter()
            .map(|subject| {
                let record = self.store.collected(org, subject)?.ok_or_else(|| {
                    Error::NotFound(format!("{org} collected no record for subject `{subject}`"))
                })?;
                Ok((subject.clone(), encode(record.id, &secret)))
            })
            .collect()
    }

    /// The record `code` opens, or None. Malformed, unknown and wrong codes
    /// cost one MAC comparison and give the same None.
    pub fn open_access_code(&self, code: &str) -> Result<Option<CodeHolder>> {
        let bytes = data_encoding::BASE32_NOPAD
            .decode(code.trim().to_ascii_uppercase().as_bytes())
            .ok()
            .filter(|b| b.len() == 8 + MAC_LEN);
        let record = bytes
            .as_ref()
            .map(|b| i64::from_be_bytes(b[..8].try_into().expect("8 bytes")));
        let row = match record {
            Some(id) => self.store.record(id)?.filter(|r| r.origin.is_none()),
            None => None,
        };
        let secret = match &row {
            Some(r) => self.store.org_secret(&r.org)?,
            None => None,
        };
        let expected = mac(&secret.unwrap_or([0u8; 32]), record.unwrap_or(0));
        let given = bytes.as_ref().map_or(&[0u8; MAC_LEN][..], |b| &b[8..]);
        let equal: bool = expected.ct_eq(given).into();
        match (row, secret) {
            (Some(r), Some(_)) if equal => Ok(Some(CodeHolder {
                record: r.id,
                org: r.org,
                subject: r.subject,
            })),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_carries_its_record_and_a_mac_that_depends_on_the_secret() {
        let code = encode(42, &[1; 32]);
        assert_eq!(code.len(), 39);
        let bytes = data_encoding::BASE32_NOPAD.decode(code.as_bytes()).unwrap();
        assert_eq!(&bytes[..8], &42i64.to_be_bytes());
        assert_ne!(encode(42, &[2; 32]), code);
        assert_ne!(encode(43, &[1; 32]), code);
    }
}
