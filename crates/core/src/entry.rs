//! Log entries: what custody appends to its transparency log for every state
//! change, in a canonical, versioned byte encoding.
//!
//! An entry never holds personal data in clear. A data subject appears only as
//! a [`Commitment`]: HMAC-SHA-256 of their identifier under a secret of the
//! organisation that collected the record, so the log can be shown to a
//! regulator or published without saying who is in it, while the organisation
//! (and the person, through a receipt) can still find their entries. A
//! record's fields appear only as a keyed digest under the same secret.
//!
//! # Encoding, version 2
//!
//! ```text
//! entry      = version:u8 (= 2)  kind:u8  at:i64  recorded:i64  [subject:32 bytes]  fields
//! u8/u32/u64/i64   big-endian
//! str        = length:u16  UTF-8 bytes
//! opt<T>     = 0x00 | 0x01 T
//! list<str>  = count:u16  str*
//! ```
//!
//! `at` is the time the change claims (a consent's date, a disclosure's
//! date) in Unix seconds; `recorded` the sequencer's clock when the entry was
//! appended, in microseconds since the Unix epoch, the same for every entry
//! of one transaction and later than every entry of the transactions before:
//! the log vouches for `recorded` (it orders changes as the log does), and
//! only relays `at`. Kinds that concern one person carry their commitment straight
//! after the header (bytes 18..50), so a search for a person's entries never
//! has to decode the rest. The fields of each kind follow in the order they
//! are declared in [`Entry`]; nothing is optional except what `opt` marks,
//! and trailing bytes are an error.
//!
//! Each entry holds every column of the row it produced (personal data as a
//! commitment or digest), so that `log verify` can re-derive the entry from
//! the stored row and tell an edited row from its entry.
//!
//! # Version 1
//!
//! Logs begun before version 2 still decode and verify. A version-1 entry has
//! no `recorded` (the header is `version kind at`, the subject at bytes
//! 10..42) and lacks the fields marked "version 2" below, which decode as
//! `None`; there is no `collection-recorded` in version 1.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The encoding version this build writes.
pub const VERSION: u8 = 2;

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

    /// The digest of a record's stored fields (their JSON). The prefix keeps
    /// it apart from every subject commitment: no identifier starts with NUL.
    pub fn digest_fields(&self, fields: &str) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(b"\0fields\0");
        mac.update(fields.as_bytes());
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
        /// Version 2: the recipient categories it belongs to.
        categories: Option<Vec<String>>,
    },
    /// An organisation added a term to the vocabulary.
    TermAdded {
        at: i64,
        org: String,
        key: String,
        kind: String,
        parents: Vec<String>,
        /// Version 2.
        label: Option<String>,
        /// Version 2.
        definition: Option<String>,
    },
    /// The list of purposes that must be named explicitly was replaced.
    ExplicitPurposesSet {
        at: i64,
        purposes: Vec<String>,
        /// Version 2: why each must be named, in the order of `purposes`.
        reasons: Option<Vec<String>>,
    },
    /// A notice version was published; `content_hash` is SHA-256 of its canonical JSON.
    NoticePublished {
        at: i64,
        notice: u64,
        org: String,
        version: String,
        effective: i64,
        content_hash: [u8; 32],
    },
    /// Version 2: a file was collected under a notice; `mapping` is the
    /// SHA-256 of the mapping as stored, `rows` the records it added.
    CollectionRecorded {
        at: i64,
        collection: u64,
        org: String,
        file: String,
        file_hash: String,
        notice: u64,
        mapping: [u8; 32],
        columns: Vec<String>,
        categories: Vec<String>,
        rows: u64,
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
        /// Version 2: [`SubjectKey::digest_fields`] of the stored fields.
        fields: Option<[u8; 32]>,
    },
    /// A consent given or withdrawn, an objection made or withdrawn.
    PreferenceRecorded {
        at: i64,
        subject: Commitment,
        org: String,
        action: String,
        purpose: Option<String>,
        notice: Option<u64>,
        /// Version 2: the record it is about.
        record: Option<u64>,
        /// Version 2: where it came from (a file, the API, the person's page).
        source: Option<String>,
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
        /// Version 2: the note stored with it (`Some(None)`: none).
        note: Option<Option<String>>,
        /// Version 2: when the row was made.
        created_at: Option<i64>,
    },
    /// custody's decision on one record of a disclosure: the refusal reasons
    /// as a bit set (0 = allowed).
    Decided {
        at: i64,
        subject: Commitment,
        disclosure: u64,
        reasons: u32,
        /// Version 2: the record decided, and the collection record it
        /// descends from (the origin of the recipient's copy).
        record: Option<RecordRef>,
    },
    /// A record disclosed outside custody, imported as history.
    Disclosed {
        at: i64,
        subject: Commitment,
        disclosure: u64,
        /// Version 2, as for `Decided`.
        record: Option<RecordRef>,
    },
}

/// A held record and the collection record it descends from (itself, when
/// its holder collected it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    pub record: u64,
    pub origin: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is {0} bytes, shorter than its header")]
    Short(usize),
    #[error("entry version {0} is not one this build reads (it reads 1 and {VERSION})")]
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
    #[error("the {0} entry lacks its version-2 field `{1}`: only a version-1 entry may")]
    Missing(&'static str, &'static str),
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
    pub const COLLECTION_RECORDED: u8 = 10;
}

/// Where the header ends and the subject commitment, if any, begins.
fn header_len(version: u8) -> usize {
    if version == 1 {
        10
    } else {
        18
    }
}

impl Entry {
    pub fn at(&self) -> i64 {
        match self {
            Entry::OrgAdded { at, .. }
            | Entry::TermAdded { at, .. }
            | Entry::ExplicitPurposesSet { at, .. }
            | Entry::NoticePublished { at, .. }
            | Entry::CollectionRecorded { at, .. }
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
            Entry::CollectionRecorded { .. } => kind::COLLECTION_RECORDED,
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
            Entry::CollectionRecorded { .. } => "collection-recorded",
            Entry::RecordCollected { .. } => "record-collected",
            Entry::PreferenceRecorded { .. } => "preference-recorded",
            Entry::DisclosureRecorded { .. } => "disclosure-recorded",
            Entry::Decided { .. } => "decided",
            Entry::Disclosed { .. } => "disclosed",
        }
    }

    /// Appends the canonical version-2 encoding to `out`, recorded at
    /// `recorded`.
    pub fn encode(&self, recorded: i64, out: &mut Vec<u8>) -> Result<(), EntryError> {
        let start = out.len();
        out.push(VERSION);
        out.push(self.kind());
        out.extend_from_slice(&self.at().to_be_bytes());
        out.extend_from_slice(&recorded.to_be_bytes());
        if let Some(s) = self.subject() {
            out.extend_from_slice(s);
        }
        let result = self.encode_fields(&mut Writer(out));
        let len = out.len() - start;
        if result.is_err() || len > u16::MAX as usize {
            // Entry bundles prefix each entry with a u16 length.
            out.truncate(start);
            return Err(result.err().unwrap_or(EntryError::TooLong(len)));
        }
        Ok(())
    }

    fn encode_fields(&self, w: &mut Writer) -> Result<(), EntryError> {
        let name = self.kind_name();
        let need = |field| EntryError::Missing(name, field);
        match self {
            Entry::OrgAdded {
                org,
                name,
                role,
                categories,
                ..
            } => {
                w.str(org)?;
                w.str(name)?;
                w.str(role)?;
                w.list(categories.as_ref().ok_or(need("categories"))?)?;
            }
            Entry::TermAdded {
                org,
                key,
                kind,
                parents,
                label,
                definition,
                ..
            } => {
                w.str(org)?;
                w.str(key)?;
                w.str(kind)?;
                w.list(parents)?;
                w.str(label.as_ref().ok_or(need("label"))?)?;
                w.str(definition.as_ref().ok_or(need("definition"))?)?;
            }
            Entry::ExplicitPurposesSet {
                purposes, reasons, ..
            } => {
                w.list(purposes)?;
                w.list(reasons.as_ref().ok_or(need("reasons"))?)?;
            }
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
            Entry::CollectionRecorded {
                collection,
                org,
                file,
                file_hash,
                notice,
                mapping,
                columns,
                categories,
                rows,
                ..
            } => {
                w.u64(*collection);
                w.str(org)?;
                w.str(file)?;
                w.str(file_hash)?;
                w.u64(*notice);
                w.0.extend_from_slice(mapping);
                w.list(columns)?;
                w.list(categories)?;
                w.u64(*rows);
            }
            Entry::RecordCollected {
                org,
                collection,
                notice,
                consented,
                fields,
                ..
            } => {
                w.str(org)?;
                w.u64(*collection);
                w.u64(*notice);
                w.u64(*consented);
                w.0.extend_from_slice(fields.as_ref().ok_or(need("fields"))?);
            }
            Entry::PreferenceRecorded {
                org,
                action,
                purpose,
                notice,
                record,
                source,
                ..
            } => {
                w.str(org)?;
                w.str(action)?;
                w.opt(purpose.as_ref(), |w, p| w.str(p))?;
                w.opt(notice.as_ref(), |w, n| {
                    w.u64(*n);
                    Ok(())
                })?;
                w.u64(record.ok_or(need("record"))?);
                w.str(source.as_ref().ok_or(need("source"))?)?;
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
                note,
                created_at,
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
                let note = note.as_ref().ok_or(need("note"))?;
                w.opt(note.as_ref(), |w, s| w.str(s))?;
                w.0.extend_from_slice(&created_at.ok_or(need("created_at"))?.to_be_bytes());
            }
            Entry::Decided {
                disclosure,
                reasons,
                record,
                ..
            } => {
                w.u64(*disclosure);
                w.0.extend_from_slice(&reasons.to_be_bytes());
                w.record(record.ok_or(need("record"))?);
            }
            Entry::Disclosed {
                disclosure, record, ..
            } => {
                w.u64(*disclosure);
                w.record(record.ok_or(need("record"))?);
            }
        }
        Ok(())
    }

    pub fn to_bytes(&self, recorded: i64) -> Result<Vec<u8>, EntryError> {
        let mut out = Vec::with_capacity(64);
        self.encode(recorded, &mut out)?;
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let version = *bytes.first().ok_or(EntryError::Short(0))?;
        if version != 1 && version != VERSION {
            return Err(EntryError::Version(version));
        }
        let header = header_len(version);
        if bytes.len() < header {
            return Err(EntryError::Short(bytes.len()));
        }
        let mut r = Reader {
            rest: &bytes[header..],
            v2: version == VERSION,
        };
        let at = i64::from_be_bytes(bytes[2..10].try_into().expect("8 bytes"));
        let entry = r.entry(bytes[1], at)?;
        if !r.rest.is_empty() {
            return Err(EntryError::Trailing(r.rest.len()));
        }
        Ok(entry)
    }
}

impl Reader<'_> {
    fn entry(&mut self, kind: u8, at: i64) -> Result<Entry, EntryError> {
        let r = self;
        Ok(match kind {
            kind::ORG_ADDED => Entry::OrgAdded {
                at,
                org: r.str()?,
                name: r.str()?,
                role: r.str()?,
                categories: r.since_v2(|r| r.list())?,
            },
            kind::TERM_ADDED => Entry::TermAdded {
                at,
                org: r.str()?,
                key: r.str()?,
                kind: r.str()?,
                parents: r.list()?,
                label: r.since_v2(|r| r.str())?,
                definition: r.since_v2(|r| r.str())?,
            },
            kind::EXPLICIT_PURPOSES_SET => Entry::ExplicitPurposesSet {
                at,
                purposes: r.list()?,
                reasons: r.since_v2(|r| r.list())?,
            },
            kind::NOTICE_PUBLISHED => Entry::NoticePublished {
                at,
                notice: r.u64()?,
                org: r.str()?,
                version: r.str()?,
                effective: r.i64()?,
                content_hash: r.hash()?,
            },
            kind::COLLECTION_RECORDED if r.v2 => Entry::CollectionRecorded {
                at,
                collection: r.u64()?,
                org: r.str()?,
                file: r.str()?,
                file_hash: r.str()?,
                notice: r.u64()?,
                mapping: r.hash()?,
                columns: r.list()?,
                categories: r.list()?,
                rows: r.u64()?,
            },
            kind::RECORD_COLLECTED => Entry::RecordCollected {
                at,
                subject: r.hash()?,
                org: r.str()?,
                collection: r.u64()?,
                notice: r.u64()?,
                consented: r.u64()?,
                fields: r.since_v2(|r| r.hash())?,
            },
            kind::PREFERENCE_RECORDED => Entry::PreferenceRecorded {
                at,
                subject: r.hash()?,
                org: r.str()?,
                action: r.str()?,
                purpose: r.opt(|r| r.str())?,
                notice: r.opt(|r| r.u64())?,
                record: r.since_v2(|r| r.u64())?,
                source: r.since_v2(|r| r.str())?,
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
                note: r.since_v2(|r| r.opt(|r| r.str()))?,
                created_at: r.since_v2(|r| r.i64())?,
            },
            kind::DECIDED => Entry::Decided {
                at,
                subject: r.hash()?,
                disclosure: r.u64()?,
                reasons: r.u32()?,
                record: r.since_v2(|r| r.record())?,
            },
            kind::DISCLOSED => Entry::Disclosed {
                at,
                subject: r.hash()?,
                disclosure: r.u64()?,
                record: r.since_v2(|r| r.record())?,
            },
            k => return Err(EntryError::Kind(k)),
        })
    }
}

/// When an encoded entry was recorded, by the sequencer's clock
/// (microseconds since the Unix epoch); None for a version-1 entry, which
/// does not say.
pub fn recorded(bytes: &[u8]) -> Option<i64> {
    if bytes.first() != Some(&VERSION) {
        return None;
    }
    Some(i64::from_be_bytes(bytes.get(10..18)?.try_into().ok()?))
}

/// The subject commitment of an encoded entry, if its kind has one, without
/// decoding the rest: how a person's entries are found in a long log.
pub fn subject_of(bytes: &[u8]) -> Option<&[u8]> {
    let has = matches!(
        bytes.get(1).copied(),
        Some(kind::RECORD_COLLECTED | kind::PREFERENCE_RECORDED | kind::DECIDED | kind::DISCLOSED)
    );
    if has {
        let at = header_len(*bytes.first()?);
        bytes.get(at..at + 32)
    } else {
        None
    }
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    fn record(&mut self, r: RecordRef) {
        self.u64(r.record);
        self.u64(r.origin);
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

struct Reader<'a> {
    rest: &'a [u8],
    /// Version 2 fields are present.
    v2: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], EntryError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(EntryError::Truncated)?;
        self.rest = rest;
        Ok(*head)
    }

    /// A field that version 2 added: read in version 2, None in version 1.
    fn since_v2<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, EntryError>,
    ) -> Result<Option<T>, EntryError> {
        if self.v2 {
            f(self).map(Some)
        } else {
            Ok(None)
        }
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

    fn record(&mut self) -> Result<RecordRef, EntryError> {
        Ok(RecordRef {
            record: self.u64()?,
            origin: self.u64()?,
        })
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
        if self.rest.len() < len {
            return Err(EntryError::Truncated);
        }
        let (s, rest) = self.rest.split_at(len);
        self.rest = rest;
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
