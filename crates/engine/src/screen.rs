//! Screening: a list of people (a mailing list, a purchase, a year's
//! disclosures under review) checked row by row against what the holder
//! collected them under and their consents since, for a disclosure that has
//! not happened. Each row comes out allowed (with only the columns of the
//! requested categories) or refused with its reasons, the same reasons
//! `share` gives. Nothing is recorded: `share` is the gate that records.
//!
//! It is one pass over the list against the holder's snapshot
//! ([`crate::snapshot`]); rows sharing every input of the evaluator are
//! decided once ([`Classes`]). Three threads: one reads the list, one
//! decides, one writes the two sets.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read as _, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use rustc_hash::FxHashMap;
use serde::Serialize;

use custody_core::decision::classes::Classes;
use custody_core::decision::{Context, RecordFacts};
use custody_core::mapping::MappingSource;
use custody_core::notice::NoticeId;
use custody_core::reason::{Reason, ReasonSet};
use custody_core::time::format_instant;
use custody_core::vocab::TermKind;
use custody_store::Store;

use crate::disclosure::{ambiguous, files_apart, reason_counts, Output, ReasonCount, Terms};
use crate::holdings::{all_notices, received_by};
use crate::snapshot::{CaughtUp, SnapshotDir};
use crate::table::plain::{NotPlain, PlainLines};
use crate::table::{Format, RowReader, RowWriter};
use crate::{instant, Engine, Error, Progress, Result};

/// Rows per chunk passed from the reading core to the deciding one.
const CHUNK: usize = 16_384;

pub struct ScreenSpec<'a> {
    /// The disclosure screened for; its `from` is whose holdings the list
    /// is checked against.
    pub terms: &'a Terms,
    /// The list: CSV or Parquet, one row per person.
    pub list: &'a Path,
    pub format: Option<Format>,
    /// The column with the people's identifiers; default `subject`, else the
    /// subject column of the holder's collections.
    pub subject_column: Option<&'a str>,
    pub out: &'a Path,
    pub refused: &'a Path,
    /// Default: the list's format.
    pub out_format: Option<Format>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreenReport {
    pub holder: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub at: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub basis: Option<String>,
    pub list: String,
    pub rows: u64,
    pub allowed: u64,
    pub refused: u64,
    pub not_held: u64,
    pub reasons: Vec<ReasonCount>,
    /// The list's columns written for allowed rows (after the subject).
    pub columns_sent: Vec<String>,
    /// The list's columns never written: outside the request, or of no
    /// category the holder collected under.
    pub columns_withheld: Vec<String>,
    /// Distinct combinations of the evaluator's inputs met.
    pub classes: usize,
    pub snapshot: SnapshotUse,
    pub out: String,
    pub refused_file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotUse {
    pub path: String,
    pub records: usize,
    pub events: usize,
    pub caught_up: CaughtUp,
}

/// Rows of the list as read: the subject and the columns to send.
enum ListChunk {
    Plain(PlainLines),
    Csv {
        records: Vec<csv::ByteRecord>,
        len: usize,
        /// Lines before the full parser took over.
        line_offset: u64,
    },
    Parquet {
        /// subject first, then the columns sent, each as UTF-8.
        columns: Vec<StringArray>,
        first_line: u64,
    },
}

struct Read {
    chunk: ListChunk,
    /// Progress reached, in the unit of the progress total.
    position: u64,
}

/// Where each wanted column is: for CSV its index in the row.
struct Layout {
    /// Index in the header of the subject column, then of the collector
    /// column if the list has one, then of each column sent.
    wanted: Vec<usize>,
    collector: bool,
}

impl Layout {
    /// Where the sent columns start in `wanted`.
    fn first_sent(&self) -> usize {
        1 + self.collector as usize
    }
}

/// One row's decision, and whose identifier its subject is (an index into
/// the organisations; None: not held).
#[derive(Debug, Clone, Copy)]
struct Screened {
    reasons: ReasonSet,
    collector: Option<u32>,
}

impl ListChunk {
    fn len(&self) -> usize {
        match self {
            ListChunk::Plain(p) => p.len(),
            ListChunk::Csv { len, .. } => *len,
            ListChunk::Parquet { columns, .. } => columns.first().map_or(0, |c| c.len()),
        }
    }

    /// Wanted column `j` (0: subject) of row `i`, as text; None if it is
    /// not UTF-8 (Arrow's strings are, already).
    fn text<'a>(&'a self, layout: &Layout, i: usize, j: usize) -> Option<&'a str> {
        let bytes = match self {
            ListChunk::Plain(p) => p.field(i, layout.wanted[j]),
            ListChunk::Csv { records, .. } => records[i].get(layout.wanted[j]).unwrap_or(b""),
            ListChunk::Parquet { columns, .. } => {
                let c = &columns[j];
                return Some(if c.is_null(i) { "" } else { c.value(i) });
            }
        };
        std::str::from_utf8(bytes).ok()
    }

    fn line(&self, i: usize) -> u64 {
        match self {
            ListChunk::Plain(p) => p.line(i),
            ListChunk::Csv {
                records,
                line_offset,
                ..
            } => line_offset + records[i].position().map_or(0, |p| p.line()),
            ListChunk::Parquet { first_line, .. } => first_line + i as u64,
        }
    }
}

impl<S: Store> Engine<S> {
    pub fn screen(
        &mut self,
        spec: &ScreenSpec,
        snapshots: &SnapshotDir,
        progress: &dyn Progress,
    ) -> Result<ScreenReport> {
        let (row, request, at) = self.resolve_disclosure(spec.terms)?;
        let list = spec.list;
        let format = Format::of(list, spec.format);
        let (header, total) = {
            let r = RowReader::open(list, format)?;
            (r.header().to_vec(), r.total())
        };

        // Which column names whom, and which columns the request may send:
        // a column is sent only if it was collected (by the holder, or by
        // whoever disclosed records to it) under a category the request
        // covers.
        let disclosures = self.store.disclosures(None)?;
        let sources: Vec<&str> = std::iter::once(row.from_org.as_str())
            .chain(
                disclosures
                    .iter()
                    .filter(|d| d.to_org == row.from_org)
                    .map(|d| d.from_org.as_str()),
            )
            .collect();
        let collections: Vec<_> = self
            .store
            .collections(None)?
            .into_iter()
            .filter(|c| sources.contains(&c.org.as_str()))
            .collect();
        let subject = match spec.subject_column {
            Some(s) => s.to_string(),
            None if header.iter().any(|h| h == "subject") => "subject".into(),
            None => collections
                .iter()
                .filter_map(|c| serde_json::from_str::<MappingSource>(&c.mapping).ok())
                .map(|m| m.subject)
                .find(|s| header.contains(s))
                .ok_or_else(|| Error::Input {
                    file: list.display().to_string(),
                    line: 1,
                    field: "-".into(),
                    message: "no `subject` column, and none of the collections' subject columns; name it with --subject-column".into(),
                })?,
        };
        let subject_ix = header
            .iter()
            .position(|h| *h == subject)
            .ok_or_else(|| Error::Input {
                file: list.display().to_string(),
                line: 1,
                field: subject.clone(),
                message: "no such column".into(),
            })?;
        let category_of: BTreeMap<&str, &str> = collections
            .iter()
            .flat_map(|c| c.columns.iter().zip(&c.categories))
            .map(|(col, cat)| (col.as_str(), cat.as_str()))
            .collect();
        let vocab = &self.vocab;
        let covered = |col: &str| {
            category_of
                .get(col)
                .and_then(|cat| vocab.resolve(TermKind::DataCategory, cat).ok())
                .is_some_and(|cat| {
                    request
                        .categories
                        .iter()
                        .any(|r| vocab.covers_category(*r, cat))
                })
        };
        let mut wanted = vec![subject_ix];
        let collector_ix = header.iter().position(|h| h == "collector");
        wanted.extend(collector_ix);
        let (mut sent, mut withheld) = (Vec::new(), Vec::new());
        for (i, h) in header.iter().enumerate() {
            if i == subject_ix || Some(i) == collector_ix {
                continue;
            }
            if covered(h) {
                wanted.push(i);
                sent.push(h.clone());
            } else {
                withheld.push(h.clone());
            }
        }
        let layout = Layout {
            wanted,
            collector: collector_ix.is_some(),
        };
        // Each output row says whose identifier its subject is.
        let orgs: Vec<String> = self.store.orgs()?.into_iter().map(|o| o.id).collect();

        let out_format = spec.out_format.unwrap_or(format);
        files_apart(
            &[("the list", spec.list)],
            &[
                ("the allowed rows", spec.out),
                ("the refused rows", spec.refused),
            ],
        )?;
        let out = Output::create(spec.out)?;
        let refused_out = Output::create(spec.refused)?;
        let mut head = vec!["subject".to_string(), "collector".to_string()];
        head.extend(sent.iter().cloned());
        let allowed_w = out.rows(out_format, &head)?;
        let refused_w = refused_out.rows(
            out_format,
            &["subject".into(), "collector".into(), "reasons".into()],
        )?;

        let (report, counts) = std::thread::scope(|scope| -> Result<_> {
            progress.start("screening", total);
            // Three stages: the list is read on one thread, decided on this
            // one, written on a third. The reader has room to work ahead
            // while the holdings load.
            let (tx, rx) = sync_channel::<Result<Read>>(64);
            let (back_tx, back_rx) = sync_channel::<Vec<csv::ByteRecord>>(16);
            let reader = {
                let layout_cols: Vec<String> =
                    layout.wanted.iter().map(|&i| header[i].clone()).collect();
                let fields = header.len();
                scope.spawn(move || read_list(list, format, &layout_cols, fields, tx, back_rx))
            };
            let (decided_tx, decided_rx) = sync_channel::<(ListChunk, Vec<Screened>)>(8);
            let writer = {
                let (layout, header) = (&layout, &header);
                let sink = ScreenFiles {
                    list,
                    header,
                    layout,
                    orgs: &orgs,
                    allowed: allowed_w,
                    refused: refused_w,
                };
                scope.spawn(move || sink.write(decided_rx, back_tx))
            };

            let caught_up = snapshots.catch_up(&mut self.store, &row.from_org)?;
            let held = snapshots.load(&row.from_org, &self.vocab)?;
            let notices = all_notices(&self.store, &self.vocab)?;
            let received = received_by(&self.vocab, &disclosures, &row.from_org)?;
            // The evaluator takes every notice as known: check once here.
            if let Some(n) = held.notices().iter().find(|n| !notices.contains_key(n)) {
                return Err(Error::Invalid(format!(
                    "the holdings snapshot names notice {n}, which the store does not have"
                )));
            }
            let (mut hint, mut found) = (held.start(), Vec::new());
            // Each notice's organisation, by its place in `orgs`; the store's
            // keys make one always there, so a miss is a store edited by hand.
            let collector_of = notices
                .iter()
                .map(|(id, n)| match orgs.iter().position(|o| *o == n.org) {
                    Some(c) => Ok((*id, c as u32)),
                    None => Err(Error::Invalid(format!(
                        "notice {id} belongs to `{}`, which the store does not have",
                        n.org
                    ))),
                })
                .collect::<Result<FxHashMap<NoticeId, u32>>>()?;
            let ctx = Context::new(&self.vocab, &notices);
            let mut classes = Classes::new(&ctx, &request);
            let mut counts: BTreeMap<Reason, u64> = BTreeMap::new();
            let (mut rows, mut allowed, mut not_held) = (0u64, 0u64, 0u64);
            for read in rx {
                let Read { chunk, position } = read?;
                let mut decided = Vec::with_capacity(chunk.len());
                for i in 0..chunk.len() {
                    let who = chunk
                        .text(&layout, i, 0)
                        .ok_or_else(|| not_utf8(list, &chunk, i, &subject))?
                        .trim();
                    if who.is_empty() {
                        return Err(Error::Input {
                            file: list.display().to_string(),
                            line: chunk.line(i),
                            field: subject.clone(),
                            message: "empty: every row names the person it is about".into(),
                        });
                    }
                    rows += 1;
                    held.rows_of(who.as_bytes(), &mut hint, &mut found);
                    let named_collector = match layout.collector {
                        true => chunk
                            .text(&layout, i, 1)
                            .map(str::trim)
                            .filter(|c| !c.is_empty()),
                        false => None,
                    };
                    // The one holding the row names (README: The rules, one
                    // person, one holding).
                    let mut chosen: Option<(_, u32)> = None;
                    for &r in &found {
                        let c = collector_of[&held.notice(r)];
                        if named_collector.is_some_and(|n| n != orgs[c as usize]) {
                            continue;
                        }
                        match chosen {
                            None => chosen = Some((r, c)),
                            Some((_, first)) if first != c => {
                                let both =
                                    [orgs[first as usize].as_str(), orgs[c as usize].as_str()];
                                return Err(Error::Input {
                                    file: list.display().to_string(),
                                    line: chunk.line(i),
                                    field: subject.clone(),
                                    message: ambiguous(who, &both),
                                });
                            }
                            // Its own record and a copy of it: the first.
                            Some(_) => {}
                        }
                    }
                    let screened = match chosen {
                        None => Screened {
                            reasons: [Reason::NotHeld].into_iter().collect(),
                            collector: None,
                        },
                        Some((r, c)) => {
                            let facts = RecordFacts {
                                collected_at: instant(held.collected_at(r)),
                                notice: held.notice(r),
                                consented: held.consented(r),
                                events: held.events_of(r),
                                received: held.received_via(r).and_then(|d| received.get(&d)),
                            };
                            Screened {
                                reasons: classes.decide(&facts).reasons,
                                collector: Some(c),
                            }
                        }
                    };
                    let reasons = screened.reasons;
                    // Counted as every other reason is: absent, or
                    // collected only after the screening's time.
                    if reasons.contains(Reason::NotHeld) {
                        not_held += 1;
                    }
                    if reasons.is_empty() {
                        allowed += 1;
                    } else {
                        for r in reasons.iter() {
                            *counts.entry(r).or_default() += 1;
                        }
                    }
                    decided.push(screened);
                }
                progress.advance(position);
                if decided_tx.send((chunk, decided)).is_err() {
                    break; // the writer failed, and says why below
                }
            }
            drop(decided_tx);
            let joined = |r: std::thread::Result<Result<()>>, what: &str| {
                r.map_err(|_| Error::Invalid(format!("the list's {what} failed")))?
            };
            joined(writer.join(), "writer")?;
            joined(reader.join(), "reader")?;
            let report = ScreenReport {
                holder: row.from_org.clone(),
                to: row.to_org.clone(),
                on_behalf_of: row.on_behalf_of.clone(),
                at: format_instant(&at),
                purposes: row.purposes.clone(),
                categories: row.categories.clone(),
                basis: row.basis.clone(),
                list: list.display().to_string(),
                rows,
                allowed,
                refused: rows - allowed,
                not_held,
                reasons: Vec::new(),
                columns_sent: sent.clone(),
                columns_withheld: withheld.clone(),
                classes: classes.len(),
                snapshot: SnapshotUse {
                    path: snapshots.path().display().to_string(),
                    records: held.len(),
                    events: held.event_count(),
                    caught_up,
                },
                out: spec.out.display().to_string(),
                refused_file: spec.refused.display().to_string(),
            };
            Ok((report, counts))
        })?;
        progress.finish();
        out.persist()?;
        refused_out.persist()?;
        Ok(ScreenReport {
            reasons: reason_counts(&counts),
            ..report
        })
    }
}

/// Writes each decided chunk: allowed rows with the columns sent, refused
/// rows with their reason codes. Returns the CSV buffers to the reader.
/// Where a screening's decisions go: the allowed rows with their wanted
/// columns, the refused subjects with their reasons.
struct ScreenFiles<'a> {
    list: &'a Path,
    header: &'a [String],
    layout: &'a Layout,
    orgs: &'a [String],
    allowed: RowWriter,
    refused: RowWriter,
}

impl ScreenFiles<'_> {
    /// Writes each decided chunk, handing its buffers `back` to the reader.
    fn write(
        mut self,
        decided: Receiver<(ListChunk, Vec<Screened>)>,
        back: SyncSender<Vec<csv::ByteRecord>>,
    ) -> Result<()> {
        let layout = self.layout;
        let mut ids: FxHashMap<u32, String> = FxHashMap::default();
        for (chunk, reasons) in decided {
            let mut fields: Vec<&str> = Vec::with_capacity(layout.wanted.len());
            for (i, screened) in reasons.iter().enumerate() {
                let reasons = screened.reasons;
                // The decider checked the subject.
                let who = chunk.text(layout, i, 0).unwrap_or("").trim();
                let collector = match screened.collector {
                    Some(c) => self.orgs[c as usize].as_str(),
                    None if layout.collector => chunk.text(layout, i, 1).unwrap_or("").trim(),
                    None => "",
                };
                if reasons.is_empty() {
                    fields.clear();
                    fields.push(who);
                    fields.push(collector);
                    for j in layout.first_sent()..layout.wanted.len() {
                        let column = &self.header[layout.wanted[j]];
                        fields.push(
                            chunk
                                .text(layout, i, j)
                                .ok_or_else(|| not_utf8(self.list, &chunk, i, column))?,
                        );
                    }
                    self.allowed.write(fields.drain(..))?;
                } else {
                    let ids = ids.entry(reasons.0).or_insert_with(|| reasons.to_ids());
                    self.refused.write([who, collector, ids.as_str()])?;
                }
            }
            if let ListChunk::Csv { records, .. } = chunk {
                let _ = back.try_send(records);
            }
        }
        self.allowed.finish()?;
        Ok(self.refused.finish()?)
    }
}

fn not_utf8(list: &Path, chunk: &ListChunk, i: usize, column: &str) -> Error {
    Error::Input {
        file: list.display().to_string(),
        line: chunk.line(i),
        field: column.to_string(),
        message: "not UTF-8".into(),
    }
}

fn not_parquet(list: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::Input {
        file: list.display().to_string(),
        line: 0,
        field: "-".into(),
        message: format!("not a readable Parquet file: {e}"),
    }
}

/// Reads the list in chunks of [`CHUNK`] rows into `tx`: for CSV whole rows
/// (reusing the buffers `back` returns), for Parquet only the wanted columns.
fn read_list(
    list: &Path,
    format: Format,
    wanted: &[String],
    wanted_fields: usize,
    tx: SyncSender<Result<Read>>,
    back: Receiver<Vec<csv::ByteRecord>>,
) -> Result<()> {
    let send = |r: Result<Read>| -> bool { tx.send(r).is_ok() };
    let f = File::open(list).map_err(|e| Error::io(list, e))?;
    match format {
        Format::Csv => read_csv(list, f, wanted_fields, &send, &back),
        Format::Parquet => {
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| not_parquet(list, e))?;
            let schema = builder.parquet_schema();
            let roots: Vec<usize> = builder
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| wanted.contains(f.name()))
                .map(|(i, _)| i)
                .collect();
            let mask = ProjectionMask::roots(schema, roots);
            let batches = builder
                .with_projection(mask)
                .with_batch_size(CHUNK)
                .build()
                .map_err(|e| not_parquet(list, e))?;
            let mut line = 2u64;
            for batch in batches {
                let read = batch
                    .map_err(|e| Error::Input {
                        file: list.display().to_string(),
                        line,
                        field: "-".into(),
                        message: e.to_string(),
                    })
                    .and_then(|b| {
                        let columns = as_utf8(&b, wanted).map_err(|e| Error::Input {
                            file: list.display().to_string(),
                            line,
                            field: "-".into(),
                            message: e,
                        })?;
                        let n = b.num_rows() as u64;
                        Ok(Read {
                            chunk: ListChunk::Parquet {
                                columns,
                                first_line: line,
                            },
                            position: n,
                        })
                    });
                let failed = read.is_err();
                line += read.as_ref().map_or(0, |r| r.position);
                if !send(read) || failed {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
}

/// Reads a CSV list: plain blocks split at once ([`PlainLines`]), and from
/// the first block that needs it on, the full parser.
fn read_csv(
    list: &Path,
    mut f: File,
    fields: usize,
    send: &dyn Fn(Result<Read>) -> bool,
    back: &Receiver<Vec<csv::ByteRecord>>,
) -> Result<()> {
    const BLOCK: usize = 8 << 20;
    let io = |e| Error::io(list, e);
    // Where the rows start: after the header, however it is quoted.
    let mut header = csv::Reader::from_reader(BufReader::new(&f));
    header.headers().map_err(|e| Error::csv(list, e))?;
    let mut offset = header.position().byte();
    let mut line = header.position().line();
    drop(header);
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof {
        let mut block = std::mem::take(&mut carry);
        let have = block.len();
        block.resize(have + BLOCK, 0);
        let mut filled = have;
        while filled < block.len() {
            match f.read(&mut block[filled..]).map_err(io)? {
                0 => {
                    eof = true;
                    break;
                }
                n => filled += n,
            }
        }
        block.truncate(filled);
        // Complete lines only; the rest starts the next block.
        let end = if eof {
            block.len()
        } else {
            match memchr::memrchr(b'\n', &block) {
                Some(i) => i + 1,
                None => {
                    carry = block;
                    continue;
                }
            }
        };
        carry = block[end..].to_vec();
        block.truncate(end);
        let lines = memchr::memchr_iter(b'\n', &block).count() as u64;
        let size = block.len() as u64;
        match PlainLines::split(block, line, fields, CHUNK) {
            Ok(groups) => {
                let n = groups.len().max(1) as u64;
                for (k, g) in groups.into_iter().enumerate() {
                    // Progress in bytes, spread over the block's groups.
                    let position = size / n + if k == 0 { size % n } else { 0 };
                    if !send(Ok(Read {
                        chunk: ListChunk::Plain(g),
                        position,
                    })) {
                        return Ok(());
                    }
                }
            }
            Err(NotPlain::Fields { line, found }) => {
                send(Err(Error::Input {
                    file: list.display().to_string(),
                    line,
                    field: "-".into(),
                    message: format!("{found} fields where the header has {fields}"),
                }));
                return Ok(());
            }
            Err(NotPlain::NeedsParser) => {
                f.seek(SeekFrom::Start(offset)).map_err(io)?;
                return read_parsed(list, f, line - 1, send, back);
            }
        }
        offset += size;
        line += lines;
    }
    Ok(())
}

/// The rest of a CSV list, from `f`'s position, through the full parser.
fn read_parsed(
    list: &Path,
    f: File,
    line_offset: u64,
    send: &dyn Fn(Result<Read>) -> bool,
    back: &Receiver<Vec<csv::ByteRecord>>,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(1 << 20)
        .from_reader(f);
    let mut done = 0u64;
    loop {
        let mut records = back.try_recv().unwrap_or_default();
        records.resize_with(CHUNK, csv::ByteRecord::new);
        let mut len = 0;
        while len < CHUNK {
            match reader.read_byte_record(&mut records[len]) {
                Ok(true) => len += 1,
                Ok(false) => break,
                Err(e) => {
                    let mut e = Error::csv(list, e);
                    if let Error::Input { line, .. } = &mut e {
                        *line += line_offset;
                    }
                    send(Err(e));
                    return Ok(());
                }
            }
        }
        if len == 0 {
            return Ok(());
        }
        let position = reader.position().byte();
        let read = Read {
            chunk: ListChunk::Csv {
                records,
                len,
                line_offset,
            },
            position: position - done,
        };
        done = position;
        if !send(Ok(read)) || len < CHUNK {
            return Ok(());
        }
    }
}

/// The wanted columns of `batch`, in `wanted` order, as UTF-8 strings
/// (dates and numbers printed as arrow prints them).
fn as_utf8(
    batch: &RecordBatch,
    wanted: &[String],
) -> std::result::Result<Vec<StringArray>, String> {
    wanted
        .iter()
        .map(|name| {
            let col = batch
                .column_by_name(name)
                .ok_or_else(|| format!("no column `{name}`"))?;
            let text = if col.data_type() == &DataType::Utf8 {
                col.clone()
            } else {
                arrow_cast::cast(col, &DataType::Utf8).map_err(|e| format!("{name}: {e}"))?
            };
            Ok(text.as_string::<i32>().clone())
        })
        .collect()
}
