//! What the fuzz targets share: the inputs a parser is asked about besides
//! the fuzzed bytes (the demo's notice, the vocabulary, a log's keys), made
//! once per process.

use std::path::PathBuf;
use std::sync::OnceLock;

use custody_core::mapping::{self, Mapping, MappingSource};
use custody_core::notice::{NoticeDiff, NoticeSource};
use custody_core::time::Instant;
use custody_core::{Notice, Vocabulary};
use custody_engine::collection::parse_row;
use custody_engine::table::{Format, RowReader};
use custody_log::note::{Signer, Verifier};
use rand_chacha::rand_core::SeedableRng;

/// The organisation the demo's notices belong to.
pub const ORG: &str = "emmas-diary";

/// Rows a records or consent target reads of one input at most: enough to
/// reach every branch, few enough that a long input stays fast.
pub const MAX_ROWS: usize = 64;

pub fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(Vocabulary::embedded)
}

/// Notice 2017 of the demo, as written.
pub fn notice_source() -> &'static NoticeSource {
    static N: OnceLock<NoticeSource> = OnceLock::new();
    N.get_or_init(|| {
        let text = include_str!("../../examples/emmas-diary/notice-2017.toml");
        custody_core::notice::parse_source("notice-2017.toml", text)
            .expect("the demo's notice parses")
    })
}

/// Notice 2017 of the demo, resolved as `notice publish` resolves it.
pub fn notice() -> &'static Notice {
    static N: OnceLock<Notice> = OnceLock::new();
    N.get_or_init(|| {
        notice_source()
            .resolve("notice-2017.toml", ORG, vocabulary())
            .expect("the demo's notice resolves")
    })
}

/// What `notice publish`, `notice check` and `notice diff` do with a notice
/// file called `file`: parse it by its extension, resolve it, check it,
/// hash it and compare it with the demo's.
pub fn question_notice(file: &str, text: &str) {
    let Ok(source) = custody_core::notice::parse_source(file, text) else {
        return;
    };
    let diff = NoticeDiff::between(notice_source(), &source);
    let _ = diff.is_empty();
    let Ok(notice) = source.resolve(file, ORG, vocabulary()) else {
        return;
    };
    // What `log verify` relies on: the hash is the stored (normalised)
    // source's, and normalising that again changes nothing.
    assert_eq!(notice.content_hash, notice.source.content_hash());
    let again = notice
        .source
        .resolve(file, ORG, vocabulary())
        .expect("a resolved notice's own source resolves");
    assert_eq!(again.content_hash, notice.content_hash);
    let _ = custody_core::notice::check::check(&notice, vocabulary(), &|org: &str| org == ORG);
    for d in &notice.declarations {
        let _ = d.recipients();
    }
}

/// What `collect` does with a records file: its rows read by the reader
/// it uses and each parsed under the demo's mapping, when the header fits.
pub fn read_records(data: &[u8], format: Format) {
    let extension = match format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    let path = scratch_file(data, extension);
    let Ok(mut reader) = RowReader::open(&path, format) else {
        return;
    };
    let header = reader.header().to_vec();
    let mapping = signups_mapping(&header);
    let mut record = csv::StringRecord::new();
    for _ in 0..MAX_ROWS {
        match reader.read(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        if let Some(m) = &mapping {
            let _ = parse_row(&record, m, &header, default_at(), notice());
        }
    }
}

/// The header of the demo's `signups.csv` (as `custody gen` writes it),
/// which `signups.mapping.toml` maps.
pub fn signups_header() -> Vec<String> {
    let seed = include_str!("../seeds/records_csv/seed-signups.csv");
    let line = seed.lines().next().expect("the seed has a header");
    line.split(',').map(String::from).collect()
}

/// The demo's mapping, resolved against `header` (None if it does not fit:
/// a fuzzed header usually does not).
pub fn signups_mapping(header: &[String]) -> Option<Mapping> {
    static M: OnceLock<MappingSource> = OnceLock::new();
    M.get_or_init(|| {
        let text = include_str!("../../examples/emmas-diary/signups.mapping.toml");
        mapping::parse_source("signups.mapping.toml", text).expect("the demo's mapping parses")
    })
    .resolve("signups.mapping.toml", header, vocabulary(), notice())
    .ok()
}

/// When rows that give no time of their own were collected.
pub fn default_at() -> Instant {
    custody_core::time::parse_instant("2016-06-01").expect("a date")
}

/// A signer made from a fixed seed, so that runs are reproducible.
pub fn signer(name: &str) -> Option<Signer> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    Signer::generate(name, &mut rng).ok()
}

/// The verifier key of the log the receipt seeds come from (a demo's log;
/// public, as every verifier key is).
pub fn receipt_verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        Verifier::from_text(include_str!("receipt-log.vkey").trim())
            .expect("the seeds' verifier key parses")
    })
}

/// A file holding `data`, for parsers that read a path; one per process,
/// overwritten by each input (the targets run one input at a time).
pub fn scratch_file(data: &[u8], extension: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    let path = dir.path().join(format!("input.{extension}"));
    std::fs::write(&path, data).expect("the scratch file is written");
    path
}

/// libfuzzer-sys aborts on every panic, before any `catch_unwind` can see it.
/// Panics raised inside the parquet crate (its own, or the allocator's
/// "capacity overflow" on a length it read) are let unwind instead, to the
/// reader's `catch_unwind`, which makes them input errors; any other panic
/// still aborts, and is a finding.
pub fn contain_parquet_panics() {
    let fuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        if !trace.contains("parquet::") {
            fuzzer_hook(info);
        }
    }));
}
