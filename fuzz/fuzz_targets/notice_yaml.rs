//! Notices in YAML, as `notice publish` and `notice check` read them:
//! parse, resolve against the vocabulary, check, hash and diff, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        custody_fuzz::question_notice("notice.yaml", text);
    }
});
