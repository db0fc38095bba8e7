//! Tabular files, CSV or Apache Parquet, read and written as rows of text:
//! records to collect, subject lists, and the allowed and refused sets a
//! disclosure writes. Both stream: memory stays bounded by one batch.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use custody_core::text::ROW_LIMIT;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

pub mod plain;

use crate::{Error, Result};

/// Rows per Parquet batch, read or written.
const BATCH: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The format `given`, else the one the file's extension names (`.parquet`
    /// or `.pq`), else CSV.
    pub fn of(path: &Path, given: Option<Format>) -> Format {
        given.unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq") => {
                Format::Parquet
            }
            _ => Format::Csv,
        })
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            other => Err(format!("unknown format `{other}` (csv, parquet)")),
        }
    }
}

/// What the CSV reader buffers ahead of the row it is reading.
const CSV_BUFFER: usize = 1 << 20;

/// Input read for CSV that stops feeding a row past [`ROW_LIMIT`]: the csv
/// crate grows a record to fit whatever it is given, and `collect
/// /dev/zero` grew past 1.7 GB. Memory stays under the limit plus the
/// reader's buffer. [`RowLimit`] is its other half, beside the reader.
pub(crate) struct Bounded<R> {
    file: R,
    /// Bytes handed to the CSV reader so far.
    read: u64,
    /// Where the row being read began, set by [`RowLimit::row_read`].
    row_start: Arc<AtomicU64>,
    /// Whether a row ran past the limit.
    tripped: Arc<AtomicBool>,
}

/// What a CSV reader over [`Bounded`] input keeps to enforce the limit, and
/// to count lines when the csv crate does not (it counts `\n`, so a file
/// ended in bare carriage returns would be all line 1).
#[derive(Default)]
pub(crate) struct RowLimit {
    row_start: Arc<AtomicU64>,
    tripped: Arc<AtomicBool>,
    /// The line of the row last read.
    line: u64,
}

impl<R: Read> Bounded<R> {
    /// `input`, and the limit to check rows against as they are read.
    pub(crate) fn new(input: R) -> (Bounded<R>, RowLimit) {
        let limit = RowLimit {
            line: 1,
            ..RowLimit::default()
        };
        let bounded = Bounded {
            file: input,
            read: 0,
            row_start: Arc::clone(&limit.row_start),
            tripped: Arc::clone(&limit.tripped),
        };
        (bounded, limit)
    }
}

impl RowLimit {
    /// Why a read of the header failed: the limit, or `e` itself.
    pub(crate) fn header_read<R: Read>(
        &mut self,
        reader: &csv::Reader<Bounded<R>>,
        read: std::result::Result<(), csv::Error>,
    ) -> std::result::Result<(), Option<csv::Error>> {
        match read {
            Err(_) if self.tripped.load(Ordering::Relaxed) => Err(None),
            Err(e) => Err(Some(e)),
            Ok(()) if self.row_read(reader, 0) => Ok(()),
            Ok(()) => Err(None),
        }
    }

    /// After a row beginning at byte `start` was read: whether it kept
    /// within the limit.
    pub(crate) fn row_read<R: Read>(
        &mut self,
        reader: &csv::Reader<Bounded<R>>,
        start: u64,
    ) -> bool {
        let end = reader.position().byte();
        self.row_start.store(end, Ordering::Relaxed);
        end - start <= ROW_LIMIT as u64
    }

    /// Where the next row begins, to pass to [`row_read`](Self::row_read).
    pub(crate) fn start(&self) -> u64 {
        self.row_start.load(Ordering::Relaxed)
    }

    /// Whether the read that failed stopped at the limit.
    pub(crate) fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Relaxed)
    }

    /// The line of `record`, just read: the csv crate's count, or one past
    /// the last row where that count did not move (bare carriage returns).
    pub(crate) fn line_of(&mut self, record: &csv::StringRecord) -> u64 {
        let counted = record.position().map_or(0, |p| p.line());
        self.line = counted.max(self.line + 1);
        self.line
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = self.row_start.load(Ordering::Relaxed);
        if self.read.saturating_sub(start) > (ROW_LIMIT + CSV_BUFFER) as u64 {
            self.tripped.store(true, Ordering::Relaxed);
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a row past the limit",
            ));
        }
        let n = self.file.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The error for a row longer than [`ROW_LIMIT`], starting on `line`.
pub(crate) fn row_too_long(path: &Path, line: u64) -> Error {
    Error::Input {
        file: path.display().to_string(),
        line,
        field: "-".into(),
        message: format!(
            "this row is longer than {} MiB, the most custody reads as one row (README: Limits); is a closing quote missing?",
            ROW_LIMIT >> 20
        ),
    }
}

/// Rows of a CSV or Parquet file, as text. Parquet values print as arrow
/// displays them (dates as `2017-02-01`); nulls are empty.
pub struct RowReader {
    path: std::path::PathBuf,
    header: Vec<String>,
    inner: Inner,
    /// Rows read so far.
    rows: u64,
}

enum Inner {
    Csv {
        reader: csv::Reader<Bounded<File>>,
        limit: RowLimit,
    },
    Parquet {
        batches: ParquetRecordBatchReader,
        columns: Vec<Vec<String>>,
        next: usize,
        total: u64,
    },
}

impl RowReader {
    pub fn open(path: &Path, format: Format) -> Result<RowReader> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let (header, inner) = match format {
            Format::Csv => {
                let (file, mut limit) = Bounded::new(f);
                let mut reader = csv::ReaderBuilder::new()
                    .buffer_capacity(CSV_BUFFER)
                    .from_reader(file);
                let read = reader.headers().map(|_| ());
                match limit.header_read(&reader, read) {
                    Ok(()) => {}
                    Err(None) => return Err(row_too_long(path, 1)),
                    Err(Some(e)) => return Err(Error::csv(path, e)),
                }
                let header = reader
                    .headers()
                    .map_err(|e| Error::csv(path, e))?
                    .iter()
                    .map(str::to_string)
                    .collect();
                (header, Inner::Csv { reader, limit })
            }
            Format::Parquet => {
                let bad = |e: parquet::errors::ParquetError| Error::Input {
                    file: path.display().to_string(),
                    line: 0,
                    field: "-".into(),
                    message: format!("not a readable Parquet file: {e}"),
                };
                // Types come from the Parquet schema alone: the Arrow schema
                // a writer may embed adds nothing to rows read as text, and
                // the parquet crate panics on some damaged ones (found by
                // the fuzz target records_parquet).
                let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
                let builder = parquet_step(|| {
                    ParquetRecordBatchReaderBuilder::try_new_with_options(f, options)
                })
                .map_err(|message| Error::Input {
                    file: path.display().to_string(),
                    line: 0,
                    field: "-".into(),
                    message: format!("not a readable Parquet file: {message}"),
                })?
                .map_err(bad)?;
                let total = builder.metadata().file_metadata().num_rows().max(0) as u64;
                let header = builder
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let batches = builder.with_batch_size(BATCH).build().map_err(bad)?;
                (
                    header,
                    Inner::Parquet {
                        batches,
                        columns: Vec::new(),
                        next: 0,
                        total,
                    },
                )
            }
        };
        Ok(RowReader {
            path: path.to_path_buf(),
            header,
            inner,
            rows: 0,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// What progress counts in: bytes of a CSV file, rows of a Parquet one.
    pub fn total(&self) -> Option<u64> {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.get_ref().file.metadata().ok().map(|m| m.len()),
            Inner::Parquet { total, .. } => Some(*total),
        }
    }

    /// Progress so far, in the unit of [`total`](Self::total).
    pub fn position(&self, record: &csv::StringRecord) -> u64 {
        match &self.inner {
            Inner::Csv { .. } => record.position().map_or(0, |p| p.byte()),
            Inner::Parquet { .. } => self.rows,
        }
    }

    /// The line of the last row read, the header being line 1 (for Parquet,
    /// the row number plus one, so both formats count alike).
    pub fn line(&self, record: &csv::StringRecord) -> u64 {
        match &self.inner {
            Inner::Csv { limit, .. } => {
                let _ = record;
                limit.line
            }
            Inner::Parquet { .. } => self.rows + 1,
        }
    }

    /// Reads the next row into `record`; false at the end.
    pub fn read(&mut self, record: &mut csv::StringRecord) -> Result<bool> {
        let path = self.path.clone();
        match &mut self.inner {
            Inner::Csv { reader, limit } => {
                let start = limit.start();
                let more = match reader.read_record(record) {
                    Ok(more) => more,
                    Err(_) if limit.tripped() => return Err(row_too_long(&path, limit.line + 1)),
                    Err(e) => return Err(Error::csv_in(&path, e, &self.header)),
                };
                if !more {
                    return Ok(false);
                }
                let line = limit.line_of(record);
                if !limit.row_read(reader, start) {
                    return Err(row_too_long(&path, line));
                }
                self.rows += 1;
                Ok(true)
            }
            Inner::Parquet {
                batches,
                columns,
                next,
                ..
            } => {
                if columns.first().is_none_or(|c| *next >= c.len()) {
                    let step = parquet_step(|| batches.next()).map_err(|message| Error::Input {
                        file: path.display().to_string(),
                        line: self.rows + 2,
                        field: "-".into(),
                        message,
                    })?;
                    match step {
                        None => return Ok(false),
                        Some(batch) => {
                            let batch = batch.map_err(|e| Error::Input {
                                file: path.display().to_string(),
                                line: self.rows + 2,
                                field: "-".into(),
                                message: e.to_string(),
                            })?;
                            *columns = as_text(&batch).map_err(|e| Error::Input {
                                file: path.display().to_string(),
                                line: self.rows + 2,
                                field: "-".into(),
                                message: e,
                            })?;
                            *next = 0;
                            if columns.first().is_none_or(|c| c.is_empty()) {
                                return Ok(false);
                            }
                        }
                    }
                }
                record.clear();
                for c in columns.iter() {
                    record.push_field(&c[*next]);
                }
                *next += 1;
                self.rows += 1;
                if record.as_slice().len() > ROW_LIMIT {
                    return Err(row_too_long(&path, self.rows + 1));
                }
                Ok(true)
            }
        }
    }
}

/// Runs a step of the parquet reader, whose decoders panic on some damaged
/// files (`unimplemented!` on an unknown page type, found by the fuzz target
/// records_parquet), so that such a file is an input error, not a crash.
/// The reader is not used again after a failed step.
fn parquet_step<T>(step: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("it panicked");
        format!("the Parquet reader failed: {what}")
    })
}

/// SHA-256 (hex) of a whole file: what a collection records of its source.
pub fn file_hash(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hash = Sha256::new();
    std::io::copy(&mut f, &mut hash).map_err(|e| Error::io(path, e))?;
    Ok(hex::encode(hash.finalize()))
}

fn as_text(batch: &RecordBatch) -> std::result::Result<Vec<Vec<String>>, String> {
    let options = FormatOptions::default();
    batch
        .columns()
        .iter()
        .map(|col| {
            let f = ArrayFormatter::try_new(col.as_ref(), &options).map_err(|e| e.to_string())?;
            Ok((0..col.len()).map(|i| f.value(i).to_string()).collect())
        })
        .collect()
}

/// Why a row could not be written: the disk (kept as the I/O error it is,
/// so that a full disk says so) or the format.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Format(String),
}

impl RowError {
    /// The error, naming the file being written.
    pub fn writing(self, path: &std::path::Path) -> Error {
        match self {
            RowError::Io(source) => Error::io(path, source),
            RowError::Format(m) => Error::Invalid(format!("writing {}: {m}", path.display())),
        }
    }
}

impl From<csv::Error> for RowError {
    fn from(e: csv::Error) -> RowError {
        if !e.is_io_error() {
            return RowError::Format(e.to_string());
        }
        match e.into_kind() {
            csv::ErrorKind::Io(e) => RowError::Io(e),
            _ => unreachable!("an I/O error's kind is Io"),
        }
    }
}

impl From<parquet::errors::ParquetError> for RowError {
    fn from(e: parquet::errors::ParquetError) -> RowError {
        match e {
            parquet::errors::ParquetError::External(inner) => {
                match inner.downcast::<std::io::Error>() {
                    Ok(io) => RowError::Io(*io),
                    Err(other) => RowError::Format(other.to_string()),
                }
            }
            other => RowError::Format(other.to_string()),
        }
    }
}

impl From<arrow_schema::ArrowError> for RowError {
    fn from(e: arrow_schema::ArrowError) -> RowError {
        match e {
            arrow_schema::ArrowError::IoError(_, io) => RowError::Io(io),
            other => RowError::Format(other.to_string()),
        }
    }
}

/// Where a caller did not say which file it was writing.
impl From<RowError> for Error {
    fn from(e: RowError) -> Error {
        e.writing(std::path::Path::new("an output file"))
    }
}

/// Writes rows of text as CSV or as Parquet (every column UTF-8, Snappy).
pub enum RowWriter {
    Csv(csv::Writer<BufWriter<File>>),
    Parquet {
        writer: ArrowWriter<File>,
        schema: Arc<Schema>,
        columns: Vec<StringBuilder>,
        rows: usize,
    },
}

impl RowWriter {
    /// Writes into `file` (already created), starting with `header`.
    pub fn new(
        file: File,
        format: Format,
        header: &[String],
    ) -> std::result::Result<RowWriter, RowError> {
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
                w.write_record(header)?;
                Ok(RowWriter::Csv(w))
            }
            Format::Parquet => {
                let schema = Arc::new(Schema::new(
                    header
                        .iter()
                        .map(|h| Field::new(h, DataType::Utf8, false))
                        .collect::<Vec<_>>(),
                ));
                // The first column names people, each once: a dictionary
                // of it is built only to be dropped.
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_column_dictionary_enabled(header[0].as_str().into(), false)
                    .build();
                let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
                Ok(RowWriter::Parquet {
                    writer,
                    schema,
                    columns: header.iter().map(|_| StringBuilder::new()).collect(),
                    rows: 0,
                })
            }
        }
    }

    pub fn write<I, T>(&mut self, row: I) -> std::result::Result<(), RowError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]> + AsRef<str>,
    {
        match self {
            RowWriter::Csv(w) => Ok(w.write_record(row)?),
            RowWriter::Parquet { columns, rows, .. } => {
                for (c, v) in columns.iter_mut().zip(row) {
                    c.append_value(AsRef::<str>::as_ref(&v));
                }
                *rows += 1;
                if *rows >= BATCH {
                    self.flush_batch()?;
                }
                Ok(())
            }
        }
    }

    fn flush_batch(&mut self) -> std::result::Result<(), RowError> {
        if let RowWriter::Parquet {
            writer,
            schema,
            columns,
            rows,
        } = self
        {
            if *rows == 0 {
                return Ok(());
            }
            *rows = 0;
            let arrays: Vec<ArrayRef> = columns
                .iter_mut()
                .map(|c| Arc::new(c.finish()) as ArrayRef)
                .collect();
            let batch = RecordBatch::try_new(schema.clone(), arrays)?;
            writer.write(&batch)?;
        }
        Ok(())
    }

    /// Writes what is buffered and closes the file's footer.
    pub fn finish(mut self) -> std::result::Result<(), RowError> {
        self.flush_batch()?;
        match self {
            RowWriter::Csv(mut w) => Ok(w.flush()?),
            RowWriter::Parquet { writer, .. } => writer.close().map(|_| ()).map_err(RowError::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(format: Format) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        let header = vec!["subject".to_string(), "name".to_string()];
        let mut w = RowWriter::new(File::create(&path).unwrap(), format, &header).unwrap();
        for i in 0..70_000 {
            w.write([format!("S{i}"), format!("Ann, \"{i}\"")]).unwrap();
        }
        w.finish().unwrap();
        let mut r = RowReader::open(&path, format).unwrap();
        assert_eq!(r.header(), &header[..]);
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        while r.read(&mut rec).unwrap() {
            assert_eq!(&rec[0], format!("S{n}"));
            assert_eq!(&rec[1], format!("Ann, \"{n}\""));
            n += 1;
            assert_eq!(r.line(&rec), n + 1);
        }
        assert_eq!(n, 70_000);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            file_hash(&path).unwrap(),
            hex::encode(Sha256::digest(bytes))
        );
    }

    #[test]
    fn csv_round_trips() {
        round_trip(Format::Csv);
    }

    #[test]
    fn parquet_round_trips_across_batches() {
        round_trip(Format::Parquet);
    }

    #[test]
    fn formats_follow_the_extension_unless_given() {
        assert_eq!(Format::of(Path::new("a.parquet"), None), Format::Parquet);
        assert_eq!(Format::of(Path::new("a.PQ"), None), Format::Parquet);
        assert_eq!(Format::of(Path::new("a.csv"), None), Format::Csv);
        assert_eq!(
            Format::of(Path::new("a.txt"), Some(Format::Parquet)),
            Format::Parquet
        );
        assert!("xlsx".parse::<Format>().is_err());
    }

    #[test]
    fn a_damaged_embedded_arrow_schema_is_not_a_panic() {
        // The fuzz target records_parquet's first crash: a Parquet file whose
        // ARROW:schema metadata is a flatbuffer schema without fields, on
        // which parquet 55 unwraps a None.
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/arrow-schema-without-fields.parquet");
        let mut r = RowReader::open(&path, Format::Parquet).unwrap();
        assert_eq!(r.header()[0], "member_id");
        let mut rec = csv::StringRecord::new();
        while let Ok(true) = r.read(&mut rec) {}
    }

    #[test]
    fn an_unknown_page_type_is_an_input_error() {
        // The fuzz target records_parquet's second crash: a page of type 8,
        // on which parquet 55 calls unimplemented!.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/unknown-page-type.parquet");
        let mut r = RowReader::open(&path, Format::Parquet).unwrap();
        let mut rec = csv::StringRecord::new();
        let err = loop {
            match r.read(&mut rec) {
                Ok(true) => continue,
                Ok(false) => panic!("the damaged page is read"),
                Err(e) => break e,
            }
        };
        assert!(
            err.to_string().contains("the Parquet reader failed"),
            "{err}"
        );
    }

    #[test]
    fn a_metadata_length_past_memory_is_an_input_error() {
        // The third crash: a list length in the file's metadata for which
        // parquet 55 asks for a Vec too large to exist ("capacity overflow").
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/metadata-length-overflow.parquet");
        let err = RowReader::open(&path, Format::Parquet).err().unwrap();
        assert!(
            err.to_string().contains("the Parquet reader failed"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_parquet_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        std::fs::write(&path, "subject\nS1\n").unwrap();
        let err = RowReader::open(&path, Format::Parquet).err().unwrap();
        assert!(
            err.to_string().contains("not a readable Parquet file"),
            "{err}"
        );
    }
}
