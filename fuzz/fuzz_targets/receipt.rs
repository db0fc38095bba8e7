//! Receipts, tlog-proofs carrying their entry (custody_log::proof and
//! custody_engine::log::receipt::verify_receipt, which `custody receipt verify`
//! calls): never a panic; a proof parsed writes back byte for byte.
#![no_main]

use custody_engine::log::receipt::verify_receipt;
use custody_log::proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(proof) = TlogProof::parse(text) {
        assert_eq!(
            proof.to_text(),
            text,
            "parsing is strict: one text per proof"
        );
    }
    // The seeds are receipts of this log, so mutants reach the proof check.
    if let Ok(receipt) = verify_receipt(text, custody_fuzz::receipt_verifier()) {
        let proof = TlogProof::parse(text).expect("a verified receipt parses");
        assert_eq!(receipt.index, proof.index);
    }
});
