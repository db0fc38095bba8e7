//! Collection mappings (custody_core::mapping), as `collect` reads them:
//! parsed and resolved against the demo's records header and notice, never
//! a panic.
#![no_main]

use custody_core::mapping;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(source) = mapping::parse_source("fuzz.mapping.toml", text) else {
        return;
    };
    let header = custody_fuzz::signups_header();
    let vocab = custody_fuzz::vocabulary();
    if let Ok(m) = source.resolve("fuzz.mapping.toml", &header, vocab, custody_fuzz::notice()) {
        assert!(m.subject < header.len());
        for (column, _, _) in &m.fields {
            assert!(*column < header.len());
        }
    }
});
