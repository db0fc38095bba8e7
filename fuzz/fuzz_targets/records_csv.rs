//! Records to collect, CSV: read by the reader `collect` uses and each row
//! parsed as `collect` parses it (under the demo's mapping when the header
//! fits it), never a panic.
#![no_main]

use custody_engine::table::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody_fuzz::read_records(data, Format::Csv);
});
