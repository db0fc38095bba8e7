//! Collecting records under a notice: a CSV file and a mapping that says what
//! each column is. All or nothing: a bad row fails the whole file, naming file,
//! line and field, unless the caller asks to skip bad rows into a rejects file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use custody_core::entry::{Entry, SubjectKey};
use custody_core::mapping::{self, parse_flag, Mapping, MappingSource};
use custody_core::text::{field_problem, identifier_problem, MAPPING_LIMIT};
use custody_core::time::{check_claimed, parse_instant, Instant};
use custody_store::{CollectionRow, NewRecord, Offered, Store};
use serde::Serialize;
use sha2::Digest;

use crate::log::sequencer::Prepared;
use crate::table::{file_hash, Format, RowReader};
use crate::{logged, seconds, subject_key, Engine, Error, Progress, Result};

pub struct CollectSpec<'a> {
    pub org: &'a str,
    pub records: &'a Path,
    /// Default: `<records without extension>.mapping.toml`.
    pub mapping: Option<&'a Path>,
    /// A mapping already parsed; takes the place of the `mapping` file.
    pub mapping_source: Option<&'a MappingSource>,
    /// The name recorded for the file and shown in errors; default: its path.
    pub name: Option<&'a str>,
    pub notice: &'a str,
    /// For rows without a collection column; default: now.
    pub collected_at: Option<Instant>,
    /// Write bad rows here instead of failing.
    pub rejects: Option<&'a Path>,
    /// CSV or Parquet; default: by the file's extension.
    pub format: Option<Format>,
}

#[derive(Debug, Serialize)]
pub struct Collected {
    pub org: String,
    pub file: String,
    pub notice: String,
    pub rows: u64,
    pub inserted: u64,
    pub already_held: u64,
    pub rejected: u64,
    pub collection: i64,
    /// Columns collected as a data category no declaration of the notice
    /// covers: data people were not told about (UK GDPR Art 13(1)(c)).
    pub undeclared: Vec<Undeclared>,
}

/// A column whose data category the notice does not declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    pub column: String,
    pub category: String,
}

pub fn default_mapping_path(records: &Path) -> PathBuf {
    records.with_extension("mapping.toml")
}

impl<S: Store> Engine<S> {
    pub fn collect(&mut self, spec: &CollectSpec, progress: &dyn Progress) -> Result<Collected> {
        self.org(spec.org)?;
        let notice = self.notice(spec.org, Some(spec.notice))?;
        let (mapping_file, mapping_source) = match spec.mapping_source {
            Some(m) => ("mapping".to_string(), m.clone()),
            None => {
                let mapping_path = spec
                    .mapping
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| default_mapping_path(spec.records));
                if let Err(e) = std::fs::metadata(&mapping_path) {
                    return Err(Error::Invalid(format!(
                        "cannot read the mapping {} ({e}); pass --mapping FILE (see README: Collection mapping)",
                        mapping_path.display()
                    )));
                }
                let mapping_text =
                    crate::input::read_text(&mapping_path, MAPPING_LIMIT, "a mapping")?;
                let mapping_file = mapping_path.display().to_string();
                let source = mapping::parse_source(&mapping_file, &mapping_text)?;
                (mapping_file, source)
            }
        };

        let file = spec
            .name
            .map(String::from)
            .unwrap_or_else(|| spec.records.display().to_string());
        let format = Format::of(spec.records, spec.format);
        let reader = RowReader::open(spec.records, format)?;
        let total = reader.total();
        let header: Vec<String> = reader.header().to_vec();
        let m: Mapping = mapping_source.resolve(&mapping_file, &header, &self.vocab, &notice)?;
        let undeclared: Vec<Undeclared> = m
            .fields
            .iter()
            .filter(|(_, _, category)| {
                !notice.declarations.iter().any(|d| {
                    d.categories
                        .iter()
                        .any(|c| self.vocab.covers_category(*c, *category))
                })
            })
            .map(|(_, column, category)| Undeclared {
                column: column.clone(),
                category: self.vocab.term(*category).key.clone(),
            })
            .collect();

        let mut rejects = match spec.rejects {
            Some(p) => {
                let mut w = csv::Writer::from_path(p).map_err(|e| Error::csv(p, e))?;
                let mut h = header.clone();
                h.push("error".into());
                w.write_record(&h).map_err(|e| Error::csv(p, e))?;
                Some((p, w))
            }
            None => None,
        };
        let now = chrono::Utc::now();
        let default_at = spec.collected_at.unwrap_or(now);
        custody_core::time::check_claimed(&default_at, &now).map_err(|message| Error::Field {
            field: "collected_at".into(),
            message,
        })?;
        let columns: Vec<String> = m.fields.iter().map(|(_, name, _)| name.clone()).collect();
        let categories: Vec<String> = m
            .fields
            .iter()
            .map(|(_, _, t)| self.vocab.term(*t).key.clone())
            .collect();

        // The collection row names the file by its hash before any record
        // refers to it.
        let row = CollectionRow {
            id: 0,
            org: spec.org.into(),
            file: file.clone(),
            file_hash: file_hash(spec.records)?,
            notice: notice.id,
            mapping: serde_json::to_string(&m.source).expect("mapping serialises"),
            columns,
            categories,
            at: seconds(now),
            rows: 0,
        };
        progress.start("collecting", total);
        let mut parse = Parse {
            path: spec.records,
            format,
            file: &file,
            header: &header,
            mapping: &m,
            default_at,
            notice: &notice,
            org: spec.org,
            recorded: 0,
        };
        // One core reads, parses, commits to subjects and hashes entries, a
        // chunk at a time; this one stores them. Memory holds a few chunks,
        // however large the file; the transaction makes it all or nothing.
        let (collection, inserted, already, rows, rejected) =
            logged(&mut self.store, &self.signer, |s, log| {
                let id = s.insert_collection(&row)?;
                let key = subject_key(s, spec.org)?;
                parse.recorded = log.recorded();
                let parse = &parse;
                let (inserted, already, rows, rejected, repeats) = std::thread::scope(|scope| {
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<ParsedChunk>>(2);
                    let reading = scope.spawn(|| parse.chunks(reader, &mut rejects, &key, id, tx));
                    let (mut inserted, mut already) = (0u64, 0u64);
                    let mut repeats = Repeats::default();
                    let mut last_pos = 0;
                    for chunk in rx {
                        let ParsedChunk {
                            records,
                            lines,
                            mut entries,
                            pos,
                        } = chunk?;
                        let mut keep = vec![false; records.len()];
                        let (i, a) = s.insert_records(
                            spec.org,
                            id,
                            notice.id,
                            &mut records.into_iter(),
                            &mut |at, r, offered| {
                                match offered {
                                    Offered::Stored => keep[at] = true,
                                    Offered::AlreadyHeld { collection }
                                        if collection == Some(id) =>
                                    {
                                        repeats.later.push((lines[at], r.subject.clone()))
                                    }
                                    Offered::AlreadyHeld { .. } => {}
                                }
                                Ok(())
                            },
                        )?;
                        inserted += i;
                        already += a;
                        if spec.rejects.is_none() && !repeats.later.is_empty() {
                            return Err(repeats.error(parse)?);
                        }
                        entries.retain(&keep);
                        log.append_prepared(s, entries)?;
                        progress.advance(pos.saturating_sub(last_pos));
                        last_pos = pos;
                    }
                    let (rows, rejected) = reading.join().expect("reading does not panic")?;
                    Ok((inserted, already, rows, rejected, repeats))
                })?;
                if let Some((p, w)) = &mut rejects {
                    repeats.reject(parse, p, w)?;
                }
                let repeated = repeats.later.len() as u64;
                s.set_collection_rows(id, inserted as i64)?;
                log.append(s, &collection_entry(id, &row, inserted))?;
                Ok((id, inserted, already - repeated, rows, rejected + repeated))
            })?;
        progress.finish();
        if let Some((p, mut w)) = rejects {
            w.flush().map_err(|e| Error::io(p, e))?;
        }
        Ok(Collected {
            org: spec.org.into(),
            file,
            notice: notice.version.clone(),
            rows,
            inserted,
            already_held: already,
            rejected,
            collection,
            undeclared,
        })
    }
}

/// The log entry of a collection row, once it knows how many records it added.
fn collection_entry(id: i64, row: &CollectionRow, rows: u64) -> Entry {
    Entry::CollectionRecorded {
        at: row.at,
        collection: id as u64,
        org: row.org.clone(),
        file: row.file.clone(),
        file_hash: row.file_hash.clone(),
        notice: row.notice as u64,
        mapping: sha2::Sha256::digest(row.mapping.as_bytes()).into(),
        columns: row.columns.clone(),
        categories: row.categories.clone(),
        rows,
    }
}

/// Records parsed and their log entries prepared, up to this many per chunk.
const CHUNK: usize = 1 << 16;

/// A chunk of parsed records, the entry each gets if the store takes it,
/// and how far into the file it reaches (in the reader's progress unit).
struct ParsedChunk {
    records: Vec<NewRecord>,
    /// The line of each record.
    lines: Vec<u64>,
    entries: Prepared,
    pos: u64,
}

/// How to read one file's rows into records.
struct Parse<'a> {
    path: &'a Path,
    format: Format,
    file: &'a str,
    header: &'a [String],
    mapping: &'a Mapping,
    default_at: Instant,
    notice: &'a custody_core::Notice,
    org: &'a str,
    /// The sequencer's [`Sequencer::recorded`](crate::log::sequencer::Sequencer::recorded).
    recorded: i64,
}

type Rejects<'p> = Option<(&'p Path, csv::Writer<std::fs::File>)>;

impl Parse<'_> {
    /// Sends the file's records in chunks; returns (rows read, rows rejected).
    /// A bad row ends it with an error, unless `rejects` takes bad rows.
    fn chunks(
        &self,
        mut reader: RowReader,
        rejects: &mut Rejects,
        key: &SubjectKey,
        collection: i64,
        tx: std::sync::mpsc::SyncSender<Result<ParsedChunk>>,
    ) -> Result<(u64, u64)> {
        let (mut rows, mut rejected) = (0u64, 0u64);
        let mut record = csv::StringRecord::new();
        let mut records = Vec::with_capacity(CHUNK);
        let mut lines = Vec::with_capacity(CHUNK);
        let mut more = true;
        while more {
            let mut pos = 0;
            while records.len() < CHUNK {
                more = reader.read(&mut record)?;
                if !more {
                    break;
                }
                rows += 1;
                pos = reader.position(&record);
                match parse_row(
                    &record,
                    self.mapping,
                    self.header,
                    self.default_at,
                    self.notice,
                ) {
                    Ok(r) => {
                        records.push(r);
                        lines.push(reader.line(&record));
                    }
                    Err((field, message)) => match rejects {
                        Some((p, w)) => {
                            rejected += 1;
                            let mut row: Vec<&str> = record.iter().collect();
                            let err = format!("{field}: {message}");
                            row.push(&err);
                            w.write_record(&row).map_err(|e| Error::csv(p, e))?;
                        }
                        None => {
                            let e = Error::Input {
                                file: self.file.to_string(),
                                line: reader.line(&record),
                                field,
                                message,
                            };
                            // The store's side reports it and rolls back.
                            let _ = tx.send(Err(e));
                            return Ok((rows, rejected));
                        }
                    },
                }
            }
            if records.is_empty() {
                break;
            }
            let entries = Prepared::new(
                self.recorded,
                records.iter().map(|r| {
                    Ok(Entry::RecordCollected {
                        at: r.collected_at,
                        subject: key.commit(&r.subject),
                        org: self.org.into(),
                        collection: collection as u64,
                        notice: self.notice.id as u64,
                        consented: r.consented,
                        fields: Some(key.digest_fields(&r.fields)),
                    })
                }),
            )?;
            let chunk = ParsedChunk {
                records: std::mem::replace(&mut records, Vec::with_capacity(CHUNK)),
                lines: std::mem::replace(&mut lines, Vec::with_capacity(CHUNK)),
                entries,
                pos,
            };
            if tx.send(Ok(chunk)).is_err() {
                break; // the store's side failed and says why
            }
        }
        Ok((rows, rejected))
    }
}

/// Subjects a file gives more than once. The first line of each is
/// collected; a later one fails the file naming both lines, or is set aside
/// as a reject under --skip-bad. The store's index finds them (a subject
/// already held from this very collection), so collecting keeps nothing in
/// memory for it; the first lines are found by reading the file again,
/// which only a file with repeats pays for.
#[derive(Default)]
struct Repeats {
    /// The line and subject of each later occurrence, in the order found.
    later: Vec<(u64, String)>,
}

impl Repeats {
    /// The error for the first repeat.
    fn error(&self, parse: &Parse) -> Result<Error> {
        let (line, subject) = &self.later[0];
        let (first, _) = self.reread(parse)?;
        Ok(Error::Input {
            file: parse.file.to_string(),
            line: *line,
            field: parse.header[parse.mapping.subject].clone(),
            message: repeated(subject, first.get(subject)),
        })
    }

    /// Writes each later occurrence to the rejects file, as it was read.
    fn reject(&self, parse: &Parse, path: &Path, w: &mut csv::Writer<std::fs::File>) -> Result<()> {
        if self.later.is_empty() {
            return Ok(());
        }
        let (first, rows) = self.reread(parse)?;
        for (line, subject) in &self.later {
            let mut row = rows.get(line).cloned().unwrap_or_default();
            row.push(format!(
                "{}: {}",
                parse.header[parse.mapping.subject],
                repeated(subject, first.get(subject))
            ));
            w.write_record(&row).map_err(|e| Error::csv(path, e))?;
        }
        Ok(())
    }

    /// Reads the file again for the first good line of each repeated
    /// subject, and the rows of the later lines.
    #[allow(clippy::type_complexity)]
    fn reread(&self, parse: &Parse) -> Result<(HashMap<String, u64>, HashMap<u64, Vec<String>>)> {
        let subjects: HashSet<&str> = self.later.iter().map(|(_, s)| s.as_str()).collect();
        let later: HashSet<u64> = self.later.iter().map(|(l, _)| *l).collect();
        let (mut first, mut rows) = (HashMap::new(), HashMap::new());
        let mut reader = RowReader::open(parse.path, parse.format)?;
        let mut record = csv::StringRecord::new();
        while reader.read(&mut record)? {
            let line = reader.line(&record);
            if later.contains(&line) {
                rows.insert(line, record.iter().map(String::from).collect());
                continue;
            }
            let m = parse.mapping;
            if let Ok(r) = parse_row(&record, m, parse.header, parse.default_at, parse.notice) {
                if subjects.contains(r.subject.as_str()) {
                    first.entry(r.subject).or_insert(line);
                }
            }
        }
        Ok((first, rows))
    }
}

fn repeated(subject: &str, first: Option<&u64>) -> String {
    let on = first.map_or_else(|| "an earlier line".to_string(), |l| format!("line {l}"));
    format!(
        "subject `{}` is also on {on}: a file gives each person once (with --skip-bad, the later lines are set aside)",
        custody_core::text::printable(subject)
    )
}

/// One row of a records file as the record it becomes, or the field that is
/// wrong and why: the pure step of [`Engine::collect`], which the fuzz
/// targets `records_csv` and `records_parquet` drive.
pub fn parse_row(
    record: &csv::StringRecord,
    m: &Mapping,
    header: &[String],
    default_at: Instant,
    notice: &custody_core::Notice,
) -> std::result::Result<NewRecord, (String, String)> {
    let get = |i: usize| record.get(i).unwrap_or("");
    let subject = get(m.subject).trim();
    if subject.is_empty() {
        return Err((
            header[m.subject].clone(),
            "the subject identifier is empty".into(),
        ));
    }
    if let Some(problem) = identifier_problem(subject) {
        return Err((
            header[m.subject].clone(),
            format!("the subject identifier {problem}"),
        ));
    }
    let collected_at = match m.collected_at {
        Some(i) => {
            let at = parse_instant(get(i)).map_err(|e| (header[i].clone(), e.to_string()))?;
            check_claimed(&at, &chrono::Utc::now()).map_err(|e| (header[i].clone(), e))?;
            at
        }
        None => default_at,
    };
    if collected_at < notice.effective {
        let field = m
            .collected_at
            .map(|i| header[i].clone())
            .unwrap_or_else(|| "collected_at".into());
        return Err((
            field,
            format!(
                "collected {} but notice {} took effect only on {}",
                collected_at.date_naive(),
                notice.version,
                notice.effective_text()
            ),
        ));
    }
    let mut consented = 0u64;
    for &(i, decl) in &m.consents {
        if parse_flag(get(i)).map_err(|e| (header[i].clone(), e))? {
            consented |= 1 << decl;
        }
    }
    let fields: Vec<&str> = m.fields.iter().map(|(i, _, _)| get(*i)).collect();
    for ((i, _, _), value) in m.fields.iter().zip(&fields) {
        if let Some(problem) = field_problem(value) {
            return Err((header[*i].clone(), format!("the value {problem}")));
        }
    }
    Ok(NewRecord {
        subject: subject.to_string(),
        collected_at: seconds(collected_at),
        consented,
        fields: serde_json::to_string(&fields).expect("strings serialise"),
    })
}
