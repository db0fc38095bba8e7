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
fn a_fields_digest_is_never_a_commitment() {
    let key = SubjectKey::new(&[1; 32]);
    assert_ne!(key.digest_fields("x"), key.commit("x"));
    assert_ne!(key.digest_fields("[\"a\"]"), key.digest_fields("[\"b\"]"));
}

#[test]
fn a_decision_has_a_fixed_known_encoding() {
    let e = Entry::Decided {
        at: 1_494_374_400,
        subject: [0xAB; 32],
        disclosure: 3,
        reasons: 0b101,
        record: Some(RecordRef {
            record: 9,
            origin: 4,
        }),
    };
    let bytes = e.to_bytes(1_800_000_000).unwrap();
    let mut want = vec![2u8, 8];
    want.extend_from_slice(&1_494_374_400i64.to_be_bytes());
    want.extend_from_slice(&1_800_000_000i64.to_be_bytes());
    want.extend_from_slice(&[0xAB; 32]);
    want.extend_from_slice(&3u64.to_be_bytes());
    want.extend_from_slice(&5u32.to_be_bytes());
    want.extend_from_slice(&9u64.to_be_bytes());
    want.extend_from_slice(&4u64.to_be_bytes());
    assert_eq!(bytes, want);
    assert_eq!(subject_of(&bytes), Some(&[0xAB; 32][..]));
    assert_eq!(recorded(&bytes), Some(1_800_000_000));
    assert_eq!(Entry::decode(&bytes).unwrap(), e);
}

#[test]
fn a_version_1_decision_still_decodes() {
    // As custody wrote them before version 2: no recorded time, no record.
    let mut v1 = vec![1u8, 8];
    v1.extend_from_slice(&1_494_374_400i64.to_be_bytes());
    v1.extend_from_slice(&[0xAB; 32]);
    v1.extend_from_slice(&3u64.to_be_bytes());
    v1.extend_from_slice(&5u32.to_be_bytes());
    assert_eq!(
        Entry::decode(&v1).unwrap(),
        Entry::Decided {
            at: 1_494_374_400,
            subject: [0xAB; 32],
            disclosure: 3,
            reasons: 5,
            record: None,
        }
    );
    assert_eq!(subject_of(&v1), Some(&[0xAB; 32][..]));
    assert_eq!(recorded(&v1), None);
    let e = Entry::decode(&v1).unwrap();
    assert_eq!(
        e.to_bytes(0),
        Err(EntryError::Missing("decided", "record")),
        "a version-1 entry cannot pass for a version-2 one"
    );
}

#[test]
fn entries_without_a_person_have_no_subject() {
    let e = Entry::OrgAdded {
        at: 0,
        org: "emmas-diary".into(),
        name: "Emma's Diary".into(),
        role: "controller".into(),
        categories: Some(vec![]),
    };
    let bytes = e.to_bytes(0).unwrap();
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
        record: Some(7),
        source: Some("api".into()),
    };
    let bytes = e.to_bytes(6).unwrap();
    for n in 0..bytes.len() {
        assert!(
            Entry::decode(&bytes[..n]).is_err(),
            "a prefix of {n} bytes must not decode"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(Entry::decode(&long), Err(EntryError::Trailing(1)));
    let mut v3 = bytes.clone();
    v3[0] = 3;
    assert_eq!(Entry::decode(&v3), Err(EntryError::Version(3)));
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
        record: Some(RecordRef {
            record: 1,
            origin: 1,
        }),
    };
    let mut buf = vec![0u8; 70_000];
    e.encode(4, &mut buf).unwrap();
    assert_eq!(&buf[70_000..], &e.to_bytes(4).unwrap()[..]);
    let big = Entry::OrgAdded {
        at: 0,
        org: "x".repeat(65_000),
        name: "y".repeat(600),
        role: String::new(),
        categories: Some(vec![]),
    };
    assert!(big.encode(0, &mut buf).is_err());
    assert_eq!(
        buf.len(),
        70_000 + 74,
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
        categories: Some(vec![]),
    };
    assert!(matches!(e.to_bytes(0), Err(EntryError::TooLong(_))));
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z:é -]{0,12}"
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..4)
}

fn record_ref() -> impl Strategy<Value = RecordRef> {
    (any::<u64>(), any::<u64>()).prop_map(|(record, origin)| RecordRef { record, origin })
}

fn entry() -> impl Strategy<Value = Entry> {
    let at = any::<i64>();
    let subject = any::<[u8; 32]>();
    prop_oneof![
        (at, text(), text(), text(), texts()).prop_map(|(at, org, name, role, categories)| {
            Entry::OrgAdded {
                at,
                org,
                name,
                role,
                categories: Some(categories),
            }
        }),
        (at, (text(), text(), text()), texts(), (text(), text())).prop_map(
            |(at, (org, key, kind), parents, (label, definition))| Entry::TermAdded {
                at,
                org,
                key,
                kind,
                parents,
                label: Some(label),
                definition: Some(definition),
            }
        ),
        (at, texts(), texts()).prop_map(|(at, purposes, reasons)| Entry::ExplicitPurposesSet {
            at,
            purposes,
            reasons: Some(reasons)
        }),
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
            (at, any::<u64>(), text(), text(), text()),
            (
                any::<u64>(),
                any::<[u8; 32]>(),
                texts(),
                texts(),
                any::<u64>()
            )
        )
            .prop_map(
                |(
                    (at, collection, org, file, file_hash),
                    (notice, mapping, columns, categories, rows),
                )| Entry::CollectionRecorded {
                    at,
                    collection,
                    org,
                    file,
                    file_hash,
                    notice,
                    mapping,
                    columns,
                    categories,
                    rows,
                }
            ),
        (at, subject, text(), any::<[u64; 3]>(), any::<[u8; 32]>()).prop_map(
            |(at, subject, org, n, fields)| Entry::RecordCollected {
                at,
                subject,
                org,
                collection: n[0],
                notice: n[1],
                consented: n[2],
                fields: Some(fields),
            }
        ),
        (
            (at, subject, text(), text()),
            (
                prop::option::of(text()),
                prop::option::of(any::<u64>()),
                any::<u64>(),
                text()
            )
        )
            .prop_map(
                |((at, subject, org, action), (purpose, notice, record, source))| {
                    Entry::PreferenceRecorded {
                        at,
                        subject,
                        org,
                        action,
                        purpose,
                        notice,
                        record: Some(record),
                        source: Some(source),
                    }
                }
            ),
        (
            (at, any::<u64>(), text(), text(), prop::option::of(text())),
            (texts(), texts(), prop::option::of(text()), any::<bool>()),
            any::<[u64; 4]>(),
            (prop::option::of(text()), any::<i64>())
        )
            .prop_map(
                |(
                    (at, disclosure, from, to, on_behalf_of),
                    (purposes, categories, basis, gated),
                    n,
                    (note, created_at),
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
                        note: Some(note),
                        created_at: Some(created_at),
                    }
                }
            ),
        (at, subject, any::<u64>(), any::<u32>(), record_ref()).prop_map(
            |(at, subject, disclosure, reasons, record)| Entry::Decided {
                at,
                subject,
                disclosure,
                reasons,
                record: Some(record),
            }
        ),
        (at, subject, any::<u64>(), record_ref()).prop_map(|(at, subject, disclosure, record)| {
            Entry::Disclosed {
                at,
                subject,
                disclosure,
                record: Some(record),
            }
        }),
    ]
}

proptest! {
    #[test]
    fn every_entry_round_trips(e in entry(), recorded_at in any::<i64>()) {
        let bytes = e.to_bytes(recorded_at).unwrap();
        prop_assert_eq!(Entry::decode(&bytes).unwrap(), e.clone());
        prop_assert_eq!(subject_of(&bytes), e.subject().map(|s| &s[..]));
        prop_assert_eq!(recorded(&bytes), Some(recorded_at));
    }

    #[test]
    fn distinct_entries_encode_distinctly(a in entry(), b in entry()) {
        // Canonical: equal bytes only for equal entries.
        prop_assume!(a != b);
        prop_assert_ne!(a.to_bytes(0).unwrap(), b.to_bytes(0).unwrap());
    }
}

/// `e` as version 1 wrote it, and as version 1 decodes it: the version-2
/// header loses `recorded` and the fields version 2 added (all of them
/// trailing) are cut off, decoding as None. None for a kind version 1 did
/// not have.
fn as_version_1(e: &Entry) -> Option<(Vec<u8>, Entry)> {
    let list = |l: &[String]| 2 + l.iter().map(|s| 2 + s.len()).sum::<usize>();
    let mut old = e.clone();
    let added = match &mut old {
        Entry::OrgAdded { categories, .. } => list(&categories.take()?),
        Entry::TermAdded {
            label, definition, ..
        } => 4 + label.take()?.len() + definition.take()?.len(),
        Entry::ExplicitPurposesSet { reasons, .. } => list(&reasons.take()?),
        Entry::NoticePublished { .. } => 0,
        Entry::CollectionRecorded { .. } => return None,
        Entry::RecordCollected { fields, .. } => fields.take().map(|f| f.len())?,
        Entry::PreferenceRecorded { record, source, .. } => {
            record.take()?;
            8 + 2 + source.take()?.len()
        }
        Entry::DisclosureRecorded {
            note, created_at, ..
        } => {
            created_at.take()?;
            8 + note.take()?.map_or(1, |n| 3 + n.len())
        }
        Entry::Decided { record, .. } | Entry::Disclosed { record, .. } => {
            record.take()?;
            16
        }
    };
    let v2 = e.to_bytes(0).ok()?;
    let mut v1 = vec![1, v2[1]];
    v1.extend_from_slice(&v2[2..10]);
    v1.extend_from_slice(&v2[18..v2.len() - added]);
    Some((v1, old))
}

proptest! {
    #[test]
    fn every_version_1_entry_still_decodes(e in entry()) {
        match as_version_1(&e) {
            Some((bytes, old)) => {
                prop_assert_eq!(Entry::decode(&bytes), Ok(old.clone()));
                prop_assert_eq!(subject_of(&bytes), old.subject().map(|s| &s[..]));
                prop_assert_eq!(recorded(&bytes), None);
                // Decoded, it encodes only if version 2 added nothing to
                // its kind: it cannot pass for a version-2 entry.
                let again = old.to_bytes(0).map(|b| Entry::decode(&b));
                match old {
                    Entry::NoticePublished { .. } => prop_assert_eq!(again, Ok(Ok(old))),
                    _ => prop_assert!(matches!(again, Err(EntryError::Missing(..)))),
                }
            }
            None => {
                // Version 1 had no collection-recorded kind.
                let mut bytes = e.to_bytes(0).unwrap();
                bytes[0] = 1;
                prop_assert_eq!(Entry::decode(&bytes), Err(EntryError::Kind(10)));
            }
        }
    }
}
