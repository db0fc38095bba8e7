//! API keys for `custody serve`: made here so the CLI can hand them out,
//! stored only as SHA-256 hashes, checked in constant time.
//!
//! A key reads `ck_<id>_<secret>`: the id (16 hex digits) finds the stored
//! row without revealing anything; the secret (32 random bytes, base64url)
//! is what the hash protects. A key acts for one organisation, except a
//! regulator key, which belongs to none.

use base64::prelude::{Engine as _, BASE64_URL_SAFE_NO_PAD};
use custody_store::{ApiKeyRow, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{instant, seconds, Engine, Error, Result};

const PREFIX: &str = "ck_";

/// What a key may do; the server's route table says which role each route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyRole {
    /// Everything for its organisation, including publishing notices and adding organisations.
    Admin,
    /// Collect, record preferences, request disclosures, and read, for its organisation.
    Collector,
    /// Read its organisation's notices, disclosures, traces, audits, receipts.
    Reader,
    /// Read everything and run audits; change nothing. Belongs to no organisation.
    Regulator,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Collector => "collector",
            KeyRole::Reader => "reader",
            KeyRole::Regulator => "regulator",
        }
    }
}

impl std::str::FromStr for KeyRole {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<KeyRole, String> {
        match s {
            "admin" => Ok(KeyRole::Admin),
            "collector" => Ok(KeyRole::Collector),
            "reader" => Ok(KeyRole::Reader),
            "regulator" => Ok(KeyRole::Regulator),
            other => Err(format!(
                "unknown key role `{other}` (admin, collector, reader, regulator)"
            )),
        }
    }
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub org: Option<String>,
    pub role: KeyRole,
    pub created_at: String,
    pub revoked: bool,
}

/// A key just made: `token` is shown once and never stored.
#[derive(Debug, Serialize)]
pub struct NewKey {
    pub key: ApiKey,
    pub token: String,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The id part of a well-formed key.
fn key_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 16
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(id)
}

fn to_key(row: ApiKeyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        role: row
            .role
            .parse()
            .map_err(|e: String| Error::Invalid(format!("stored key {}: {e}", row.id)))?,
        id: row.id,
        org: row.org,
        created_at: custody_core::time::format_instant(&instant(row.created_at)),
        revoked: row.revoked_at.is_some(),
    })
}

impl<S: Store> Engine<S> {
    /// A new key for `org` (None, and only then, for a regulator key).
    pub fn create_api_key(&mut self, org: Option<&str>, role: KeyRole) -> Result<NewKey> {
        match (org, role) {
            (None, KeyRole::Regulator) => {}
            (Some(_), KeyRole::Regulator) => {
                return Err(Error::Invalid(
                    "a regulator key belongs to no organisation".into(),
                ))
            }
            (None, _) => {
                return Err(Error::Invalid(format!(
                    "a {} key acts for an organisation: name it",
                    role.as_str()
                )))
            }
            (Some(o), _) => {
                self.org(o)?;
            }
        }
        let mut id = [0u8; 8];
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        let id = hex::encode(id);
        let token = format!("{PREFIX}{id}_{}", BASE64_URL_SAFE_NO_PAD.encode(secret));
        let row = ApiKeyRow {
            id,
            org: org.map(String::from),
            role: role.as_str().into(),
            hash: hash(&token),
            created_at: seconds(chrono::Utc::now()),
            revoked_at: None,
        };
        self.store.insert_api_key(&row)?;
        Ok(NewKey {
            key: to_key(row)?,
            token,
        })
    }

    /// The keys of one organisation, or the regulator keys with None.
    pub fn api_keys(&self, org: Option<&str>) -> Result<Vec<ApiKey>> {
        if let Some(o) = org {
            self.org(o)?;
        }
        self.store.api_keys(org)?.into_iter().map(to_key).collect()
    }

    pub fn revoke_api_key(&mut self, id: &str) -> Result<()> {
        if !self.store.revoke_api_key(id, seconds(chrono::Utc::now()))? {
            return Err(Error::NotFound(format!("no API key `{id}`")));
        }
        Ok(())
    }

    /// The live key `token` is, or None. Malformed, unknown, wrong and revoked
    /// keys all cost one hash comparison and give the same None.
    pub fn authenticate_key(&self, token: &str) -> Result<Option<ApiKey>> {
        let given = hash(token);
        let row = match key_id(token) {
            Some(id) => self.store.api_key(id)?,
            None => None,
        };
        let stored = row.as_ref().map_or([0u8; 32], |r| r.hash);
        let equal: bool = given.ct_eq(&stored).into();
        match row {
            Some(r) if equal && r.revoked_at.is_none() => Ok(Some(to_key(r)?)),
            _ => Ok(None),
        }
    }
}
