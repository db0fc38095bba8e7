//! Collecting records under a notice: a CSV file and a mapping that says what
//! each column is. All or nothing: a bad row fails the whole file, naming file,
//! line and field, unless the caller asks to skip bad rows into a rejects file.

use std::path::{Path, PathBuf};

use custody_core::entry::{Commitment, Entry};
use custody_core::mapping::{self, parse_flag, Mapping, MappingSource};
use custody_core::time::{parse_instant, Instant};
use custody_store::{CollectionRow, NewRecord, Store};
use serde::Serialize;

use crate::table::{Format, RowReader};
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
                let mapping_text = std::fs::read_to_string(&mapping_path).map_err(|e| {
                    Error::Invalid(format!(
                        "cannot read the mapping {} ({e}); pass --mapping FILE (see README: Collection mapping)",
                        mapping_path.display()
                    ))
                })?;
                let mapping_file = mapping_path.display().to_string();
                let source = mapping::parse_source(&mapping_file, &mapping_text)?;
                (mapping_file, source)
            }
        };

        let file = spec
            .name
            .map(String::from)
            .unwrap_or_else(|| spec.records.display().to_string());
        let mut reader = RowReader::open(spec.records, Format::of(spec.records, spec.format))?;
        let total = reader.total();
        let header: Vec<String> = reader.header().to_vec();
        let m: Mapping = mapping_source.resolve(&mapping_file, &header, &self.vocab, &notice)?;

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
        let columns: Vec<String> = m.fields.iter().map(|(_, name, _)| name.clone()).collect();
        let categories: Vec<String> = m
            .fields
            .iter()
            .map(|(_, _, t)| self.vocab.term(*t).key.clone())
            .collect();

        progress.start("collecting", total);
        let mut records = Vec::new();
        let mut rejected = 0u64;
        let mut rows = 0u64;
        let mut record = csv::StringRecord::new();
        let mut last_pos = 0u64;
        while reader.read(&mut record)? {
            rows += 1;
            let line = reader.line(&record);
            let pos = reader.position(&record);
            progress.advance(pos.saturating_sub(last_pos));
            last_pos = pos;
            match parse_row(&record, &m, &header, default_at, &notice) {
                Ok(r) => records.push(r),
                Err((field, message)) => match &mut rejects {
                    Some((p, w)) => {
                        rejected += 1;
                        let mut row: Vec<&str> = record.iter().collect();
                        let err = format!("{field}: {message}");
                        row.push(&err);
                        w.write_record(&row).map_err(|e| Error::csv(p, e))?;
                    }
                    None => {
                        return Err(Error::Input {
                            file,
                            line,
                            field,
                            message,
                        })
                    }
                },
            }
        }
        progress.finish();
        if let Some((p, mut w)) = rejects {
            w.flush().map_err(|e| Error::io(p, e))?;
        }
        let file_hash = reader.finish()?;
        let row = CollectionRow {
            id: 0,
            org: spec.org.into(),
            file: file.clone(),
            file_hash,
            notice: notice.id,
            mapping: serde_json::to_string(&m.source).expect("mapping serialises"),
            columns,
            categories,
            at: seconds(now),
            rows: records.len() as i64,
        };
        let (collection, inserted, already) = logged(&mut self.store, &self.signer, |s, log| {
            let id = s.insert_collection(&row)?;
            let key = subject_key(s, spec.org)?;
            // The store reports each record it inserted; entries are made after,
            // since the callback cannot borrow the store twice.
            let mut collected: Vec<(Commitment, i64, u64)> = Vec::with_capacity(records.len());
            let (inserted, already) = s.insert_records(
                spec.org,
                id,
                notice.id,
                &mut records.into_iter(),
                &mut |r| {
                    collected.push((key.commit(&r.subject), r.collected_at, r.consented));
                    Ok(())
                },
            )?;
            s.set_collection_rows(id, inserted as i64)?;
            for (subject, at, consented) in collected {
                let entry = Entry::RecordCollected {
                    at,
                    subject,
                    org: spec.org.into(),
                    collection: id as u64,
                    notice: notice.id as u64,
                    consented,
                };
                log.append(s, &entry)?;
            }
            Ok((id, inserted, already))
        })?;
        Ok(Collected {
            org: spec.org.into(),
            file,
            notice: notice.version.clone(),
            rows,
            inserted,
            already_held: already,
            rejected,
            collection,
        })
    }
}

fn parse_row(
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
    let collected_at = match m.collected_at {
        Some(i) => parse_instant(get(i)).map_err(|e| (header[i].clone(), e.to_string()))?,
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
    Ok(NewRecord {
        subject: subject.to_string(),
        collected_at: seconds(collected_at),
        consented,
        fields: serde_json::to_string(&fields).expect("strings serialise"),
    })
}
