//! Records to collect, Apache Parquet: read by the reader `collect` uses and
//! each row parsed as `collect` parses it (under the demo's mapping when the
//! header fits it), never a panic but those of the parquet crate, which
//! custody's reader turns into input errors.
#![no_main]

use custody_engine::table::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: custody_fuzz::contain_parquet_panics(), |data: &[u8]| {
    custody_fuzz::read_records(data, Format::Parquet);
});
