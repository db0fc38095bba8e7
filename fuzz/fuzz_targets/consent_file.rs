//! Consent files (`consent --file`): read row by row by the reader that
//! `import_preferences` uses, never a panic.
#![no_main]

use custody_engine::preferences::PreferenceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = PreferenceFile::new("events.csv", data, custody_fuzz::default_at()) else {
        return;
    };
    for _ in 0..custody_fuzz::MAX_ROWS {
        match file.next_line() {
            Ok(Some(line)) => assert!(line.line >= 2, "rows come after the header"),
            Ok(None) | Err(_) => break,
        }
    }
});
