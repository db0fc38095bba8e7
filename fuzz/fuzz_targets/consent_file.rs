//! Consent files (`consent --file`): read row by row by the reader that
//! `import_preferences` uses, never a panic; the lines errors name never go
//! backwards. (Not "after the header": the csv crate counts lines by LF, so
//! a file ending its lines with a bare CR names line 1 throughout.)
#![no_main]

use custody_engine::preferences::PreferenceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = PreferenceFile::new("events.csv", data, custody_fuzz::default_at()) else {
        return;
    };
    let mut last = 1;
    for _ in 0..custody_fuzz::MAX_ROWS {
        match file.next_line() {
            Ok(Some(row)) => {
                assert!(row.line >= last, "line {} after line {last}", row.line);
                last = row.line;
            }
            Ok(None) | Err(_) => break,
        }
    }
});
