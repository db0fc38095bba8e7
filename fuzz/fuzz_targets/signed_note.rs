//! C2SP signed notes and verifier keys (custody_log::note): opening any
//! text never panics; a body signed opens to itself; a verifier key read
//! writes back as it was read.
#![no_main]

use custody_log::note::{open, Verifier};
use libfuzzer_sys::fuzz_target;

const EXAMPLE_KEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let example = Verifier::from_text(EXAMPLE_KEY).expect("the C2SP example key parses");
    let ours = custody_fuzz::signer("fuzz.example/log").expect("a valid key name");
    let _ = open(text, &[example.clone(), ours.verifier()]);

    if let Ok(v) = Verifier::from_text(text) {
        assert_eq!(v.to_text(), text);
        assert_eq!(Verifier::from_text(&v.to_text()).as_ref(), Ok(&v));
    }

    if let Ok(note) = ours.sign(text) {
        let opened = open(&note, &[example, ours.verifier()]).expect("a note just signed opens");
        assert_eq!(opened.body, text);
        assert_eq!(opened.signed_by, vec![ours.verifier()]);
    }
});
