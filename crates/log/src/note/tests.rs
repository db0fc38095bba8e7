use rand::rngs::OsRng;

use super::*;

fn example_note() -> String {
    crate::testdata::text("signed-note/example.note")
}

fn example_vkey() -> String {
    crate::testdata::text("signed-note/example.vkey")
}

// Known answer from golang.org/x/mod/sumdb/note's documentation.
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIGNATURE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn example_verifier() -> Verifier {
    Verifier::from_text(example_vkey().trim_end()).unwrap()
}

fn signer(name: &str) -> Signer {
    Signer::generate(name, &mut OsRng).unwrap()
}

#[test]
fn spec_example_verifies() {
    let verifier = example_verifier();
    assert_eq!(verifier.name(), "example.com/foo");
    assert_eq!(verifier.key_id(), 0x530d903a);
    assert_eq!(verifier.to_text(), example_vkey().trim_end());
    let opened = open(&example_note(), std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(opened.body, "This is an example message.\n");
    assert_eq!(opened.signed_by, vec![verifier]);
}

#[test]
fn any_flipped_byte_breaks_the_example() {
    let verifier = example_verifier();
    let body_len = "This is an example message.\n".len();
    for i in 0..example_note().len() {
        for bit in [0x01, 0x20] {
            let mut bytes = example_note().as_bytes().to_vec();
            bytes[i] ^= bit;
            // Invalid UTF-8 cannot even be handed to open.
            let Ok(tampered) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let result = open(tampered, std::slice::from_ref(&verifier));
            assert!(result.is_err(), "byte {i} ^ {bit:#x}: {tampered:?}");
            if i < body_len - 1 && !tampered.as_bytes()[i].is_ascii_control() {
                assert_eq!(
                    result.unwrap_err(),
                    NoteError::InvalidSignature {
                        name: "example.com/foo".into()
                    }
                );
            }
        }
    }
}

#[test]
fn go_known_answer() {
    let signer = Signer::from_text(GO_SKEY).unwrap();
    assert_eq!(signer.to_text(), GO_SKEY);
    assert_eq!(signer.verifier().to_text(), GO_VKEY);
    assert_eq!(signer.verifier(), Verifier::from_text(GO_VKEY).unwrap());
    let note = signer.sign(GO_TEXT).unwrap();
    assert_eq!(note, format!("{GO_TEXT}\n{GO_SIGNATURE}"));
    assert_eq!(open(&note, &[signer.verifier()]).unwrap().body, GO_TEXT);
}

#[test]
fn generated_keys_round_trip() {
    let signer = signer("log.example/custody");
    let again = Signer::from_text(&signer.to_text()).unwrap();
    assert_eq!(again.to_text(), signer.to_text());
    assert_eq!(again.verifier(), signer.verifier());
    let verifier = Verifier::from_text(&signer.verifier().to_text()).unwrap();
    assert_eq!(verifier, signer.verifier());
    assert_eq!(verifier.key_id(), signer.key_id());

    let note = signer.sign("hello\n\nworld\n").unwrap();
    let opened = open(&note, &[verifier]).unwrap();
    assert_eq!(opened.body, "hello\n\nworld\n");
}

#[test]
fn debug_keeps_the_secret() {
    let signer = signer("secretive");
    let debug = format!("{signer:?}");
    let secret = signer.to_text();
    // PRIVATE+KEY+name+id+base64: the base64 may hold a `+` itself.
    let seed = secret.splitn(5, '+').nth(4).unwrap();
    assert!(debug.contains("secretive"), "{debug}");
    assert!(!debug.contains(seed), "{debug}");
}

#[test]
fn unknown_signatures_are_ignored() {
    let (a, b, c) = (signer("a"), signer("b"), signer("c"));
    let note_by_a = a.sign("text\n").unwrap();
    let line_by_b = b.sign("text\n").unwrap().split_off("text\n\n".len());
    let both = format!("{note_by_a}{line_by_b}");
    let opened = open(&both, &[a.verifier()]).unwrap();
    assert_eq!(opened.signed_by, vec![a.verifier()]);
    let opened = open(&both, &[c.verifier(), b.verifier(), a.verifier()]).unwrap();
    assert_eq!(opened.signed_by, vec![a.verifier(), b.verifier()]);

    assert_eq!(
        open(&both, &[c.verifier()]),
        Err(NoteError::NoKnownSignature)
    );
    assert_eq!(open(&both, &[]), Err(NoteError::NoKnownSignature));
    // Lines from an unknown key need only be well formed.
    let odd = format!("{note_by_a}— someone AAAAAAA=\n");
    assert!(open(&odd, &[a.verifier()]).is_ok());
}

#[test]
fn repeated_signatures_count_once() {
    let a = signer("a");
    let note = a.sign("text\n").unwrap();
    let line = note["text\n\n".len()..].to_owned();
    let opened = open(&format!("{note}{line}"), &[a.verifier()]).unwrap();
    assert_eq!(opened.signed_by.len(), 1);
}

#[test]
fn a_bad_signature_by_a_known_key_is_an_error() {
    let a = signer("a");
    let impostor = Signer::from_text(&signer("a").to_text()).unwrap();
    // Same name, different key: its key ID differs, so it is merely unknown.
    assert_eq!(
        open(&impostor.sign("text\n").unwrap(), &[a.verifier()]),
        Err(NoteError::NoKnownSignature)
    );

    // Right key ID, wrong signature: altered text.
    let note = a.sign("text\n").unwrap().replacen("text", "test", 1);
    assert_eq!(
        open(&note, &[a.verifier()]),
        Err(NoteError::InvalidSignature { name: "a".into() })
    );
    // Even when another known key signed correctly.
    let b = signer("b");
    let good = b.sign("test\n").unwrap();
    let bad_line = &note["test\n\n".len()..];
    let mixed = format!("{good}{bad_line}");
    assert_eq!(
        open(&mixed, &[a.verifier(), b.verifier()]),
        Err(NoteError::InvalidSignature { name: "a".into() })
    );
    assert!(open(&mixed, &[b.verifier()]).is_ok());
}

#[test]
fn malformed_notes_are_rejected() {
    let a = signer("a");
    let note = a.sign("text\n").unwrap();
    let line = &note["text\n\n".len()..];
    let sig = line.trim_end().rsplit(' ').next().unwrap();
    let many = format!("{note}{}", "— other AAAAAAA=\n".repeat(MAX_SIGNATURES));
    let cases = [
        format!("text\n{line}"),                // no blank line
        format!("text{line}"),                  // no blank line, no newline
        note.trim_end().to_owned(),             // last signature without newline
        "text\n\n".to_owned(),                  // no signatures
        format!("{note}\n"),                    // blank line after the signatures
        format!("text\r\n\n{line}"),            // control character
        format!("text\n\n- a {sig}\n"),         // not an em dash
        format!("text\n\n—a {sig}\n"),          // no space after the dash
        format!("text\n\n— a  {sig}\n"),        // two spaces
        format!("text\n\n— a {sig} \n"),        // trailing space
        "text\n\n— a\n".to_owned(),             // no signature
        "text\n\n— a \n".to_owned(),            // empty signature
        format!("text\n\n— a {}\n", &sig[1..]), // bad base64
        "text\n\n— a AAAAAA==\n".to_owned(),    // only a key ID
        format!("text\n\n— a\u{a0}b {sig}\n"),  // white space in the name
        many,
    ];
    for case in &cases {
        let err = open(case, &[a.verifier()]).unwrap_err();
        assert!(matches!(err, NoteError::Malformed(_)), "{case:?}: {err}");
    }
    assert!(
        open(&note, &[a.verifier()]).is_ok(),
        "the cases above are tampered with, not broken"
    );
}

#[test]
fn sign_requires_well_formed_text() {
    let a = signer("a");
    assert!(matches!(a.sign("no newline"), Err(NoteError::Malformed(_))));
    assert!(matches!(a.sign(""), Err(NoteError::Malformed(_))));
    assert!(matches!(
        a.sign("tab\there\n"),
        Err(NoteError::Malformed(_))
    ));
    assert!(a.sign("ünïcode is fine\n").is_ok());
}

#[test]
fn key_names_are_checked() {
    for name in ["", "a b", "a\tb", "a\u{2003}b", "a+b"] {
        assert_eq!(
            Signer::generate(name, &mut OsRng).unwrap_err(),
            NoteError::InvalidKeyName(name.into())
        );
    }
    assert!(Signer::generate("example.com/log-1", &mut OsRng).is_ok());
}

#[test]
fn malformed_keys_are_rejected() {
    let vkey = GO_VKEY;
    let bad_vkeys = [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+g74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
        // unknown algorithm
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ];
    for text in bad_vkeys {
        assert_eq!(
            Verifier::from_text(text),
            Err(NoteError::MalformedVerifierKey),
            "{text:?}"
        );
    }
    let wrong_ids = [
        vkey.replace("c74f20a3", "c74f20a4"),
        vkey.replace("PeterNeumann", "PeterNeumann2"),
    ];
    for text in &wrong_ids {
        assert_eq!(
            Verifier::from_text(text),
            Err(NoteError::WrongKeyId),
            "{text:?}"
        );
    }
    assert!(
        Verifier::from_text(&vkey.replace("c74f20a3", "C74F20A3")).is_ok(),
        "hex is case-insensitive"
    );

    let bad_skeys = [
        GO_VKEY.to_owned(),
        GO_SKEY.replace("PRIVATE+KEY+", "PRIVATE+"),
        GO_SKEY.replace("PRIVATE", "private"),
        GO_SKEY.replace("AYEK", "AhEK"),
        format!("{GO_SKEY}AA"),
    ];
    for text in &bad_skeys {
        assert_eq!(
            Signer::from_text(text).unwrap_err(),
            NoteError::MalformedSignerKey,
            "{text:?}"
        );
    }
    assert_eq!(
        Signer::from_text(&GO_SKEY.replace("c74f20a3", "c74f20a4")).unwrap_err(),
        NoteError::WrongKeyId
    );
}
