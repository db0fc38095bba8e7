//! Log entries (custody_core::entry): decoding never panics, and what
//! decodes re-encodes to the same bytes (version 2) or to an entry that
//! decodes the same (version 1, which this build reads but never writes).
#![no_main]

use custody_core::entry::{recorded, subject_of, Entry, EntryError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = Entry::decode(data) else {
        return;
    };
    assert_eq!(subject_of(data), entry.subject().map(|s| &s[..]));
    match data[0] {
        2 => {
            let at = recorded(data).expect("a version-2 entry says when it was recorded");
            let bytes = entry.to_bytes(at).expect("a decoded entry encodes");
            assert_eq!(bytes, data, "the encoding is canonical");
        }
        _ => {
            assert_eq!(recorded(data), None);
            match entry.to_bytes(0) {
                // Kinds that version 2 added nothing to.
                Ok(bytes) => assert_eq!(Entry::decode(&bytes).as_ref(), Ok(&entry)),
                Err(e) => assert!(matches!(e, EntryError::Missing(..)), "{e}"),
            }
        }
    }
});
