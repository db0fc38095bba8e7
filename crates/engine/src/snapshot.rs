//! A columnar copy of what an organisation holds, kept beside the store in
//! Arrow IPC files: for each record the facts the evaluator reads (subject,
//! notice, collection time, ticked boxes, the disclosure that delivered a
//! copy), and every consent and objection event. Screening maps the files
//! and reads them in place, where reading the same rows out of SQLite takes
//! seconds per million.
//!
//! Records and events are never changed or deleted, so a copy that reaches
//! the store's newest ids ([`HoldingsMarks`]) is current, and catching up
//! reads only what came after: each catch-up adds one part file. A store
//! that is not the one the copy was made from (a new database at the same
//! path, or one restored from an older backup) is noticed and the copy is
//! made afresh.

use std::collections::BTreeMap;
use std::fs::File;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::OnceLock;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_buffer::Buffer;
use arrow_ipc::reader::{read_footer_length, FileDecoder};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::{Deserialize, Serialize};

use custody_core::preference::{Preference, PreferenceEvent};
use custody_core::vocab::Vocabulary;
use custody_store::{atomic, HoldingsMarks, PreferenceRow, Store};

use crate::disclosure::Output;
use crate::holdings::preference_event;
use crate::{instant, Error, Result};

const MANIFEST: &str = "manifest.json";
/// The layout of the parts; a copy of another layout is made afresh.
const FORMAT: u32 = 3;
/// The store setting that names a store, so that a copy is never read
/// against another one.
const STORE_ID: &str = "holdings.store";
/// Parts beyond this many are merged into one at the next catch-up.
const MAX_PARTS: usize = 16;
/// Rows per batch written: memory stays bounded by a batch while catching up.
const PART_BATCH: usize = 1 << 20;

/// Where the copies live: one directory per store.
#[derive(Debug, Clone)]
pub struct SnapshotDir {
    dir: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    #[serde(default)]
    format: u32,
    store: String,
    events: Parts,
    orgs: BTreeMap<String, Parts>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Parts {
    /// The newest id the parts hold.
    through: i64,
    files: Vec<String>,
}

/// What a catch-up read from the store.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CaughtUp {
    pub records: u64,
    pub events: u64,
    /// The copy was made afresh (first use, another store, another layout).
    pub rebuilt: bool,
}

/// A record in the snapshot: its batch, and its place in the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Row {
    batch: u32,
    index: u32,
}

/// One batch of records, read in place from its mapped file.
struct Batch {
    subject: StringArray,
    notice: Int32Array,
    collected_at: Int64Array,
    consented: Int64Array,
    received_via: Int32Array,
    /// Per record, its collection record's events: an index into
    /// `SnapshotHoldings::ranges`, or `NO_EVENTS`.
    event_range: Vec<u32>,
}

/// One organisation's holdings, found by subject. The records stay in the
/// mapped files (the page cache holds them, not the heap); only the events,
/// few beside records, are decoded.
pub struct SnapshotHoldings {
    batches: Vec<Batch>,
    notices: Vec<i64>,
    /// Some record is a copy: a subject may then be held more than once.
    copies: bool,
    ranges: Vec<(u32, u32)>,
    /// Every event, grouped by collection record, each group in time order
    /// (ties in id order).
    events: Vec<PreferenceEvent>,
    /// Rows by subject, built at the first lookup that needs it.
    index: OnceLock<Index>,
}

const NO_EVENTS: u32 = u32::MAX;

struct Index {
    /// The first row of each subject.
    first: HashTable<Row>,
    /// Second and later rows of a subject held more than once.
    more: FxHashMap<Row, Vec<Row>>,
}

impl SnapshotHoldings {
    pub fn len(&self) -> usize {
        self.batches.iter().map(|b| b.subject.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn at(&self, row: Row) -> (&Batch, usize) {
        (&self.batches[row.batch as usize], row.index as usize)
    }

    pub fn subject(&self, row: Row) -> &[u8] {
        let (b, i) = self.at(row);
        b.subject.value(i).as_bytes()
    }

    pub fn notice(&self, row: Row) -> i64 {
        let (b, i) = self.at(row);
        b.notice.value(i) as i64
    }

    /// The notices the records were collected under.
    pub fn notices(&self) -> &[i64] {
        &self.notices
    }

    pub fn collected_at(&self, row: Row) -> i64 {
        let (b, i) = self.at(row);
        b.collected_at.value(i)
    }

    pub fn consented(&self, row: Row) -> u64 {
        let (b, i) = self.at(row);
        b.consented.value(i) as u64
    }

    /// For a copy, the disclosure that delivered it.
    pub fn received_via(&self, row: Row) -> Option<i64> {
        let (b, i) = self.at(row);
        b.received_via
            .is_valid(i)
            .then(|| b.received_via.value(i) as i64)
    }

    /// The events of the record's collection record.
    pub fn events_of(&self, row: Row) -> &[PreferenceEvent] {
        let (b, i) = self.at(row);
        match b.event_range[i] {
            NO_EVENTS => &[],
            r => {
                let (start, end) = self.ranges[r as usize];
                &self.events[start as usize..end as usize]
            }
        }
    }

    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// The row after `row`, if any.
    fn next(&self, row: Row) -> Option<Row> {
        let b = self.batches.get(row.batch as usize)?;
        if (row.index as usize) + 1 < b.subject.len() {
            Some(Row {
                index: row.index + 1,
                ..row
            })
        } else {
            (row.batch as usize + 1..self.batches.len())
                .find(|&n| !self.batches[n].subject.is_empty())
                .map(|n| Row {
                    batch: n as u32,
                    index: 0,
                })
        }
    }

    /// The rows holding `subject`'s records, in id order, into `out`.
    /// `hint` is where the last lookup left off: lists often follow the
    /// holder's own order, and then no hash lookup is needed.
    pub fn rows_of(&self, subject: &[u8], hint: &mut Option<Row>, out: &mut Vec<Row>) {
        out.clear();
        // Own records are unique per subject in the store; only copies can
        // repeat one, and then the index is always asked.
        if !self.copies {
            if let Some(h) = *hint {
                if self.subject(h) == subject {
                    out.push(h);
                    *hint = self.next(h);
                    return;
                }
            }
        }
        let index = self.index.get_or_init(|| self.build_index());
        let hash = FxBuildHasher.hash_one(subject);
        if let Some(&first) = index.first.find(hash, |&r| self.subject(r) == subject) {
            out.push(first);
            out.extend(index.more.get(&first).into_iter().flatten());
            *hint = self.next(first);
        }
    }

    /// Where lookups start: the first row.
    pub fn start(&self) -> Option<Row> {
        self.batches
            .iter()
            .position(|b| !b.subject.is_empty())
            .map(|n| Row {
                batch: n as u32,
                index: 0,
            })
    }

    fn build_index(&self) -> Index {
        let mut first = HashTable::with_capacity(self.len());
        let mut more: FxHashMap<Row, Vec<Row>> = FxHashMap::default();
        for (n, b) in self.batches.iter().enumerate() {
            for i in 0..b.subject.len() {
                let row = Row {
                    batch: n as u32,
                    index: i as u32,
                };
                let s = self.subject(row);
                let hash = FxBuildHasher.hash_one(s);
                match first.find(hash, |&r| self.subject(r) == s) {
                    Some(&f) => more.entry(f).or_default().push(row),
                    None => {
                        first
                            .insert_unique(hash, row, |&r| FxBuildHasher.hash_one(self.subject(r)));
                    }
                }
            }
        }
        Index { first, more }
    }

    /// Groups `events` (origin, event; in id order) by origin and points
    /// each record (whose collection record is in `origins`, a column per
    /// batch) at its group.
    fn attach_events(
        &mut self,
        origins: &[Int64Array],
        mut events: Vec<(i64, PreferenceEvent)>,
    ) -> Result<()> {
        // Stable: within a record, ties in time stay in id order.
        events.sort_by_key(|(origin, e)| (*origin, e.at));
        if events.len() >= NO_EVENTS as usize {
            return Err(Error::Invalid("too many events for one snapshot".into()));
        }
        let mut groups: Vec<(i64, u32, u32)> = Vec::new();
        for (i, (origin, _)) in events.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.0 == *origin => g.2 = i as u32 + 1,
                _ => groups.push((*origin, i as u32, i as u32 + 1)),
            }
        }
        // Records mostly come in origin order: walk both, and search only
        // where a record goes back.
        let (mut cursor, mut previous) = (0usize, i64::MIN);
        for (b, origin) in self.batches.iter_mut().zip(origins) {
            b.event_range = origin
                .values()
                .iter()
                .map(|&o| {
                    if o < previous {
                        cursor = groups.partition_point(|g| g.0 < o);
                    }
                    previous = o;
                    while groups.get(cursor).is_some_and(|g| g.0 < o) {
                        cursor += 1;
                    }
                    match groups.get(cursor) {
                        Some(g) if g.0 == o => cursor as u32,
                        _ => NO_EVENTS,
                    }
                })
                .collect();
        }
        self.ranges = groups.iter().map(|g| (g.1, g.2)).collect();
        self.events = events.into_iter().map(|(_, e)| e).collect();
        Ok(())
    }
}

impl SnapshotDir {
    pub fn new(dir: impl Into<PathBuf>) -> SnapshotDir {
        SnapshotDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Brings the copy of `org`'s holdings (and the events) up to the
    /// store's marks, reading only what is newer than the copy.
    pub fn catch_up<S: Store>(&self, store: &mut S, org: &str) -> Result<CaughtUp> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let store_id = match store.setting(STORE_ID)? {
            Some(id) => id,
            None => {
                let id = hex::encode(rand::random::<[u8; 16]>());
                atomic(store, |s| s.set_setting(STORE_ID, &id))?;
                id
            }
        };
        let marks: HoldingsMarks = store.holdings_marks(org)?;
        let mut manifest = self.manifest()?;
        let mut done = CaughtUp::default();
        let ahead = |p: &Parts, mark: i64| p.through > mark;
        if manifest.format != FORMAT
            || manifest.store != store_id
            || ahead(&manifest.events, marks.events)
            || manifest
                .orgs
                .get(org)
                .is_some_and(|p| ahead(p, marks.records))
        {
            for f in manifest
                .orgs
                .values()
                .chain([&manifest.events])
                .flat_map(|p| &p.files)
            {
                let _ = std::fs::remove_file(self.dir.join(f));
            }
            manifest = Manifest {
                format: FORMAT,
                store: store_id,
                ..Manifest::default()
            };
            done.rebuilt = true;
        }

        let corrupt = |e: Error| crate::error::through_store(e);
        let parts = manifest.orgs.entry(org.to_string()).or_default();
        let name = format!("records-{}-{}", file_safe(org), marks.records);
        done.records = self.add_part(parts, &name, marks.records, |part, after| {
            let (mut rows, mut n) = (RecordColumns::default(), 0);
            store.for_each_held_after(org, after, &mut |h| {
                rows.push(h).map_err(corrupt)?;
                n += 1;
                if rows.subject.len() == PART_BATCH {
                    part.write(std::mem::take(&mut rows).batch())
                        .map_err(corrupt)?;
                }
                Ok(())
            })?;
            part.write(rows.batch())?;
            Ok(n)
        })?;
        let name = format!("events-{}", marks.events);
        done.events = self.add_part(&mut manifest.events, &name, marks.events, |part, after| {
            let (mut rows, mut n) = (EventColumns::default(), 0);
            store.for_each_preference_after(after, &mut |id, p| {
                rows.push(id, p);
                n += 1;
                if rows.id.len() == PART_BATCH {
                    part.write(std::mem::take(&mut rows).batch())
                        .map_err(corrupt)?;
                }
                Ok(())
            })?;
            part.write(rows.batch())?;
            Ok(n)
        })?;
        self.write_manifest(&manifest)?;
        Ok(done)
    }

    /// Adds to `parts` a part `name` holding what `fill` writes of what
    /// came after them (it is given their mark), up to `mark`; merges the
    /// parts when there are too many. Returns how many rows `fill` wrote.
    fn add_part(
        &self,
        parts: &mut Parts,
        name: &str,
        mark: i64,
        fill: impl FnOnce(&mut PartFile, i64) -> Result<u64>,
    ) -> Result<u64> {
        if mark <= parts.through {
            return Ok(0);
        }
        let file = format!("{name}.arrow");
        let mut part = PartFile::create(self, &file)?;
        let n = fill(&mut part, parts.through)?;
        part.finish()?;
        parts.files.push(file);
        parts.through = mark;
        if parts.files.len() > MAX_PARTS {
            self.merge(parts, format!("{name}-all.arrow"))?;
        }
        Ok(n)
    }

    /// `org`'s holdings as of the last catch-up.
    pub fn load(&self, org: &str, vocab: &Vocabulary) -> Result<SnapshotHoldings> {
        let manifest = self.manifest()?;
        if manifest.format != FORMAT {
            return Err(self.corrupt(MANIFEST, "made by another version; catch it up first"));
        }
        let mut held = SnapshotHoldings {
            batches: Vec::new(),
            notices: Vec::new(),
            copies: false,
            ranges: Vec::new(),
            events: Vec::new(),
            index: OnceLock::new(),
        };
        // The events decode on another core while the records map.
        let (origins, events) = std::thread::scope(|scope| -> Result<_> {
            let events = scope.spawn(|| self.load_events(&manifest, vocab));
            let origins = self.load_records(&manifest, org, &mut held)?;
            let events = events
                .join()
                .map_err(|_| Error::Invalid("loading the snapshot's events failed".into()))??;
            Ok((origins, events))
        })?;
        held.attach_events(&origins, events)?;
        Ok(held)
    }

    /// Maps `org`'s records into `held`; returns each batch's column of
    /// collection records, which places the events.
    fn load_records(
        &self,
        manifest: &Manifest,
        org: &str,
        held: &mut SnapshotHoldings,
    ) -> Result<Vec<Int64Array>> {
        let mut origins = Vec::new();
        let files = manifest
            .orgs
            .get(org)
            .map(|p| p.files.as_slice())
            .unwrap_or(&[]);
        for file in files {
            for batch in self.read_part(file)? {
                let ints = |name: &str| -> Result<Int64Array> {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_primitive_opt::<Int64Type>())
                        .cloned()
                        .ok_or_else(|| self.corrupt(file, &format!("no Int64 column `{name}`")))
                };
                let subject = batch
                    .column_by_name("subject")
                    .and_then(|c| c.as_string_opt::<i32>())
                    .cloned()
                    .ok_or_else(|| self.corrupt(file, "no string column `subject`"))?;
                let int32s = |name: &str| -> Result<Int32Array> {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_primitive_opt::<Int32Type>())
                        .cloned()
                        .ok_or_else(|| self.corrupt(file, &format!("no Int32 column `{name}`")))
                };
                let notice = int32s("notice")?;
                let mut last = None;
                for &n in notice.values().iter() {
                    if last != Some(n) && !held.notices.contains(&(n as i64)) {
                        held.notices.push(n as i64);
                    }
                    last = Some(n);
                }
                let received_via = int32s("received_via")?;
                held.copies |= received_via.null_count() < received_via.len();
                origins.push(ints("origin")?);
                held.batches.push(Batch {
                    subject,
                    notice,
                    collected_at: ints("collected_at")?,
                    consented: ints("consented")?,
                    received_via,
                    event_range: Vec::new(),
                });
            }
        }
        Ok(origins)
    }

    /// Every event of the snapshot, with its collection record, in id order.
    fn load_events(
        &self,
        manifest: &Manifest,
        vocab: &Vocabulary,
    ) -> Result<Vec<(i64, PreferenceEvent)>> {
        // Few distinct (action, purpose) pairs: each is resolved once.
        let mut preferences: FxHashMap<(String, Option<String>), Preference> = FxHashMap::default();
        let mut events = Vec::new();
        for file in &manifest.events.files {
            for batch in self.read_part(file)? {
                let ints = |name: &str| -> Result<&Int64Array> {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_primitive_opt::<Int64Type>())
                        .ok_or_else(|| self.corrupt(file, &format!("no Int64 column `{name}`")))
                };
                let text = |name: &str| -> Result<&StringArray> {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_string_opt::<i32>())
                        .ok_or_else(|| self.corrupt(file, &format!("no string column `{name}`")))
                };
                let (record, at, notice) = (ints("record")?, ints("at")?, ints("notice")?);
                let (action, purpose) = (text("action")?, text("purpose")?);
                events.reserve(batch.num_rows());
                for i in 0..batch.num_rows() {
                    let purpose = (!purpose.is_null(i)).then(|| purpose.value(i));
                    let key = (action.value(i).to_string(), purpose.map(str::to_string));
                    let preference = match preferences.get(&key) {
                        Some(p) => *p,
                        None => {
                            let row = PreferenceRow {
                                record: record.value(i),
                                at: at.value(i),
                                action: key.0.clone(),
                                purpose: key.1.clone(),
                                notice: None,
                                source: String::new(),
                                recorded: None,
                            };
                            let p = preference_event(vocab, &row)?.preference;
                            preferences.insert(key, p);
                            p
                        }
                    };
                    events.push((
                        record.value(i),
                        PreferenceEvent {
                            at: instant(at.value(i)),
                            preference,
                            notice: (!notice.is_null(i)).then(|| notice.value(i)),
                        },
                    ));
                }
            }
        }
        Ok(events)
    }

    fn manifest(&self) -> Result<Manifest> {
        let path = self.dir.join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| self.corrupt(MANIFEST, &e.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let json = serde_json::to_vec_pretty(m).expect("a manifest serialises");
        let out = Output::create(&self.dir.join(MANIFEST))?;
        std::fs::write(out.path(), json).map_err(|e| Error::io(out.path(), e))?;
        out.persist()
    }

    /// The batches of part `name`, read in place from the mapped file.
    fn read_part(&self, name: &str) -> Result<Vec<RecordBatch>> {
        let path = self.dir.join(name);
        let bad = |e: &dyn std::fmt::Display| self.corrupt(name, &e.to_string());
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        // SAFETY: a part is written in full under a temporary name and only
        // then renamed into place; it is never written again (a merge makes
        // a new file, and a removed file stays readable while mapped).
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| Error::io(&path, e))?;
        let len = map.len();
        if len < 10 {
            return Err(bad(&"too short for an Arrow file"));
        }
        let map = Arc::new(map);
        let ptr = NonNull::new(map.as_ptr() as *mut u8).ok_or_else(|| bad(&"empty mapping"))?;
        // SAFETY: the mapping is `len` bytes and lives as long as the buffer,
        // which owns a reference to it.
        let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, map) };
        let trailer: [u8; 10] = buffer[len - 10..].try_into().expect("ten bytes");
        let footer_len = read_footer_length(trailer).map_err(|e| bad(&e))?;
        let footer_start = (len - 10)
            .checked_sub(footer_len)
            .ok_or_else(|| bad(&"footer longer than the file"))?;
        let footer =
            arrow_ipc::root_as_footer(&buffer[footer_start..len - 10]).map_err(|e| bad(&e))?;
        let schema =
            arrow_ipc::convert::fb_to_schema(footer.schema().ok_or_else(|| bad(&"no schema"))?);
        let decoder = FileDecoder::new(Arc::new(schema), footer.version());
        let mut batches = Vec::new();
        for block in footer.recordBatches().into_iter().flatten() {
            let block_len = block.bodyLength() as usize + block.metaDataLength() as usize;
            let start = block.offset() as usize;
            if start.checked_add(block_len).is_none_or(|end| end > len) {
                return Err(bad(&"a batch beyond the end of the file"));
            }
            let data = buffer.slice_with_length(start, block_len);
            if let Some(b) = decoder
                .read_record_batch(block, &data)
                .map_err(|e| bad(&e))?
            {
                batches.push(b);
            }
        }
        Ok(batches)
    }

    /// Replaces `parts` by one file holding them all, batch by batch.
    fn merge(&self, parts: &mut Parts, name: String) -> Result<()> {
        let mut merged = PartFile::create(self, &name)?;
        for f in &parts.files {
            for batch in self.read_part(f)? {
                merged.write(batch)?;
            }
        }
        merged.finish()?;
        for f in std::mem::replace(&mut parts.files, vec![name]) {
            let _ = std::fs::remove_file(self.dir.join(f));
        }
        Ok(())
    }

    fn corrupt(&self, file: &str, message: &str) -> Error {
        Error::Invalid(format!(
            "the holdings snapshot {} is unreadable ({message}); delete the directory and it is made afresh",
            self.dir.join(file).display()
        ))
    }
}

/// A part being written: it takes its name only when complete
/// ([`Output`]), so a part is never seen half-written.
struct PartFile<'d> {
    dir: &'d SnapshotDir,
    name: String,
    out: Output,
    writer: Option<FileWriter<File>>,
}

impl<'d> PartFile<'d> {
    fn create(dir: &'d SnapshotDir, name: &str) -> Result<PartFile<'d>> {
        Ok(PartFile {
            dir,
            name: name.to_string(),
            out: Output::create(&dir.dir.join(name))?,
            writer: None,
        })
    }

    /// A failure writing the part: the disk's, kept as it is (a full disk
    /// is not an unreadable snapshot).
    fn unwritten(&self, e: arrow_schema::ArrowError) -> Error {
        let path = self.dir.dir.join(&self.name);
        match e {
            arrow_schema::ArrowError::IoError(_, io) => Error::io(&path, io),
            e => Error::Invalid(format!(
                "cannot write the holdings snapshot {}: {e}",
                path.display()
            )),
        }
    }

    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            let f = self.out.file()?;
            let w = FileWriter::try_new(f, &batch.schema()).map_err(|e| self.unwritten(e))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("made above");
        let written = w.write(&batch);
        written.map_err(|e| self.unwritten(e))
    }

    fn finish(mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.finish().map_err(|e| self.unwritten(e))?;
        }
        self.out.persist()
    }
}

/// An organisation id as a file name: its letters and digits kept, anything
/// else hex-escaped, so that no id reaches outside the directory.
fn file_safe(org: &str) -> String {
    org.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// Records as written to a part: ids of notices and disclosures, which are
/// few, in 32 bits (about 46 bytes a record in all).
#[derive(Default)]
struct RecordColumns {
    subject: Vec<String>,
    origin: Vec<i64>,
    notice: Vec<i32>,
    collected_at: Vec<i64>,
    consented: Vec<i64>,
    received_via: Vec<Option<i32>>,
}

impl RecordColumns {
    fn push(&mut self, h: &custody_store::HeldRecord) -> Result<()> {
        let narrow = |id: i64, what: &str| {
            i32::try_from(id).map_err(|_| {
                Error::Invalid(format!(
                    "{what} id {id} is beyond what the holdings snapshot holds (2^31)"
                ))
            })
        };
        self.subject.push(h.subject.to_string());
        self.origin.push(h.origin);
        self.notice.push(narrow(h.notice, "notice")?);
        self.collected_at.push(h.collected_at);
        self.consented.push(h.consented as i64);
        self.received_via.push(
            h.received_via
                .map(|d| narrow(d, "disclosure"))
                .transpose()?,
        );
        Ok(())
    }

    fn batch(self) -> RecordBatch {
        let int = |n: &str| Field::new(n, DataType::Int64, false);
        let schema = Schema::new(vec![
            Field::new("subject", DataType::Utf8, false),
            int("origin"),
            Field::new("notice", DataType::Int32, false),
            int("collected_at"),
            int("consented"),
            Field::new("received_via", DataType::Int32, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.subject)),
            Arc::new(Int64Array::from(self.origin)),
            Arc::new(Int32Array::from(self.notice)),
            Arc::new(Int64Array::from(self.collected_at)),
            Arc::new(Int64Array::from(self.consented)),
            Arc::new(Int32Array::from(self.received_via)),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("columns match the schema")
    }
}

#[derive(Default)]
struct EventColumns {
    id: Vec<i64>,
    record: Vec<i64>,
    at: Vec<i64>,
    action: Vec<String>,
    purpose: Vec<Option<String>>,
    notice: Vec<Option<i64>>,
}

impl EventColumns {
    fn push(&mut self, id: i64, p: &PreferenceRow) {
        self.id.push(id);
        self.record.push(p.record);
        self.at.push(p.at);
        self.action.push(p.action.clone());
        self.purpose.push(p.purpose.clone());
        self.notice.push(p.notice);
    }

    fn batch(self) -> RecordBatch {
        let int = |n: &str| Field::new(n, DataType::Int64, false);
        let schema = Schema::new(vec![
            int("id"),
            int("record"),
            int("at"),
            Field::new("action", DataType::Utf8, false),
            Field::new("purpose", DataType::Utf8, true),
            Field::new("notice", DataType::Int64, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.id)),
            Arc::new(Int64Array::from(self.record)),
            Arc::new(Int64Array::from(self.at)),
            Arc::new(StringArray::from(self.action)),
            Arc::new(StringArray::from(self.purpose)),
            Arc::new(Int64Array::from(self.notice)),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("columns match the schema")
    }
}

#[cfg(test)]
mod tests {
    use custody_core::organisation::Role;
    use custody_core::Organisation;
    use custody_store::{CollectionRow, NewRecord, NoticeRow, SqliteStore};

    use super::*;

    fn store(dir: &Path) -> (SqliteStore, i64, i64) {
        let mut s = SqliteStore::open(&dir.join("c.db")).unwrap();
        s.insert_org(&Organisation {
            id: "a".into(),
            name: "a".into(),
            role: Role::Controller,
            categories: vec![],
        })
        .unwrap();
        let notice = s
            .insert_notice(&NoticeRow {
                id: 0,
                org: "a".into(),
                version: "1".into(),
                effective: 0,
                content_hash: "h".into(),
                source: "{}".into(),
                published_at: 0,
            })
            .unwrap();
        let collection = s
            .insert_collection(&CollectionRow {
                id: 0,
                org: "a".into(),
                file: "f".into(),
                file_hash: "x".into(),
                notice,
                mapping: "{}".into(),
                columns: vec![],
                categories: vec![],
                at: 0,
                rows: 0,
            })
            .unwrap();
        (s, notice, collection)
    }

    fn add(s: &mut SqliteStore, notice: i64, collection: i64, from: usize, to: usize) {
        let mut records = (from..to).map(|i| NewRecord {
            subject: format!("s{i:03}"),
            collected_at: 1_000 + i as i64,
            consented: i as u64 % 4,
            fields: "[]".into(),
        });
        atomic(s, |s| {
            s.insert_records("a", collection, notice, &mut records, &mut |_, _, _| Ok(()))
        })
        .unwrap();
    }

    /// Many small catch-ups add a part each, are merged past MAX_PARTS, and
    /// the snapshot still holds every record and event exactly once.
    #[test]
    fn catch_ups_add_parts_and_merge_without_losing_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, notice, collection) = store(dir.path());
        let snap = SnapshotDir::new(dir.path().join("holdings"));
        let vocab = Vocabulary::embedded();
        for round in 0..(MAX_PARTS + 4) {
            add(&mut s, notice, collection, round * 5, round * 5 + 5);
            let origin = s
                .collected("a", &format!("s{:03}", round * 5))
                .unwrap()
                .unwrap()
                .id;
            s.insert_preferences(&[PreferenceRow {
                record: origin,
                at: 2_000,
                action: "object-direct-marketing".into(),
                purpose: None,
                notice: None,
                source: "t".into(),
                recorded: None,
            }])
            .unwrap();
            let done = snap.catch_up(&mut s, "a").unwrap();
            assert_eq!(
                (done.records, done.events, done.rebuilt),
                (5, 1, round == 0)
            );
        }
        let manifest = snap.manifest().unwrap();
        assert!(manifest.orgs["a"].files.len() <= MAX_PARTS, "{manifest:?}");
        assert!(manifest.events.files.len() <= MAX_PARTS);
        let held = snap.load("a", &vocab).unwrap();
        let n = (MAX_PARTS + 4) * 5;
        assert_eq!((held.len(), held.event_count()), (n, MAX_PARTS + 4));
        let (mut hint, mut rows) = (held.start(), Vec::new());
        for i in 0..n {
            held.rows_of(format!("s{i:03}").as_bytes(), &mut hint, &mut rows);
            assert_eq!(rows.len(), 1, "s{i:03}");
            assert_eq!(held.collected_at(rows[0]), 1_000 + i as i64);
            assert_eq!(held.consented(rows[0]), i as u64 % 4);
            assert_eq!(held.notice(rows[0]), notice);
            assert_eq!(held.events_of(rows[0]).len(), usize::from(i % 5 == 0));
        }
        // Out of order and unknown: the index answers.
        let mut hint = held.start();
        held.rows_of(b"s042", &mut hint, &mut rows);
        assert_eq!(held.collected_at(rows[0]), 1_042);
        held.rows_of(b"nobody", &mut hint, &mut rows);
        assert!(rows.is_empty());
        // Nothing new: nothing read, no part added.
        let done = snap.catch_up(&mut s, "a").unwrap();
        assert_eq!((done.records, done.events), (0, 0));
    }
}
