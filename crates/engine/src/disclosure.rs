//! The disclosure gate: decide every record of a requested disclosure, send
//! the allowed ones out (only the columns of the requested categories), return
//! the refused ones with their reasons, and keep the request, every decision
//! and the recipient's copies with their provenance.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use custody_core::basis::LegalBasis;
use custody_core::decision::classes::Classes;
use custody_core::decision::{Context, Decision, Request};
use custody_core::entry::Entry;
use custody_core::reason::{Reason, ReasonSet};
use custody_core::time::{format_instant, Instant};
use custody_core::vocab::{TermId, TermKind, Vocabulary};
use custody_store::{CollectionRow, DecisionRow, DisclosureRow, Store};
use serde::Serialize;

use crate::error::through_store;
use crate::holdings::Holdings;
use crate::log::commitment::Committer;
use crate::log::sequencer::{Prepared, Sequencer};
use crate::log::vouch::{Voucher, Vouching};
use crate::outcome::{Outcome, Spill};
use crate::table::{Format, RowWriter};
use crate::{instant, logged, seconds, Engine, Error, Progress, Result};

mod listed;
pub(crate) mod named;
pub(crate) use listed::ambiguous;
pub use listed::{Listed, Named};
pub use named::NamedShare;

#[derive(Debug, Clone)]
pub enum Selection {
    All,
    /// A CSV file whose `subject` column (or first column) lists the
    /// subjects, with their `collector` where it has that column.
    Subjects(PathBuf),
    /// The holdings themselves, as a request's `records` names them.
    List(Vec<Named>),
}

impl Selection {
    pub fn parse(s: &str) -> Selection {
        if s == "all" {
            Selection::All
        } else {
            Selection::Subjects(PathBuf::from(s))
        }
    }

    /// The holdings listed, or None for all.
    pub fn listed(&self) -> Result<Option<Listed>> {
        match self {
            Selection::All => Ok(None),
            Selection::List(items) => Ok(Some(Listed::of("records", items))),
            Selection::Subjects(path) => Listed::read(path).map(Some),
        }
    }
}

/// A disclosure's terms: who discloses to whom (and for whom), for which
/// purposes, which kinds of data, on what lawful basis, when. One struct
/// from the CLI's arguments and the API's body to the gate, for `share`,
/// named shares and `screen` alike (for `screen`, `from` is the holder the
/// list is checked against).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    pub from: String,
    pub to: String,
    /// The organisation the recipient acts for (a broker building a list for a party).
    pub on_behalf_of: Option<String>,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// The lawful basis claimed, if any.
    pub basis: Option<String>,
    /// When the disclosure happens; default now.
    pub at: Option<Instant>,
}

pub struct ShareSpec<'a> {
    pub terms: &'a Terms,
    pub records: Selection,
    /// Where the allowed records go; None: decide and record only (the server).
    pub out: Option<&'a Path>,
    /// Where the refused subjects and their reasons go; None: nowhere.
    pub refused: Option<&'a Path>,
    pub report: Option<&'a Path>,
    /// CSV or Parquet for both outputs; default: the subject list's format,
    /// else by the extension of `out`.
    pub out_format: Option<Format>,
}

/// A page of refused decisions; see [`Engine::refused`].
#[derive(Debug, Clone, Serialize)]
pub struct RefusedPage {
    pub decisions: Vec<DecisionView>,
    /// Where the next page starts (a record id), if there may be more.
    pub scanned_to: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    pub id: &'static str,
    pub message: &'static str,
    pub provisions: &'static [&'static str],
    pub records: u64,
}

pub fn reason_counts(counts: &BTreeMap<Reason, u64>) -> Vec<ReasonCount> {
    counts
        .iter()
        .map(|(r, n)| ReasonCount {
            id: r.id(),
            message: r.message(),
            provisions: r.provisions(),
            records: *n,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareReport {
    pub disclosure: i64,
    pub from: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub at: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub basis: Option<String>,
    pub requested: u64,
    pub allowed: u64,
    pub refused: u64,
    pub not_held: u64,
    pub reasons: Vec<ReasonCount>,
    pub columns_sent: Vec<String>,
    pub out: Option<String>,
    pub refused_file: Option<String>,
}

/// One decision of a gated disclosure (or a record of imported history).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub record: i64,
    pub subject: String,
    /// The organisation that assigned the subject identifier.
    pub collector: String,
    /// allowed, refused, or disclosed (imported history, never checked)
    pub outcome: &'static str,
    pub reasons: Vec<&'static str>,
}

impl<S: Store> Engine<S> {
    /// Disclosure `id`, if `org` made it.
    pub fn disclosure_by(&self, org: &str, id: i64) -> Result<DisclosureRow> {
        self.org(org)?;
        self.store
            .disclosure(id)?
            .filter(|d| d.from_org == org)
            .ok_or_else(|| Error::NotFound(format!("{org} made no disclosure {id}")))
    }

    /// Up to `limit` disclosures `org` made, with ids above `after`, oldest first.
    pub fn disclosures_by(
        &self,
        org: &str,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DisclosureRow>> {
        self.org(org)?;
        Ok(self
            .store
            .disclosures(Some(org))?
            .into_iter()
            .filter(|d| !matches!(after, Some(a) if d.id <= a))
            .take(limit)
            .collect())
    }

    /// Up to `limit` decisions of disclosure `id` (which `org` made), records
    /// with ids above `after`, by record id.
    pub fn decisions(
        &self,
        org: &str,
        id: i64,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DecisionView>> {
        self.disclosure_by(org, id)?;
        self.store
            .decisions_page(id, after, limit as u64)?
            .into_iter()
            .map(|d| self.decision_view(&d))
            .collect()
    }

    /// A stored decision with the holding it is about.
    fn decision_view(&self, d: &DecisionRow) -> Result<DecisionView> {
        let record = |id: i64| {
            self.store
                .record(id)?
                .ok_or_else(|| Error::NotFound(format!("record {id}")))
        };
        let held = record(d.record)?;
        // A copy's identifier is its origin's, which the collector holds.
        let collector = match held.origin {
            Some(origin) if origin != held.id => record(origin)?.org,
            _ => held.org,
        };
        Ok(DecisionView {
            record: d.record,
            subject: held.subject,
            collector,
            outcome: match d.reasons {
                None => "disclosed",
                Some(0) => "allowed",
                Some(_) => "refused",
            },
            reasons: ReasonSet(d.reasons.unwrap_or(0))
                .iter()
                .map(|r| r.id())
                .collect(),
        })
    }

    /// How many of disclosure `id`'s records (which `org` made) each reason
    /// refused. A record refused for two reasons counts under both.
    pub fn refusals_by_reason(&self, org: &str, id: i64) -> Result<Vec<ReasonCount>> {
        self.disclosure_by(org, id)?;
        let mut counts: BTreeMap<Reason, u64> = BTreeMap::new();
        self.store.for_each_decision(id, &mut |d| {
            for r in ReasonSet(d.reasons.unwrap_or(0)).iter() {
                *counts.entry(r).or_default() += 1;
            }
            Ok(())
        })?;
        Ok(reason_counts(&counts))
    }

    /// Up to `limit` refused decisions of disclosure `id` (which `org`
    /// made), with record ids above `after`, refused for `reason` if given.
    /// Reads at most `MAX_CHUNKS` chunks of `CHUNK` decisions (262,144), so
    /// a page is quick however few match; `scanned_to` says where the next
    /// page starts when there may be more.
    pub fn refused(
        &self,
        org: &str,
        id: i64,
        reason: Option<Reason>,
        after: Option<i64>,
        limit: usize,
    ) -> Result<RefusedPage> {
        const CHUNK: u64 = 4096;
        const MAX_CHUNKS: usize = 64;
        self.disclosure_by(org, id)?;
        let mut page = RefusedPage {
            decisions: Vec::new(),
            scanned_to: None,
        };
        let mut after = after;
        for _ in 0..MAX_CHUNKS {
            let rows = self.store.decisions_page(id, after, CHUNK)?;
            let Some(last) = rows.last() else {
                return Ok(page);
            };
            after = Some(last.record);
            for d in &rows {
                let reasons = ReasonSet(d.reasons.unwrap_or(0));
                let wanted = match reason {
                    Some(r) => reasons.contains(r),
                    None => !reasons.is_empty(),
                };
                if !wanted {
                    continue;
                }
                page.decisions.push(self.decision_view(d)?);
                if page.decisions.len() == limit {
                    page.scanned_to = Some(d.record);
                    return Ok(page);
                }
            }
            if (rows.len() as u64) < CHUNK {
                return Ok(page);
            }
        }
        page.scanned_to = after;
        Ok(page)
    }

    /// The request a stored disclosure describes, resolved.
    pub(crate) fn request_for(&self, d: &DisclosureRow) -> Result<Request> {
        let terms = |keys: &[String], kind| {
            keys.iter()
                .map(|k| self.vocab.resolve(kind, k).map_err(Error::from))
                .collect::<Result<Vec<TermId>>>()
        };
        Ok(Request {
            purposes: terms(&d.purposes, TermKind::Purpose)?,
            categories: terms(&d.categories, TermKind::DataCategory)?,
            recipient: self.org(&d.to_org)?,
            on_behalf_of: d.on_behalf_of.as_deref().map(|o| self.org(o)).transpose()?,
            basis: d
                .basis
                .as_deref()
                .map(|b| b.parse::<LegalBasis>().map_err(Error::Invalid))
                .transpose()?,
            at: instant(d.at),
        })
    }
}

/// Which stored columns of each collection a disclosure of `categories` sends.
pub(crate) struct Projection {
    pub header: Vec<String>,
    /// collection -> for each header column, the index into the record's fields.
    by_collection: HashMap<i64, Vec<Option<usize>>>,
}

impl Projection {
    pub fn new(
        vocab: &Vocabulary,
        collections: &[CollectionRow],
        categories: &[TermId],
    ) -> Projection {
        // Per collection, the (column, field index) pairs the request covers.
        let included: Vec<(i64, Vec<(&String, usize)>)> = collections
            .iter()
            .map(|c| {
                let cols = c
                    .columns
                    .iter()
                    .zip(&c.categories)
                    .enumerate()
                    .filter(|(_, (_, cat))| {
                        vocab.get(cat).is_some_and(|cat| {
                            categories.iter().any(|r| vocab.covers_category(*r, cat))
                        })
                    })
                    .map(|(i, (col, _))| (col, i))
                    .collect();
                (c.id, cols)
            })
            .collect();
        let mut header: Vec<String> = Vec::new();
        for (col, _) in included.iter().flat_map(|(_, cols)| cols) {
            if !header.contains(col) {
                header.push((*col).clone());
            }
        }
        let by_collection = included
            .iter()
            .map(|(id, cols)| {
                let idx = header
                    .iter()
                    .map(|h| cols.iter().find(|(c, _)| *c == h).map(|(_, i)| *i))
                    .collect();
                (*id, idx)
            })
            .collect();
        Projection {
            header,
            by_collection,
        }
    }

    pub fn row<'a>(&self, collection: i64, fields: &'a [String]) -> Vec<&'a str> {
        match self.by_collection.get(&collection) {
            Some(idx) => idx
                .iter()
                .map(|i| {
                    i.and_then(|i| fields.get(i))
                        .map(String::as_str)
                        .unwrap_or("")
                })
                .collect(),
            None => vec![""; self.header.len()],
        }
    }
}

/// An output file that appears only when complete.
pub(crate) struct Output {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
}

/// Temporary outputs are named `.custody-<pid>-…`: a run that is killed
/// cannot remove its own, so the next run in the directory does.
const OUTPUT_PREFIX: &str = ".custody-";

impl Output {
    pub fn create(path: &Path) -> Result<Output> {
        let dir = directory_of(path);
        remove_stale_outputs(dir);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{OUTPUT_PREFIX}{}-", std::process::id()))
            .tempfile_in(dir)
            .map_err(|e| Error::io(path, e))?;
        Ok(Output {
            path: path.to_path_buf(),
            tmp,
        })
    }

    /// A writer of rows into the temporary file, starting with `header`.
    pub fn rows(&self, format: Format, header: &[String]) -> Result<RowWriter> {
        RowWriter::new(self.file()?, format, header).map_err(|e| e.writing(&self.path))
    }

    /// The temporary file, to write into.
    pub fn file(&self) -> Result<std::fs::File> {
        self.tmp.reopen().map_err(|e| Error::io(&self.path, e))
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Moves the complete file into place, durably: its bytes are synced
    /// before the rename and the directory after it, so that a file custody
    /// said it wrote is whole after a power cut (tests/power.rs), never an
    /// empty name.
    pub fn persist(self) -> Result<()> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| Error::io(&self.path, e.error))?;
        let dir = directory_of(&self.path);
        // Named by the file: it is its entry that did not reach the disk.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Refuses an output that names an input or another output (each given
/// with what it is, in words): written, it would overwrite the list being
/// read, or one output the other.
pub(crate) fn files_apart(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<()> {
    for (i, (what, path)) in outputs.iter().enumerate() {
        let earlier = inputs.iter().chain(&outputs[..i]);
        if let Some((other, _)) = earlier.into_iter().find(|(_, p)| same_file(p, path)) {
            return Err(Error::Invalid(format!(
                "{} is named both for {other} and for {what}: writing it would overwrite the other; \
                 name another file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Whether two names are one file: the same inode where both exist, else
/// the same name in the same directory.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return (a.dev(), a.ino()) == (b.dev(), b.ino());
    }
    let placed = |p: &Path| {
        let dir = directory_of(p);
        (
            dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            p.file_name().map(|n| n.to_owned()),
        )
    };
    placed(a) == placed(b)
}

/// The directory a file named by `path` is in (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Removes the temporary outputs in `dir` of runs that are no longer
/// running: they hold an allowed set, names included. Where the system
/// does not say which processes run (no `/proc`), nothing is removed.
fn remove_stale_outputs(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(OUTPUT_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            // Best effort: another run may have removed it first.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl<S: Store> Engine<S> {
    /// A disclosure's parties and terms checked and resolved: the row to
    /// record (counts still zero), the evaluator's request, and its instant.
    /// `share` and `share_named` both start here, so both refuse the same
    /// requests with the same words.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn resolve_disclosure(
        &self,
        terms: &Terms,
    ) -> Result<(DisclosureRow, Request, Instant)> {
        let Terms {
            purposes,
            categories,
            at,
            ..
        } = terms;
        let (on_behalf_of, basis) = (terms.on_behalf_of.as_deref(), terms.basis.as_deref());
        let from = self.org(&terms.from)?;
        let to = self.org(&terms.to)?;
        if from.id == to.id {
            return Err(Error::Invalid(
                "a disclosure goes to another organisation".into(),
            ));
        }
        let on_behalf_of = on_behalf_of.map(|o| self.org(o)).transpose()?;
        if purposes.is_empty() {
            return Err(Error::Invalid("name at least one --purpose".into()));
        }
        if categories.is_empty() {
            return Err(Error::Invalid(
                "name the data categories to disclose with --categories".into(),
            ));
        }
        let vocab = &self.vocab;
        let keys = |names: &[String], kind| -> Result<Vec<String>> {
            names
                .iter()
                .map(|n| Ok(vocab.term(vocab.resolve(kind, n)?).key.clone()))
                .collect()
        };
        let basis = basis
            .map(|b| b.parse::<LegalBasis>().map_err(Error::Invalid))
            .transpose()?;
        let now = chrono::Utc::now();
        let at = at.unwrap_or(now);
        custody_core::time::check_claimed(&at, &now).map_err(|e| Error::Field {
            field: "at".into(),
            message: e,
        })?;
        let row = DisclosureRow {
            from_org: from.id.clone(),
            to_org: to.id.clone(),
            on_behalf_of: on_behalf_of.as_ref().map(|o| o.id.clone()),
            at: seconds(at),
            purposes: keys(purposes, TermKind::Purpose)?,
            categories: keys(categories, TermKind::DataCategory)?,
            basis: basis.map(|b| b.to_string()),
            gated: true,
            created_at: seconds(chrono::Utc::now()),
            ..Default::default()
        };
        let request = self.request_for(&row)?;
        Ok((row, request, at))
    }

    /// Decides every selected record the holder holds, writes the two files,
    /// and records the disclosure, its decisions and the recipient's copies.
    /// With a `voucher` (an engine on a connection of its own), the whole
    /// store is verified beside the decisions and nothing is recorded or
    /// published unless it holds ([`crate::log::vouch`]).
    pub fn share(
        &mut self,
        spec: &ShareSpec,
        voucher: Option<Box<dyn Voucher>>,
        progress: &dyn Progress,
    ) -> Result<ShareReport> {
        let (row, request, at) = self.resolve_disclosure(spec.terms)?;
        let list = match &spec.records {
            Selection::Subjects(p) => vec![("the subject list", p.as_path())],
            Selection::All | Selection::List(_) => Vec::new(),
        };
        let outputs = [
            ("the allowed records", spec.out),
            ("the refused records", spec.refused),
            ("the report", spec.report),
        ];
        let outputs: Vec<(&str, &Path)> = outputs
            .into_iter()
            .filter_map(|(what, p)| Some((what, p?)))
            .collect();
        files_apart(&list, &outputs)?;
        let files = ShareFiles::create(spec)?;
        let (vocab, signer) = (&self.vocab, &self.signer);
        // One transaction from the first read to the last write: the facts
        // decided on are the facts the verification beside it reads.
        let (id, row, walked) = logged(&mut self.store, signer, |s, log| {
            s.hold_state()?;
            let vouching = Vouching::start(voucher, &row.from_org);
            let walk = HeldWalk {
                vocab,
                row: &row,
                request: &request,
                spec,
                files: &files,
            };
            let (outcomes, walked) = walk.run(s, progress)?;
            let mut row = row.clone();
            walked.tally(&mut row, outcomes.len());
            progress.start("recording", None);
            let row = DisclosureRow {
                recorded: Some(log.recorded()),
                ..row
            };
            let id = s.insert_disclosure(&row)?;
            record_disclosure(s, log, id, &row, outcomes.chunks()?, |o| Entry::Decided {
                at: row.at,
                subject: o.subject,
                disclosure: id as u64,
                reasons: o.reasons.unwrap_or(0),
                record: Some(o.record_ref()),
            })?;
            // Recorded, not yet committed: the verification reads the state
            // as it was before this transaction wrote, and nothing commits
            // or appears unless it held.
            if let Some(verified) = vouching.held()? {
                // Where the refusals lie, for the next share's verification.
                verified.refusals.save(s, signer)?;
            }
            Ok((id, row, walked))
        })?;
        progress.finish();
        let report = ShareReport {
            disclosure: id,
            from: row.from_org,
            to: row.to_org,
            on_behalf_of: row.on_behalf_of,
            at: format_instant(&at),
            purposes: row.purposes,
            categories: row.categories,
            basis: row.basis,
            requested: row.requested as u64,
            allowed: walked.allowed,
            refused: row.refused as u64,
            not_held: walked.not_held(),
            reasons: reason_counts(&walked.counts),
            columns_sent: walked.columns_sent,
            out: spec.out.map(|p| p.display().to_string()),
            refused_file: spec.refused.map(|p| p.display().to_string()),
        };
        files.persist(spec, &report)?;
        Ok(report)
    }
}

/// A share's files, complete in their temporary places before anything is
/// recorded; they appear together once the store has committed.
struct ShareFiles {
    out: Option<Output>,
    refused: Option<Output>,
    report: Option<Output>,
}

impl ShareFiles {
    fn create(spec: &ShareSpec) -> Result<ShareFiles> {
        Ok(ShareFiles {
            out: spec.out.map(Output::create).transpose()?,
            refused: spec.refused.map(Output::create).transpose()?,
            report: spec.report.map(Output::create).transpose()?,
        })
    }

    fn persist(self, spec: &ShareSpec, report: &ShareReport) -> Result<()> {
        if let Some(o) = self.out {
            o.persist()?;
        }
        if let Some(o) = self.refused {
            o.persist()?;
        }
        if let (Some(path), Some(o)) = (spec.report, self.report) {
            let json = serde_json::to_vec_pretty(report).expect("report serialises");
            std::fs::write(o.path(), json).map_err(|e| Error::io(path, e))?;
            o.persist()?;
        }
        Ok(())
    }
}

/// What a share decides on: the holder's records, read in its transaction.
struct HeldWalk<'a> {
    vocab: &'a Vocabulary,
    row: &'a DisclosureRow,
    request: &'a Request,
    spec: &'a ShareSpec<'a>,
    files: &'a ShareFiles,
}

/// What the walk decided, waiting to be recorded.
struct Walked {
    counts: BTreeMap<Reason, u64>,
    allowed: u64,
    refused: u64,
    /// Subjects the list names that the holder does not hold at all.
    absent: u64,
    columns_sent: Vec<String>,
}

impl Walked {
    /// The disclosure's counts, `decided` being the records decided.
    fn tally(&self, row: &mut DisclosureRow, decided: u64) {
        row.requested = (decided + self.absent) as i64;
        row.allowed = self.allowed as i64;
        row.refused = (self.refused + self.absent) as i64;
        row.not_held = self.not_held() as i64;
    }

    /// Refusals for not-held, counted as every other reason is.
    fn not_held(&self) -> u64 {
        self.counts.get(&Reason::NotHeld).copied().unwrap_or(0)
    }
}

impl HeldWalk<'_> {
    /// The outcomes, spilled to disk, and their tally.
    fn run<S: Store>(&self, s: &mut S, progress: &dyn Progress) -> Result<(Spill, Walked)> {
        let spec = self.spec;
        let mut listed = spec.records.listed()?;
        let holdings = Holdings::load(s, self.vocab, &self.row.from_org)?;
        let ctx = Context::new(self.vocab, &holdings.notices);
        let projection =
            Projection::new(self.vocab, &s.collections(None)?, &self.request.categories);
        // The outputs take the format of the subject list, else of --out.
        let format = spec.out_format.unwrap_or_else(|| match &spec.records {
            Selection::Subjects(p) => Format::of(p, None),
            Selection::All | Selection::List(_) => {
                spec.out.map_or(Format::Csv, |o| Format::of(o, None))
            }
        });
        // Each row says which holding it carries: the subject and the
        // organisation whose identifier it is.
        let mut head = vec!["subject".to_string(), "collector".to_string()];
        head.extend(projection.header.iter().cloned());
        let mut allowed_w = self
            .files
            .out
            .as_ref()
            .map(|o| o.rows(format, &head))
            .transpose()?;
        let mut refused_w = self
            .files
            .refused
            .as_ref()
            .map(|o| {
                o.rows(
                    format,
                    &["subject".into(), "collector".into(), "reasons".into()],
                )
            })
            .transpose()?;

        let committer = Committer::load(s)?;
        // Outcomes wait on disk: a disclosure of 87 million records does not
        // hold them in memory until the store takes them.
        let mut outcomes = Spill::new()?;
        let mut walked = Walked {
            counts: BTreeMap::new(),
            allowed: 0,
            refused: 0,
            absent: 0,
            columns_sent: Vec::new(),
        };
        progress.start("deciding", None);
        let mut classes = Classes::new(&ctx, self.request);
        // Each set of reasons spelled once: a few classes, a million rows.
        let mut ids: rustc_hash::FxHashMap<u32, String> = Default::default();
        s.for_each_held(&self.row.from_org, &mut |h| {
            let collector = holdings.collector(h.notice).map_err(through_store)?;
            if let Some(l) = &mut listed {
                if !l.names(collector, h.subject) {
                    return Ok(());
                }
            }
            let facts = holdings.facts(h).map_err(through_store)?;
            let Decision { reasons } = classes.decide(&facts);
            let subject = committer
                .commit(h.notice, h.subject)
                .map_err(through_store)?;
            let mut outcome = Outcome {
                record: h.id,
                origin: h.origin,
                reasons: Some(reasons.0),
                subject,
                copy: None,
            };
            if reasons.is_empty() {
                walked.allowed += 1;
                if let (Some(w), Some(path)) = (&mut allowed_w, spec.out) {
                    let fields: Vec<String> = serde_json::from_str(h.fields).map_err(|e| {
                        custody_store::StoreError::Corrupt(format!("record {}: {e}", h.id))
                    })?;
                    let mut rec = vec![h.subject, collector];
                    rec.extend(projection.row(h.collection, &fields));
                    w.write(&rec).map_err(|e| through_store(e.writing(path)))?;
                }
                outcome.copy = Some(h.subject.to_string());
            } else {
                walked.refused += 1;
                for r in reasons.iter() {
                    *walked.counts.entry(r).or_default() += 1;
                }
                if let (Some(w), Some(path)) = (&mut refused_w, spec.refused) {
                    let ids = ids.entry(reasons.0).or_insert_with(|| reasons.to_ids());
                    w.write([h.subject, collector, ids.as_str()])
                        .map_err(|e| through_store(e.writing(path)))?;
                }
            }
            outcomes.push(&outcome).map_err(through_store)?;
            progress.counted(outcomes.len());
            Ok(())
        })?;
        let not_held = listed.map(Listed::finish).transpose()?.unwrap_or_default();
        if let (Some(w), Some(path)) = (&mut refused_w, spec.refused) {
            for n in &not_held {
                let collector = n.collector.as_deref().unwrap_or("");
                w.write([n.subject.as_str(), collector, Reason::NotHeld.id()])
                    .map_err(|e| e.writing(path))?;
            }
        }
        // Not held: named and absent, or collected only after the disclosure.
        if !not_held.is_empty() {
            *walked.counts.entry(Reason::NotHeld).or_default() += not_held.len() as u64;
        }
        walked.absent = not_held.len() as u64;
        progress.finish();
        if let (Some(w), Some(path)) = (allowed_w, spec.out) {
            w.finish().map_err(|e| e.writing(path))?;
        }
        if let (Some(w), Some(path)) = (refused_w, spec.refused) {
            w.finish().map_err(|e| e.writing(path))?;
        }
        walked.columns_sent = projection.header;
        Ok((outcomes, walked))
    }
}

/// Logs disclosure `id`, then stores its outcomes (decisions and the
/// recipient's copies) and logs one entry per record, `entry` says which.
/// The entries of each chunk are encoded and hashed on the other core while
/// the store writes the chunk before.
pub(crate) fn record_disclosure<S: Store>(
    s: &mut S,
    log: &mut Sequencer,
    id: i64,
    row: &DisclosureRow,
    outcomes: impl Iterator<Item = Result<Vec<Outcome>>> + Send,
    entry: impl Fn(&Outcome) -> Entry + Send,
) -> Result<()> {
    log.append(s, &disclosure_entry(id, row))?;
    let recorded = log.recorded();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Vec<Outcome>, Prepared)>>(1);
        scope.spawn(move || {
            for chunk in outcomes {
                let item = chunk.and_then(|c| {
                    let prepared = Prepared::new(recorded, c.iter().map(|o| Ok(entry(o))))?;
                    Ok((c, prepared))
                });
                let failed = item.is_err();
                // A closed channel: the store's side failed and says why.
                if tx.send(item).is_err() || failed {
                    break;
                }
            }
        });
        for item in rx {
            let (chunk, prepared) = item?;
            s.insert_decisions(&mut chunk.iter().map(|o| DecisionRow {
                disclosure: id,
                record: o.record,
                reasons: o.reasons,
            }))?;
            let copies: Vec<(i64, String)> = chunk
                .into_iter()
                .filter_map(|o| Some((o.origin, o.copy?)))
                .collect();
            s.insert_copies(&row.to_org, id, row.at, &copies)?;
            log.append_prepared(s, prepared)?;
        }
        Ok(())
    })
}

/// The log entry for a disclosure row, gated or imported.
pub(crate) fn disclosure_entry(id: i64, row: &DisclosureRow) -> Entry {
    Entry::DisclosureRecorded {
        at: row.at,
        disclosure: id as u64,
        from: row.from_org.clone(),
        to: row.to_org.clone(),
        on_behalf_of: row.on_behalf_of.clone(),
        purposes: row.purposes.clone(),
        categories: row.categories.clone(),
        basis: row.basis.clone(),
        gated: row.gated,
        requested: row.requested as u64,
        allowed: row.allowed as u64,
        refused: row.refused as u64,
        not_held: row.not_held as u64,
        note: Some(row.note.clone()),
        created_at: Some(row.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_never_names_an_input_or_another_output() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "subject\nM01\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&list, &link).unwrap();
        let (out, refused) = (dir.path().join("out.csv"), dir.path().join("refused.csv"));
        let dotted = dir.path().join(".").join("out.csv");
        // The allowed and refused outputs; the two a refusal names, or None.
        type Case<'a> = (&'a [&'a Path], Option<(&'a str, &'a str)>);
        let table: [Case; 5] = [
            (&[&out, &refused], None),
            (&[&list, &refused], Some(("the list", "the allowed"))),
            (&[&out, &link], Some(("the list", "the refused"))),
            (&[&out, &out], Some(("the allowed", "the refused"))),
            (&[&out, &dotted], Some(("the allowed", "the refused"))),
        ];
        for (outputs, clash) in table {
            let named = [("the allowed", outputs[0]), ("the refused", outputs[1])];
            let got = files_apart(&[("the list", &list)], &named);
            match (clash, got) {
                (None, Ok(())) => {}
                (Some((a, b)), Err(e)) => {
                    let e = e.to_string();
                    assert!(e.contains(a) && e.contains(b), "{outputs:?}: {e}");
                }
                (clash, got) => panic!("{outputs:?}: expected {clash:?}, got {got:?}"),
            }
        }
    }
}
