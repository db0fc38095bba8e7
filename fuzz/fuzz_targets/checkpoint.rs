//! C2SP checkpoints (custody_log::checkpoint): parsing a body never panics;
//! a body of exactly origin, size and root is written back byte for byte;
//! a checkpoint signed by a key named after its origin opens to itself.
#![no_main]

use custody_log::checkpoint::{open_checkpoint, Checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // As a whole signed note, under the origin's key and the C2SP example's.
    if let Some(signer) = custody_fuzz::signer("example.com/foo") {
        let _ = open_checkpoint(text, &signer.verifier());
    }
    let Ok(c) = Checkpoint::parse(text) else {
        return;
    };
    assert_eq!(Checkpoint::parse(&c.body()).as_ref(), Ok(&c));
    if text.matches('\n').count() == 3 {
        assert_eq!(c.body(), text, "no extension lines: the body is canonical");
    }
    if let Some(signer) = custody_fuzz::signer(&c.origin) {
        match c.sign(&signer) {
            Ok(note) => {
                let opened =
                    open_checkpoint(&note, &signer.verifier()).expect("a signed checkpoint opens");
                assert_eq!(opened, c);
            }
            // A body alone may hold what no note may (a note's text is
            // checked before its body is parsed).
            Err(_) => assert!(c.origin.chars().any(|ch| ch.is_control())),
        }
    }
});
