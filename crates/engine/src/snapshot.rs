//! A columnar copy of what an organisation holds, kept in Parquet beside the
//! store: for each record the facts the evaluator reads (subject, notice,
//! collection time, ticked boxes, the disclosure that delivered a copy), and
//! every consent and objection event. Screening a list of millions loads it
//! in a fraction of a second, where reading the same rows out of SQLite
//! takes seconds.
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
use std::sync::Arc;
use std::sync::OnceLock as OnceCell;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use hashbrown::HashTable;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::{Deserialize, Serialize};

use custody_core::preference::{Preference, PreferenceEvent};
use custody_core::vocab::Vocabulary;
use custody_store::{atomic, HoldingsMarks, PreferenceRow, Store};

use crate::holdings::preference_event;
use crate::{instant, Error, Result};

const MANIFEST: &str = "manifest.json";
/// The store setting that names a store, so that a copy is never read
/// against another one.
const STORE_ID: &str = "holdings.store";
/// Parts beyond this many are merged into one at the next catch-up.
const MAX_PARTS: usize = 16;
/// Rows per batch, written or read: memory stays bounded by a few batches.
const PART_BATCH: usize = 1 << 20;

/// Where the copies live: one directory per store.
#[derive(Debug, Clone)]
pub struct SnapshotDir {
    dir: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
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
    /// The copy was made afresh (first use, or another store).
    pub rebuilt: bool,
}

/// One organisation's holdings, in memory, found by subject: about 40
/// bytes a record, so that 87 million fit in a few GiB.
pub struct Held {
    subjects: Vec<u8>,
    /// Row i's subject is `subjects[ends[i - 1]..ends[i]]`.
    ends: Vec<u32>,
    /// Per row, an index into `notices`: few notices, many records.
    notice: Vec<u32>,
    notices: Vec<i64>,
    collected_at: Vec<i64>,
    consented: Vec<u64>,
    /// Rows that are copies, and the disclosure that delivered each.
    received_via: FxHashMap<u32, i64>,
    /// Per row, its collection record's events: an index into `ranges`, or
    /// `NO_EVENTS`.
    event_range: Vec<u32>,
    ranges: Vec<(u32, u32)>,
    /// Every event, grouped by collection record, each group in time order
    /// (ties in id order).
    events: Vec<PreferenceEvent>,
    /// Rows by subject, built at the first lookup that needs it.
    index: OnceCell<Index>,
}

const NO_EVENTS: u32 = u32::MAX;

struct Index {
    /// The first row of each subject.
    first: HashTable<u32>,
    /// Second and later rows of a subject held more than once, by first row.
    more: FxHashMap<u32, Vec<u32>>,
}

impl Held {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn notice(&self, row: u32) -> i64 {
        self.notices[self.notice[row as usize] as usize]
    }

    /// The notices the records were collected under.
    pub fn notices(&self) -> &[i64] {
        &self.notices
    }

    pub fn collected_at(&self, row: u32) -> i64 {
        self.collected_at[row as usize]
    }

    pub fn consented(&self, row: u32) -> u64 {
        self.consented[row as usize]
    }

    /// For a copy, the disclosure that delivered it.
    pub fn received_via(&self, row: u32) -> Option<i64> {
        self.received_via.get(&row).copied()
    }

    pub fn subject(&self, row: u32) -> &[u8] {
        let i = row as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.subjects[start..self.ends[i] as usize]
    }

    /// The rows holding `subject`'s records, in id order, into `out`.
    /// `hint` is the row after the last one found: lists often follow the
    /// holder's own order, and then no hash lookup is needed.
    pub fn rows_of(&self, subject: &[u8], hint: &mut u32, out: &mut Vec<u32>) {
        out.clear();
        // Own records are unique per subject in the store; only copies can
        // repeat one, and then the index is always asked.
        let unique = self.received_via.is_empty();
        if unique && (*hint as usize) < self.len() && self.subject(*hint) == subject {
            out.push(*hint);
            *hint += 1;
            return;
        }
        let index = self.index.get_or_init(|| self.build_index());
        let hash = FxBuildHasher.hash_one(subject);
        if let Some(&first) = index.first.find(hash, |&r| self.subject(r) == subject) {
            out.push(first);
            out.extend(index.more.get(&first).into_iter().flatten());
            *hint = first + 1;
        }
    }

    /// The events of row `row`'s collection record.
    pub fn events_of(&self, row: u32) -> &[PreferenceEvent] {
        match self.event_range[row as usize] {
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

    fn push_subject(&mut self, s: &[u8]) -> Result<()> {
        self.subjects.extend_from_slice(s);
        let end = u32::try_from(self.subjects.len()).map_err(|_| {
            Error::Invalid("more than 4 GiB of subject identifiers in one snapshot".into())
        })?;
        self.ends.push(end);
        Ok(())
    }

    fn build_index(&self) -> Index {
        let mut first = HashTable::with_capacity(self.len());
        let mut more: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for row in 0..self.len() as u32 {
            let s = self.subject(row);
            let hash = FxBuildHasher.hash_one(s);
            match first.find(hash, |&r| self.subject(r) == s) {
                Some(&f) => more.entry(f).or_default().push(row),
                None => {
                    first.insert_unique(hash, row, |&r| FxBuildHasher.hash_one(self.subject(r)));
                }
            }
        }
        Index { first, more }
    }

    /// Groups `events` (origin, event; in id order) by origin and points
    /// each row (whose collection record is `origin[row]`) at its group.
    fn attach_events(
        &mut self,
        origin: &[i64],
        mut events: Vec<(i64, PreferenceEvent)>,
    ) -> Result<()> {
        // Stable: within a record, ties in time stay in id order.
        events.sort_by_key(|(origin, e)| (*origin, e.at));
        let mut groups: Vec<(i64, u32, u32)> = Vec::new();
        for (i, (origin, _)) in events.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.0 == *origin => g.2 = i as u32 + 1,
                _ => groups.push((*origin, i as u32, i as u32 + 1)),
            }
        }
        if events.len() >= NO_EVENTS as usize {
            return Err(Error::Invalid("too many events for one snapshot".into()));
        }
        // Rows mostly come in origin order: walk both, and search only
        // where a row goes back.
        let (mut cursor, mut previous) = (0usize, i64::MIN);
        self.event_range = origin
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
        let behind = |p: &Parts, mark: i64| p.through > mark;
        if manifest.store != store_id
            || behind(&manifest.events, marks.events)
            || manifest
                .orgs
                .get(org)
                .is_some_and(|p| behind(p, marks.records))
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
                store: store_id,
                ..Manifest::default()
            };
            done.rebuilt = true;
        }

        let parts = manifest.orgs.entry(org.to_string()).or_default();
        if marks.records > parts.through {
            let file = format!("records-{}-{}.parquet", file_safe(org), marks.records);
            let mut part = PartFile::create(self, &file)?;
            let mut rows = RecordColumns::default();
            store.for_each_held_after(org, parts.through, &mut |h| {
                rows.push(h);
                done.records += 1;
                if rows.subject.len() == PART_BATCH {
                    part.write(std::mem::take(&mut rows).batch())
                        .map_err(|e| custody_store::StoreError::Corrupt(e.to_string()))?;
                }
                Ok(())
            })?;
            part.write(rows.batch())?;
            part.finish()?;
            parts.files.push(file);
            parts.through = marks.records;
            if parts.files.len() > MAX_PARTS {
                let merged = format!("records-{}-{}-all.parquet", file_safe(org), marks.records);
                self.merge(parts, merged)?;
            }
        }
        let parts = &mut manifest.events;
        if marks.events > parts.through {
            let file = format!("events-{}.parquet", marks.events);
            let mut part = PartFile::create(self, &file)?;
            let mut rows = EventColumns::default();
            store.for_each_preference_after(parts.through, &mut |id, p| {
                rows.push(id, p);
                done.events += 1;
                if rows.id.len() == PART_BATCH {
                    part.write(std::mem::take(&mut rows).batch())
                        .map_err(|e| custody_store::StoreError::Corrupt(e.to_string()))?;
                }
                Ok(())
            })?;
            part.write(rows.batch())?;
            part.finish()?;
            parts.files.push(file);
            parts.through = marks.events;
            if parts.files.len() > MAX_PARTS {
                self.merge(parts, format!("events-{}-all.parquet", marks.events))?;
            }
        }
        self.write_manifest(&manifest)?;
        Ok(done)
    }

    /// `org`'s holdings as of the last catch-up.
    pub fn load(&self, org: &str, vocab: &Vocabulary) -> Result<Held> {
        let manifest = self.manifest()?;
        let mut held = Held {
            subjects: Vec::new(),
            ends: Vec::new(),
            notice: Vec::new(),
            notices: Vec::new(),
            collected_at: Vec::new(),
            consented: Vec::new(),
            received_via: FxHashMap::default(),
            event_range: Vec::new(),
            ranges: Vec::new(),
            events: Vec::new(),
            index: OnceCell::new(),
        };
        // The events decode on another core while the records do.
        let (origin, events) = std::thread::scope(|scope| -> Result<_> {
            let events = scope.spawn(|| self.load_events(&manifest, vocab));
            let origin = self.load_records(&manifest, org, &mut held)?;
            let events = events
                .join()
                .map_err(|_| Error::Invalid("loading the snapshot's events failed".into()))??;
            Ok((origin, events))
        })?;
        held.attach_events(&origin, events)?;
        Ok(held)
    }

    /// Fills `held` with `org`'s records; returns each row's collection
    /// record, which places its events.
    fn load_records(&self, manifest: &Manifest, org: &str, held: &mut Held) -> Result<Vec<i64>> {
        let mut origin = Vec::new();
        let mut notice_ix: FxHashMap<i64, u32> = FxHashMap::default();
        for file in manifest
            .orgs
            .get(org)
            .map(|p| p.files.as_slice())
            .unwrap_or(&[])
        {
            for batch in self.read_part(file)? {
                let batch = batch?;
                let col = |name: &str| -> Result<&Int64Array> {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_primitive_opt::<Int64Type>())
                        .ok_or_else(|| self.corrupt(file, &format!("no Int64 column `{name}`")))
                };
                let subjects = batch
                    .column_by_name("subject")
                    .and_then(|c| c.as_string_opt::<i32>())
                    .ok_or_else(|| self.corrupt(file, "no string column `subject`"))?;
                let first = held.len() as u32;
                for s in subjects.iter() {
                    held.push_subject(s.unwrap_or("").as_bytes())?;
                }
                origin.extend(col("origin")?.values());
                for &n in col("notice")?.values().iter() {
                    let next = held.notices.len() as u32;
                    let ix = *notice_ix.entry(n).or_insert(next);
                    if ix == next {
                        held.notices.push(n);
                    }
                    held.notice.push(ix);
                }
                held.collected_at.extend(col("collected_at")?.values());
                held.consented
                    .extend(col("consented")?.values().iter().map(|c| *c as u64));
                let via = col("received_via")?;
                for i in 0..via.len() {
                    if !via.is_null(i) {
                        held.received_via.insert(first + i as u32, via.value(i));
                    }
                }
            }
        }
        Ok(origin)
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
                let batch = batch?;
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
        self.write_atomically(MANIFEST, |f| {
            use std::io::Write;
            f.write_all(&json)
        })
    }

    /// Writes `name` in full under a temporary name, then renames it, so
    /// that a copy is never seen half-written.
    fn write_atomically(
        &self,
        name: &str,
        write: impl FnOnce(&mut File) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = self.dir.join(name);
        let mut tmp = tempfile::Builder::new()
            .prefix(".custody-")
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))?;
        write(tmp.as_file_mut()).map_err(|e| Error::io(&path, e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }

    /// The batches of part `name`, one at a time.
    fn read_part<'a>(
        &'a self,
        name: &'a str,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + 'a> {
        let path = self.dir.join(name);
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        Ok(ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.with_batch_size(PART_BATCH).build())
            .map_err(|e| self.corrupt(name, &e.to_string()))?
            .map(move |b| b.map_err(|e| self.corrupt(name, &e.to_string()))))
    }

    /// Replaces `parts` by one file holding them all, batch by batch.
    fn merge(&self, parts: &mut Parts, name: String) -> Result<()> {
        let mut merged = PartFile::create(self, &name)?;
        for f in &parts.files {
            for batch in self.read_part(f)? {
                merged.write(batch?)?;
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

/// A part being written: batches go into a temporary file, which takes
/// the part's name only when complete, so a part is never seen half-written.
struct PartFile<'d> {
    dir: &'d SnapshotDir,
    name: String,
    tmp: tempfile::NamedTempFile,
    writer: Option<ArrowWriter<File>>,
}

impl<'d> PartFile<'d> {
    fn create(dir: &'d SnapshotDir, name: &str) -> Result<PartFile<'d>> {
        let tmp = tempfile::Builder::new()
            .prefix(".custody-")
            .tempfile_in(&dir.dir)
            .map_err(|e| Error::io(&dir.dir, e))?;
        Ok(PartFile {
            dir,
            name: name.to_string(),
            tmp,
            writer: None,
        })
    }

    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let bad = |e: parquet::errors::ParquetError| self.dir.corrupt(&self.name, &e.to_string());
        if self.writer.is_none() {
            let f = self
                .tmp
                .reopen()
                .map_err(|e| Error::io(self.tmp.path(), e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            self.writer = Some(ArrowWriter::try_new(f, batch.schema(), Some(props)).map_err(bad)?);
        }
        let w = self.writer.as_mut().expect("made above");
        w.write(&batch).map_err(bad)
    }

    fn finish(self) -> Result<()> {
        if let Some(w) = self.writer {
            w.close()
                .map_err(|e| self.dir.corrupt(&self.name, &e.to_string()))?;
        }
        let path = self.dir.dir.join(&self.name);
        self.tmp
            .persist(&path)
            .map_err(|e| Error::io(&path, e.error))?;
        Ok(())
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

#[derive(Default)]
struct RecordColumns {
    subject: Vec<String>,
    id: Vec<i64>,
    origin: Vec<i64>,
    notice: Vec<i64>,
    collected_at: Vec<i64>,
    consented: Vec<i64>,
    received_via: Vec<Option<i64>>,
}

impl RecordColumns {
    fn push(&mut self, h: &custody_store::HeldRecord) {
        self.subject.push(h.subject.to_string());
        self.id.push(h.id);
        self.origin.push(h.origin);
        self.notice.push(h.notice);
        self.collected_at.push(h.collected_at);
        self.consented.push(h.consented as i64);
        self.received_via.push(h.received_via);
    }

    fn batch(self) -> RecordBatch {
        let int = |n: &str| Field::new(n, DataType::Int64, false);
        let schema = Schema::new(vec![
            Field::new("subject", DataType::Utf8, false),
            int("id"),
            int("origin"),
            int("notice"),
            int("collected_at"),
            int("consented"),
            Field::new("received_via", DataType::Int64, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.subject)),
            Arc::new(Int64Array::from(self.id)),
            Arc::new(Int64Array::from(self.origin)),
            Arc::new(Int64Array::from(self.notice)),
            Arc::new(Int64Array::from(self.collected_at)),
            Arc::new(Int64Array::from(self.consented)),
            Arc::new(Int64Array::from(self.received_via)),
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
