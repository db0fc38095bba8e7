//! History files (`history import`): parsed, each disclosure's date,
//! basis, purposes and categories read as the import reads them, never a
//! panic.
#![no_main]

use custody_core::basis::LegalBasis;
use custody_core::TermKind;
use custody_engine::history::parse_history;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(history) = parse_history("history.toml", text) else {
        return;
    };
    let vocab = custody_fuzz::vocabulary();
    for d in &history.disclosure {
        for p in &d.purposes {
            let _ = vocab.resolve(TermKind::Purpose, p);
        }
        for c in &d.categories {
            let _ = vocab.resolve(TermKind::DataCategory, c);
        }
        let _ = custody_core::time::parse_instant(&d.at);
        if let Some(b) = &d.basis {
            let _ = b.parse::<LegalBasis>();
        }
    }
});
