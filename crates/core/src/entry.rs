//! Log entries: what custody appends to its transparency log for every state
//! change, in a canonical, versioned byte encoding.
//!
//! An entry never holds personal data in clear. A data subject appears only as
//! a [`Commitment`]: HMAC-SHA-256 of their identifier under a secret of the
//! organisation that collected the record, so the log can be shown to a
//! regulator or published without saying who is in it, while the organisation
//! (and the person, through a receipt) can still find their entries.
//!
//! # Encoding, version 1
//!
//! ```text
//! entry      = version:u8 (= 1)  kind:u8  at:i64  [subject:32 bytes]  fields
//! u8/u32/u64/i64   big-endian
//! str        = length:u16  UTF-8 bytes
//! opt<T>     = 0x00 | 0x01 T
//! list<str>  = count:u16  str*
//! ```
//!
//! `at` is the time of the change in Unix seconds. Kinds that concern one
//! person carry their commitment straight after `at` (bytes 10..42), so a
//! search for a person's entries never has to decode the rest. The fields of
//! each kind follow in the order they are declared in [`Entry`]; nothing is
//! optional except what `opt` marks, and trailing bytes are an error.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The encoding version this build writes and reads.
pub const VERSION: u8 = 1;

/// Where the subject commitment sits in entries that have one.
pub const SUBJECT_OFFSET: usize = 10;

/// A keyed commitment to a data subject's identifier.
pub type Commitment = [u8; 32];

/// An organisation's key for committing to its subjects' identifiers.
/// Cloning the keyed state per subject saves re-deriving the HMAC pads.
#[derive(Clone)]
pub struct SubjectKey(Hmac<Sha256>);

impl SubjectKey {
    pub fn new(secret: &[u8; 32]) -> SubjectKey {
        SubjectKey(Hmac::new_from_slice(secret).expect("HMAC takes any key length"))
    }

    pub fn commit(&self, subject: &str) -> Commitment {
        let mut mac = self.0.clone();
        mac.update(subject.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// One state change, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An organisation joined.
    OrgAdded {
        at: i64,
        org: String,
        name: String,
        role: String,
    },
    /// An organisation added a term to the vocabulary.
    TermAdded {
        at: i64,
        org: String,
        key: String,
        kind: String,
        parents: Vec<String>,
    },
    /// The list of purposes that must be named explicitly was replaced.
    ExplicitPurposesSet { at: i64, purposes: Vec<String> },
    /// A notice version was published; `content_hash` is SHA-256 of its canonical JSON.
    NoticePublished {
        at: i64,
        notice: u64,
        org: String,
        version: String,
        effective: i64,
        content_hash: [u8; 32],
    },
    /// A record was collected under a notice, with the declarations consented to
    /// (bit i = the notice's i-th declaration).
    RecordCollected {
        at: i64,
        subject: Commitment,
        org: String,
        collection: u64,
        notice: u64,
        consented: u64,
    },
    /// A consent given or withdrawn, an objection made or withdrawn.
    PreferenceRecorded {
        at: i64,
        subject: Commitment,
        org: String,
        action: String,
        purpose: Option<String>,
        notice: Option<u64>,
    },
    /// A disclosure: decided by custody (`gated`) or imported as history.
    DisclosureRecorded {
        at: i64,
        disclosure: u64,
        from: String,
        to: String,
        on_behalf_of: Option<String>,
        purposes: Vec<String>,
        categories: Vec<String>,
        basis: Option<String>,
        gated: bool,
        requested: u64,
        allowed: u64,
        refused: u64,
        not_held: u64,
    },
    /// custody's decision on one record of a disclosure: the refusal reasons
    /// as a bit set (0 = allowed).
    Decided {
        at: i64,
        subject: Commitment,
        disclosure: u64,
        reasons: u32,
    },
    /// A record disclosed outside custody, imported as history.
    Disclosed {
        at: i64,
        subject: Commitment,
        disclosure: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is {0} bytes, shorter than its header")]
    Short(usize),
    #[error("entry version {0} is not one this build reads (it reads {VERSION})")]
    Version(u8),
    #[error("unknown entry kind {0}")]
    Kind(u8),
    #[error("entry ends inside a field")]
    Truncated,
    #[error("entry has {0} bytes after its last field")]
    Trailing(usize),
    #[error("a text field is not UTF-8")]
    Utf8,
    #[error("a boolean or option tag is {0}, not 0 or 1")]
    Tag(u8),
    #[error("a field of {0} bytes is longer than an entry may hold")]
    TooLong(usize),
}

mod kind {
    pub const ORG_ADDED: u8 = 1;
    pub const TERM_ADDED: u8 = 2;
    pub const EXPLICIT_PURPOSES_SET: u8 = 3;
    pub const NOTICE_PUBLISHED: u8 = 4;
    pub const RECORD_COLLECTED: u8 = 5;
    pub const PREFERENCE_RECORDED: u8 = 6;
    pub const DISCLOSURE_RECORDED: u8 = 7;
    pub const DECIDED: u8 = 8;
    pub const DISCLOSED: u8 = 9;
}

impl Entry {
    pub fn at(&self) -> i64 {
        match self {
            Entry::OrgAdded { at, .. }
            | Entry::TermAdded { at, .. }
            | Entry::ExplicitPurposesSet { at, .. }
            | Entry::NoticePublished { at, .. }
            | Entry::RecordCollected { at, .. }
            | Entry::PreferenceRecorded { at, .. }
            | Entry::DisclosureRecorded { at, .. }
            | Entry::Decided { at, .. }
            | Entry::Disclosed { at, .. } => *at,
        }
    }

    pub fn subject(&self) -> Option<&Commitment> {
        match self {
            Entry::RecordCollected { subject, .. }
            | Entry::PreferenceRecorded { subject, .. }
            | Entry::Decided { subject, .. }
            | Entry::Disclosed { subject, .. } => Some(subject),
            _ => None,
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Entry::OrgAdded { .. } => kind::ORG_ADDED,
            Entry::TermAdded { .. } => kind::TERM_ADDED,
            Entry::ExplicitPurposesSet { .. } => kind::EXPLICIT_PURPOSES_SET,
            Entry::NoticePublished { .. } => kind::NOTICE_PUBLISHED,
            Entry::RecordCollected { .. } => kind::RECORD_COLLECTED,
            Entry::PreferenceRecorded { .. } => kind::PREFERENCE_RECORDED,
            Entry::DisclosureRecorded { .. } => kind::DISCLOSURE_RECORDED,
            Entry::Decided { .. } => kind::DECIDED,
            Entry::Disclosed { .. } => kind::DISCLOSED,
        }
    }

    /// The kind's name, as `custody log` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Entry::OrgAdded { .. } => "org-added",
            Entry::TermAdded { .. } => "term-added",
            Entry::ExplicitPurposesSet { .. } => "explicit-purposes-set",
            Entry::NoticePublished { .. } => "notice-published",
            Entry::RecordCollected { .. } => "record-collected",
            Entry::PreferenceRecorded { .. } => "preference-recorded",
            Entry::DisclosureRecorded { .. } => "disclosure-recorded",
            Entry::Decided { .. } => "decided",
            Entry::Disclosed { .. } => "disclosed",
        }
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EntryError> {
        let start = out.len();
        out.push(VERSION);
        out.push(self.kind());
        out.extend_from_slice(&self.at().to_be_bytes());
        if let Some(s) = self.subject() {
            out.extend_from_slice(s);
        }
        let mut w = Writer(out);
        match self {
            Entry::OrgAdded {
                org, name, role, ..
            } => {
                w.str(org)?;
                w.str(name)?;
                w.str(role)?;
            }
            Entry::TermAdded {
                org,
                key,
                kind,
                parents,
                ..
            } => {
                w.str(org)?;
                w.str(key)?;
                w.str(kind)?;
                w.list(parents)?;
            }
            Entry::ExplicitPurposesSet { purposes, .. } => w.list(purposes)?,
            Entry::NoticePublished {
                notice,
                org,
                version,
                effective,
                content_hash,
                ..
            } => {
                w.u64(*notice);
                w.str(org)?;
                w.str(version)?;
                w.0.extend_from_slice(&effective.to_be_bytes());
                w.0.extend_from_slice(content_hash);
            }
            Entry::RecordCollected {
                org,
                collection,
                notice,
                consented,
                ..
            } => {
                w.str(org)?;
                w.u64(*collection);
                w.u64(*notice);
                w.u64(*consented);
            }
            Entry::PreferenceRecorded {
                org,
                action,
                purpose,
                notice,
                ..
            } => {
                w.str(org)?;
                w.str(action)?;
                w.opt(purpose.as_ref(), |w, p| w.str(p))?;
                w.opt(notice.as_ref(), |w, n| {
                    w.u64(*n);
                    Ok(())
                })?;
            }
            Entry::DisclosureRecorded {
                disclosure,
                from,
                to,
                on_behalf_of,
                purposes,
                categories,
                basis,
                gated,
                requested,
                allowed,
                refused,
                not_held,
                ..
            } => {
                w.u64(*disclosure);
                w.str(from)?;
                w.str(to)?;
                w.opt(on_behalf_of.as_ref(), |w, s| w.str(s))?;
                w.list(purposes)?;
                w.list(categories)?;
                w.opt(basis.as_ref(), |w, s| w.str(s))?;
                w.0.push(*gated as u8);
                for n in [requested, allowed, refused, not_held] {
                    w.u64(*n);
                }
            }
            Entry::Decided {
                disclosure,
                reasons,
                ..
            } => {
                w.u64(*disclosure);
                w.0.extend_from_slice(&reasons.to_be_bytes());
            }
            Entry::Disclosed { disclosure, .. } => w.u64(*disclosure),
        }
        let len = out.len() - start;
        if len > u16::MAX as usize {
            // Entry bundles prefix each entry with a u16 length.
            out.truncate(start);
            return Err(EntryError::TooLong(len));
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EntryError> {
        let mut out = Vec::with_capacity(64);
        self.encode(&mut out)?;
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() < SUBJECT_OFFSET {
            return Err(EntryError::Short(bytes.len()));
        }
        if bytes[0] != VERSION {
            return Err(EntryError::Version(bytes[0]));
        }
        let kind = bytes[1];
        let mut r = Reader(&bytes[2..]);
        let at = r.i64()?;
        let entry = match kind {
            kind::ORG_ADDED => Entry::OrgAdded {
                at,
                org: r.str()?,
                name: r.str()?,
                role: r.str()?,
            },
            kind::TERM_ADDED => Entry::TermAdded {
                at,
                org: r.str()?,
                key: r.str()?,
                kind: r.str()?,
                parents: r.list()?,
            },
            kind::EXPLICIT_PURPOSES_SET => Entry::ExplicitPurposesSet {
                at,
                purposes: r.list()?,
            },
            kind::NOTICE_PUBLISHED => Entry::NoticePublished {
                at,
                notice: r.u64()?,
                org: r.str()?,
                version: r.str()?,
                effective: r.i64()?,
                content_hash: r.hash()?,
            },
            kind::RECORD_COLLECTED => Entry::RecordCollected {
                at,
                subject: r.hash()?,
                org: r.str()?,
                collection: r.u64()?,
                notice: r.u64()?,
                consented: r.u64()?,
            },
            kind::PREFERENCE_RECORDED => Entry::PreferenceRecorded {
                at,
                subject: r.hash()?,
                org: r.str()?,
                action: r.str()?,
                purpose: r.opt(|r| r.str())?,
                notice: r.opt(|r| r.u64())?,
            },
            kind::DISCLOSURE_RECORDED => Entry::DisclosureRecorded {
                at,
                disclosure: r.u64()?,
                from: r.str()?,
                to: r.str()?,
                on_behalf_of: r.opt(|r| r.str())?,
                purposes: r.list()?,
                categories: r.list()?,
                basis: r.opt(|r| r.str())?,
                gated: r.bool()?,
                requested: r.u64()?,
                allowed: r.u64()?,
                refused: r.u64()?,
                not_held: r.u64()?,
            },
            kind::DECIDED => Entry::Decided {
                at,
                subject: r.hash()?,
                disclosure: r.u64()?,
                reasons: r.u32()?,
            },
            kind::DISCLOSED => Entry::Disclosed {
                at,
                subject: r.hash()?,
                disclosure: r.u64()?,
            },
            k => return Err(EntryError::Kind(k)),
        };
        if !r.0.is_empty() {
            return Err(EntryError::Trailing(r.0.len()));
        }
        Ok(entry)
    }
}

/// The subject commitment of an encoded entry, if its kind has one, without
/// decoding the rest: how a person's entries are found in a long log.
pub fn subject_of(bytes: &[u8]) -> Option<&[u8]> {
    let has = matches!(
        bytes.get(1).copied(),
        Some(kind::RECORD_COLLECTED | kind::PREFERENCE_RECORDED | kind::DECIDED | kind::DISCLOSED)
    );
    if has {
        bytes.get(SUBJECT_OFFSET..SUBJECT_OFFSET + 32)
    } else {
        None
    }
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    fn str(&mut self, s: &str) -> Result<(), EntryError> {
        let len = u16::try_from(s.len()).map_err(|_| EntryError::TooLong(s.len()))?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn list(&mut self, items: &[String]) -> Result<(), EntryError> {
        let n = u16::try_from(items.len()).map_err(|_| EntryError::TooLong(items.len()))?;
        self.0.extend_from_slice(&n.to_be_bytes());
        items.iter().try_for_each(|s| self.str(s))
    }

    fn opt<T>(
        &mut self,
        v: Option<&T>,
        f: impl FnOnce(&mut Self, &T) -> Result<(), EntryError>,
    ) -> Result<(), EntryError> {
        match v {
            None => {
                self.0.push(0);
                Ok(())
            }
            Some(v) => {
                self.0.push(1);
                f(self, v)
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], EntryError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(EntryError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u32(&mut self) -> Result<u32, EntryError> {
        Ok(u32::from_be_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, EntryError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64, EntryError> {
        Ok(i64::from_be_bytes(self.take()?))
    }

    fn hash(&mut self) -> Result<[u8; 32], EntryError> {
        self.take()
    }

    fn bool(&mut self) -> Result<bool, EntryError> {
        match self.take::<1>()?[0] {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(EntryError::Tag(t)),
        }
    }

    fn str(&mut self) -> Result<String, EntryError> {
        let len = u16::from_be_bytes(self.take()?) as usize;
        if self.0.len() < len {
            return Err(EntryError::Truncated);
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| EntryError::Utf8)
    }

    fn list(&mut self) -> Result<Vec<String>, EntryError> {
        let n = u16::from_be_bytes(self.take()?);
        (0..n).map(|_| self.str()).collect()
    }

    fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, EntryError>,
    ) -> Result<Option<T>, EntryError> {
        if self.bool()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests;
