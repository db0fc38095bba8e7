//! Receipts: for every log entry about a person, a C2SP `tlog-proof@v1` file
//! whose `extra` line is the entry's exact bytes. Anyone with the log's
//! verifier key can check one offline: the entry is in the tree the signed
//! checkpoint commits to.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use custody_core::entry::{Commitment, Entry};
use custody_core::reason::ReasonSet;
use custody_log::checkpoint::Checkpoint;
use custody_log::merkle;
use custody_log::note::Verifier;
use custody_log::proof::TlogProof;
use custody_store::Store;
use serde::Serialize;

use crate::log::commitment::existing_key;
use crate::log::sequencer::tile_source;
use crate::{instant, Engine, Error, Result};

#[derive(Debug, Serialize)]
pub struct Receipt {
    pub index: u64,
    pub kind: &'static str,
    pub summary: String,
    pub file: PathBuf,
}

/// One receipt: the entry it proves, in words, and the C2SP tlog-proof text.
#[derive(Debug, Serialize)]
pub struct ReceiptProof {
    pub index: u64,
    pub kind: &'static str,
    pub summary: String,
    pub receipt: String,
}

/// A receipt that verified: the checkpoint it rests on and the entry it proves.
#[derive(Debug)]
pub struct VerifiedReceipt {
    pub checkpoint: Checkpoint,
    pub index: u64,
    pub entry: Entry,
}

impl<S: Store> Engine<S> {
    /// Writes a receipt into `dir` for every entry about `subject` as held by
    /// `org` (the collector or any later holder), proved against the latest
    /// checkpoint.
    pub fn receipts(&self, org: &str, subject: &str, dir: &Path) -> Result<Vec<Receipt>> {
        let proofs = self.receipt_proofs(org, subject)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut out = Vec::new();
        for p in proofs {
            let file = dir.join(format!("{}-{}.tlog-proof", file_safe(subject), p.index));
            std::fs::write(&file, &p.receipt).map_err(|e| Error::io(&file, e))?;
            out.push(Receipt {
                index: p.index,
                kind: p.kind,
                summary: p.summary,
                file,
            });
        }
        Ok(out)
    }

    /// The receipts [`receipts`](Self::receipts) writes, in memory, by index.
    pub fn receipt_proofs(&self, org: &str, subject: &str) -> Result<Vec<ReceiptProof>> {
        self.org(org)?;
        let commitments = self.commitments(org, subject)?;
        let (cp, note) = self.latest()?;
        let source = tile_source(&self.store);
        let names = self.names()?;
        let mut out = Vec::new();
        for c in &commitments {
            for (index, bytes) in self.store.log_entries_about(c)? {
                let entry =
                    Entry::decode(&bytes).map_err(|e| Error::Log(format!("entry {index}: {e}")))?;
                if entry.subject() != Some(c) || index >= cp.size {
                    continue;
                }
                let proof = merkle::inclusion_proof(&source, index, cp.size)
                    .map_err(|e| Error::Log(e.to_string()))?;
                let receipt = TlogProof {
                    extra: Some(bytes),
                    index,
                    proof,
                    checkpoint: note.clone(),
                };
                out.push(ReceiptProof {
                    index,
                    kind: entry.kind_name(),
                    summary: describe(&entry, &names),
                    receipt: receipt.to_text(),
                });
            }
        }
        out.sort_by_key(|r| r.index);
        Ok(out)
    }

    /// The commitments under which the log knows this person's records: one
    /// per collection they came from.
    fn commitments(&self, org: &str, subject: &str) -> Result<Vec<Commitment>> {
        let held = self.store.held(org, subject)?;
        if held.is_empty() {
            return Err(Error::NotFound(format!(
                "{org} holds no record of subject `{subject}`"
            )));
        }
        let notices = self.store.notices(None)?;
        let mut out = Vec::new();
        for r in held {
            let origin = match r.origin {
                None => r,
                Some(o) => self
                    .store
                    .record(o)?
                    .ok_or_else(|| Error::NotFound(format!("record {o}")))?,
            };
            let collector = notices
                .iter()
                .find(|n| Some(n.id) == origin.notice)
                .map(|n| n.org.clone())
                .ok_or_else(|| Error::NotFound(format!("the notice of record {}", origin.id)))?;
            let Some(key) = existing_key(&self.store, &collector)? else {
                continue;
            };
            let c = key.commit(&origin.subject);
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// Checks a receipt offline against the log's verifier key.
pub fn verify_receipt(text: &str, verifier: &Verifier) -> Result<VerifiedReceipt> {
    let receipt = TlogProof::parse(text).map_err(|e| Error::Log(format!("not a receipt: {e}")))?;
    let bytes = receipt
        .extra
        .as_deref()
        .ok_or_else(|| Error::Log("the receipt carries no entry (no `extra` line)".into()))?;
    let entry = Entry::decode(bytes)
        .map_err(|e| Error::Log(format!("the receipt's entry does not decode: {e}")))?;
    let checkpoint = receipt
        .verify(verifier, &merkle::leaf_hash(bytes))
        .map_err(|e| Error::Log(format!("the receipt does not verify: {e}")))?;
    Ok(VerifiedReceipt {
        checkpoint,
        index: receipt.index,
        entry,
    })
}

/// What an entry's ids stand for, so it can be told in words: notices by
/// their version label, disclosures by who sent what to whom. An entry read
/// without the store (a receipt checked offline) has [`Names::default`], and
/// is told by ids.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// notice id -> version label.
    notices: HashMap<u64, String>,
    /// disclosure id -> (from, to, purposes).
    disclosures: HashMap<u64, (String, String, Vec<String>)>,
}

impl<S: Store> Engine<S> {
    /// The names of every notice and disclosure in the store.
    pub fn names(&self) -> Result<Names> {
        let notices = self
            .store
            .notices(None)?
            .into_iter()
            .map(|n| (n.id as u64, n.version))
            .collect();
        let disclosures = self
            .store
            .disclosures(None)?
            .into_iter()
            .map(|d| (d.id as u64, (d.from_org, d.to_org, d.purposes)))
            .collect();
        Ok(Names {
            notices,
            disclosures,
        })
    }
}

impl Names {
    fn notice(&self, id: u64) -> String {
        match self.notices.get(&id) {
            Some(version) => format!("notice version {version}"),
            None => format!("notice {id}"),
        }
    }

    fn disclosure(&self, id: u64) -> String {
        match self.disclosures.get(&id) {
            Some((from, to, purposes)) => {
                format!(
                    "disclosure {id} (from {from} to {to}, for {})",
                    purposes.join(", ")
                )
            }
            None => format!("disclosure {id}"),
        }
    }
}

/// A preference event's action in words.
pub fn preference_in_words(action: &str, purpose: Option<&str>) -> String {
    let p = purpose.unwrap_or("-");
    match action {
        "give" => format!("consent given to {p}"),
        "withdraw" => format!("consent withdrawn from {p}"),
        "object-direct-marketing" => "objection to direct marketing made".into(),
        "withdraw-objection" => "objection to direct marketing withdrawn".into(),
        other => format!("{other} {p}"),
    }
}

/// An entry in words.
pub fn describe(e: &Entry, names: &Names) -> String {
    let date = |at: i64| custody_core::time::format_instant(&instant(at));
    match e {
        Entry::OrgAdded {
            at,
            org,
            name,
            role,
            ..
        } => format!("{}: organisation {org} ({name}, {role}) joined", date(*at)),
        Entry::TermAdded {
            at, org, key, kind, ..
        } => format!("{}: {org} added the {kind} {key}", date(*at)),
        Entry::ExplicitPurposesSet { at, purposes, .. } => {
            format!(
                "{}: purposes that must be named explicitly set to {}",
                date(*at),
                purposes.join(", ")
            )
        }
        Entry::NoticePublished {
            at,
            org,
            version,
            notice,
            ..
        } => {
            format!(
                "{}: {org} published notice version {version} (notice {notice})",
                date(*at)
            )
        }
        Entry::CollectionRecorded {
            at,
            org,
            file,
            rows,
            notice,
            ..
        } => format!(
            "{}: {org} collected {} from {file} under {}",
            date(*at),
            count(*rows, "record"),
            names.notice(*notice)
        ),
        Entry::RecordCollected {
            at, org, notice, ..
        } => {
            format!(
                "{}: {org} collected this record under {}",
                date(*at),
                names.notice(*notice)
            )
        }
        Entry::PreferenceRecorded {
            at,
            org,
            action,
            purpose,
            ..
        } => format!(
            "{}: {}, recorded by {org}",
            date(*at),
            preference_in_words(action, purpose.as_deref())
        ),
        Entry::DisclosureRecorded {
            at,
            disclosure,
            from,
            to,
            purposes,
            allowed,
            refused,
            gated,
            ..
        } => format!(
            "{}: disclosure {disclosure} from {from} to {to} for {}: {}",
            date(*at),
            purposes.join(", "),
            if *gated {
                format!(
                    "{} allowed, {} refused",
                    count(*allowed, "record"),
                    count(*refused, "record")
                )
            } else {
                format!("{}, imported history", count(*allowed, "record"))
            }
        ),
        Entry::Decided {
            at,
            disclosure,
            reasons,
            ..
        } => {
            let reasons = ReasonSet(*reasons);
            let what = names.disclosure(*disclosure);
            if reasons.is_empty() {
                format!("{}: {what} of this record was allowed", date(*at))
            } else {
                format!(
                    "{}: {what} of this record was refused: {}",
                    date(*at),
                    reasons.to_ids()
                )
            }
        }
        Entry::Disclosed { at, disclosure, .. } => {
            format!(
                "{}: this record was passed on in {}, outside custody (imported history)",
                date(*at),
                names.disclosure(*disclosure)
            )
        }
    }
}

/// "1 record", "2 records".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
