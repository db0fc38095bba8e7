use proptest::prelude::*;

use super::*;

#[test]
fn commitment_is_hmac_sha256_of_the_identifier() {
    // Python: hmac.new(bytes(range(32)), b"ED00000001", hashlib.sha256).hexdigest()
    let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
    let c = SubjectKey::new(&secret).commit("ED00000001");
    assert_eq!(
        hex::encode(c),
        "cee689f015e898eb3f8740f6aa5ae3a438ac4f325774fed44eb3025d62b8dfad"
    );
    let other = SubjectKey::new(&[7; 32]).commit("ED00000001");
    assert_ne!(
        c, other,
        "another organisation's secret gives another commitment"
    );
}

#[test]
fn a_decision_has_a_fixed_known_encoding() {
    let e = Entry::Decided {
        at: 1_494_374_400,
        subject: [0xAB; 32],
        disclosure: 3,
        reasons: 0b101,
    };
    let bytes = e.to_bytes().unwrap();
    let mut want = vec![1u8, 8];
    want.extend_from_slice(&1_494_374_400i64.to_be_bytes());
    want.extend_from_slice(&[0xAB; 32]);
    want.extend_from_slice(&3u64.to_be_bytes());
    want.extend_from_slice(&5u32.to_be_bytes());
    assert_eq!(bytes, want);
    assert_eq!(subject_of(&bytes), Some(&[0xAB; 32][..]));
    assert_eq!(Entry::decode(&bytes).unwrap(), e);
}

#[test]
fn entries_without_a_person_have_no_subject() {
    let e = Entry::OrgAdded {
        at: 0,
        org: "emmas-diary".into(),
        name: "Emma's Diary".into(),
        role: "controller".into(),
    };
    let bytes = e.to_bytes().unwrap();
    assert_eq!(subject_of(&bytes), None);
    assert_eq!(e.subject(), None);
}

#[test]
fn decoding_rejects_damage() {
    let e = Entry::PreferenceRecorded {
        at: 5,
        subject: [1; 32],
        org: "emmas-diary".into(),
        action: "withdraw".into(),
        purpose: Some("dpv:Marketing".into()),
        notice: Some(2),
    };
    let bytes = e.to_bytes().unwrap();
    for n in 0..bytes.len() {
        assert!(
            Entry::decode(&bytes[..n]).is_err(),
            "a prefix of {n} bytes must not decode"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(Entry::decode(&long), Err(EntryError::Trailing(1)));
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(Entry::decode(&v2), Err(EntryError::Version(2)));
    let mut k = bytes;
    k[1] = 200;
    assert_eq!(Entry::decode(&k), Err(EntryError::Kind(200)));
}

#[test]
fn entries_encode_after_others_in_one_buffer() {
    let e = Entry::Disclosed {
        at: 1,
        subject: [2; 32],
        disclosure: 3,
    };
    let mut buf = vec![0u8; 70_000];
    e.encode(&mut buf).unwrap();
    assert_eq!(&buf[70_000..], &e.to_bytes().unwrap()[..]);
    let big = Entry::OrgAdded {
        at: 0,
        org: "x".repeat(65_000),
        name: "y".repeat(600),
        role: String::new(),
    };
    assert!(big.encode(&mut buf).is_err());
    assert_eq!(
        buf.len(),
        70_000 + 50,
        "a refused entry leaves nothing behind"
    );
}

#[test]
fn oversized_fields_are_refused_not_truncated() {
    let e = Entry::OrgAdded {
        at: 0,
        org: "x".repeat(70_000),
        name: String::new(),
        role: String::new(),
    };
    assert!(matches!(e.to_bytes(), Err(EntryError::TooLong(_))));
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z:é -]{0,12}"
}

fn entry() -> impl Strategy<Value = Entry> {
    let at = any::<i64>();
    let subject = any::<[u8; 32]>();
    prop_oneof![
        (at, text(), text(), text()).prop_map(|(at, org, name, role)| Entry::OrgAdded {
            at,
            org,
            name,
            role
        }),
        (
            at,
            text(),
            text(),
            text(),
            prop::collection::vec(text(), 0..4)
        )
            .prop_map(|(at, org, key, kind, parents)| Entry::TermAdded {
                at,
                org,
                key,
                kind,
                parents
            }),
        (at, prop::collection::vec(text(), 0..4))
            .prop_map(|(at, purposes)| Entry::ExplicitPurposesSet { at, purposes }),
        (
            at,
            any::<u64>(),
            text(),
            text(),
            any::<i64>(),
            any::<[u8; 32]>()
        )
            .prop_map(|(at, notice, org, version, effective, content_hash)| {
                Entry::NoticePublished {
                    at,
                    notice,
                    org,
                    version,
                    effective,
                    content_hash,
                }
            }),
        (
            at,
            subject,
            text(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>()
        )
            .prop_map(|(at, subject, org, collection, notice, consented)| {
                Entry::RecordCollected {
                    at,
                    subject,
                    org,
                    collection,
                    notice,
                    consented,
                }
            }),
        (
            at,
            subject,
            text(),
            text(),
            prop::option::of(text()),
            prop::option::of(any::<u64>())
        )
            .prop_map(|(at, subject, org, action, purpose, notice)| {
                Entry::PreferenceRecorded {
                    at,
                    subject,
                    org,
                    action,
                    purpose,
                    notice,
                }
            }),
        (
            (at, any::<u64>(), text(), text(), prop::option::of(text())),
            (
                prop::collection::vec(text(), 0..3),
                prop::collection::vec(text(), 0..3),
                prop::option::of(text()),
                any::<bool>()
            ),
            any::<[u64; 4]>()
        )
            .prop_map(
                |(
                    (at, disclosure, from, to, on_behalf_of),
                    (purposes, categories, basis, gated),
                    n,
                )| {
                    Entry::DisclosureRecorded {
                        at,
                        disclosure,
                        from,
                        to,
                        on_behalf_of,
                        purposes,
                        categories,
                        basis,
                        gated,
                        requested: n[0],
                        allowed: n[1],
                        refused: n[2],
                        not_held: n[3],
                    }
                }
            ),
        (at, subject, any::<u64>(), any::<u32>()).prop_map(|(at, subject, disclosure, reasons)| {
            Entry::Decided {
                at,
                subject,
                disclosure,
                reasons,
            }
        }),
        (at, subject, any::<u64>()).prop_map(|(at, subject, disclosure)| Entry::Disclosed {
            at,
            subject,
            disclosure
        }),
    ]
}

proptest! {
    #[test]
    fn every_entry_round_trips(e in entry()) {
        let bytes = e.to_bytes().unwrap();
        prop_assert_eq!(Entry::decode(&bytes).unwrap(), e.clone());
        prop_assert_eq!(subject_of(&bytes), e.subject().map(|s| &s[..]));
    }

    #[test]
    fn distinct_entries_encode_distinctly(a in entry(), b in entry()) {
        // Canonical: equal bytes only for equal entries.
        prop_assume!(a != b);
        prop_assert_ne!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    }
}
