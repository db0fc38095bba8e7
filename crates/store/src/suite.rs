//! The tests every [`Store`] must pass, written once and run on each backend
//! by [`store_suite!`]: whatever the engine sees of a store must not depend
//! on which one it is.

use custody_core::organisation::Role;
use custody_core::Organisation;

use crate::*;

/// A store under test, and a way to write SQL past the trait: the checks the
/// database itself makes must hold against any writer.
pub(crate) trait Raw: Store {
    fn raw(&mut self, sql: &str) -> Result<()>;
}

/// The suite's cases, named once. `store_suite!(open)` makes one `#[test]`
/// per case, each on a fresh store from `open()` (something that derefs to
/// the store); `store_suite!(@cases open)` makes them a `Vec` of
/// [`Case`](crate::postgres::cases::Case)s instead, for a harness that
/// decides at run time whether the backend is there.
macro_rules! store_suite {
    ([$open:path]; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::suite::$case(&mut *$open());
            }
        )*
    };
    ([@cases $open:path]; $($case:ident),* $(,)?) => {
        vec![$(
            $crate::postgres::cases::Case {
                name: stringify!($case),
                run: || $crate::suite::$case(&mut *$open()),
                ignored: false,
            },
        )*]
    };
    // Last: the arms above must be tried first.
    ($($how:tt)+) => {
        $crate::suite::store_suite! {
            [$($how)+];
            duplicate_org_is_a_conflict,
            notices_are_immutable_and_preferences_append_only,
            a_failed_transaction_leaves_nothing,
            records_do_not_duplicate_and_copies_keep_their_origin,
            insert_records_reports_each_insert_in_order,
            copies_are_counted_once,
            the_log_appends_across_bundles_and_refuses_gaps,
            log_bundles_are_append_only_in_the_database,
            tiles_are_replaced_and_checkpoints_signed_once,
            settings_terms_purposes_and_secrets,
            disclosures_and_decisions,
            preferences_in_time_order,
            walks_may_read_the_store,
            for_each_held_walks_100k_records_in_id_order,
            held_of_named_subjects_and_their_preferences,
            holdings_catch_up_from_their_marks,
            records_and_events_page_by_id_with_each_copy_s_origin,
        }
    };
}
pub(crate) use store_suite;

pub(crate) fn org(id: &str) -> Organisation {
    Organisation {
        id: id.into(),
        name: id.into(),
        role: Role::Controller,
        categories: vec![],
    }
}

fn notice(org: &str, version: &str) -> NoticeRow {
    NoticeRow {
        id: 0,
        org: org.into(),
        version: version.into(),
        effective: 0,
        content_hash: "h".into(),
        source: "{}".into(),
        published_at: 0,
    }
}

fn collection(org: &str, notice: i64) -> CollectionRow {
    CollectionRow {
        id: 0,
        org: org.into(),
        file: "f".into(),
        file_hash: "x".into(),
        notice,
        mapping: "{}".into(),
        columns: vec!["name".into()],
        categories: vec!["pd:Name".into()],
        at: 0,
        rows: 0,
    }
}

pub(crate) fn record(subject: &str) -> NewRecord {
    NewRecord {
        subject: subject.into(),
        collected_at: 10,
        consented: 1,
        fields: "[\"n\"]".into(),
    }
}

/// Organisation `a` with a notice and a collection: (notice, collection).
pub(crate) fn collecting(s: &mut impl Store) -> (i64, i64) {
    s.insert_org(&org("a")).unwrap();
    let nid = s.insert_notice(&notice("a", "1")).unwrap();
    let c = s.insert_collection(&collection("a", nid)).unwrap();
    (nid, c)
}

/// Entries whose bytes say their index, of varied lengths.
pub(crate) fn entries(from: u64, n: u64) -> EntryBatch {
    let mut b = EntryBatch::default();
    for i in from..from + n {
        b.push_with(|out| {
            out.extend_from_slice(format!("entry {i} ").as_bytes());
            out.resize(out.len() + (i % 7) as usize, b'.');
            Ok::<_, ()>(())
        })
        .unwrap();
    }
    b
}

fn all_entries(s: &impl Store, from: u64) -> Vec<(u64, Vec<u8>)> {
    let mut out = vec![];
    s.for_each_log_entry(from, &mut |i, e| {
        out.push((i, e.to_vec()));
        Ok(())
    })
    .unwrap();
    out
}

pub(crate) fn duplicate_org_is_a_conflict(s: &mut impl Raw) {
    s.insert_org(&org("a")).unwrap();
    assert!(matches!(
        s.insert_org(&org("a")),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.orgs().unwrap().len(), 1);
    assert_eq!(s.org("a").unwrap().unwrap().role, Role::Controller);
    assert!(s.org("b").unwrap().is_none());
}

pub(crate) fn notices_are_immutable_and_preferences_append_only(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.raw(&format!("UPDATE notices SET source = 'x' WHERE id = {nid}"))
        .unwrap_err();
    s.raw("DELETE FROM notices").unwrap_err();
    assert!(
        s.insert_notice(&notice("a", "1")).is_err(),
        "same label twice"
    );
    assert_eq!(s.notices(Some("a")).unwrap().len(), 1);
    s.insert_records(
        "a",
        c,
        nid,
        &mut [record("s")].into_iter(),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let rec = s.collected("a", "s").unwrap().unwrap().id;
    s.insert_preferences(&[PreferenceRow {
        record: rec,
        at: 1,
        action: "consent".into(),
        purpose: Some("p".into()),
        notice: Some(nid),
        source: "test".into(),
        recorded: None,
    }])
    .unwrap();
    s.raw("UPDATE preferences SET action = 'object'")
        .unwrap_err();
    assert_eq!(s.preferences_of(rec).unwrap()[0].action, "consent");
}

pub(crate) fn a_failed_transaction_leaves_nothing(s: &mut impl Raw) {
    let r: std::result::Result<(), StoreError> = atomic(s, |s| {
        s.insert_org(&org("a"))?;
        s.insert_org(&org("a"))
    });
    assert!(r.is_err());
    assert!(s.orgs().unwrap().is_empty());
    // A refused append undoes the rest of its transaction.
    let r: std::result::Result<(), StoreError> = atomic(s, |s| {
        s.insert_org(&org("b"))?;
        s.append_log(0, &entries(0, 3))
    });
    r.unwrap();
    let r: std::result::Result<(), StoreError> = atomic(s, |s| {
        s.insert_org(&org("c"))?;
        s.append_log(0, &entries(0, 3))
    });
    assert!(matches!(r, Err(StoreError::Conflict(_))));
    assert_eq!(s.orgs().unwrap().len(), 1);
    assert_eq!(s.log_size().unwrap(), 3);
}

pub(crate) fn records_do_not_duplicate_and_copies_keep_their_origin(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    let mk = || (0..3).map(|i| record(&format!("s{i}")));
    assert_eq!(
        s.insert_records("a", c, nid, &mut mk(), &mut |_, _, _| Ok(()))
            .unwrap(),
        (3, 0)
    );
    assert_eq!(
        s.insert_records("a", c, nid, &mut mk(), &mut |_, _, _| Ok(()))
            .unwrap(),
        (0, 3)
    );
    let origin = s.collected("a", "s1").unwrap().unwrap().id;
    let d = s
        .insert_disclosure(&DisclosureRow {
            from_org: "a".into(),
            to_org: "b".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        s.insert_copies("b", d, 20, &[(origin, "s1".into())])
            .unwrap(),
        1
    );
    assert_eq!(
        s.insert_copies("b", d, 20, &[(origin, "s1".into())])
            .unwrap(),
        0
    );
    let mut seen = vec![];
    s.for_each_held("b", &mut |h| {
        seen.push((
            h.subject.to_string(),
            h.origin,
            h.collected_at,
            h.fields.to_string(),
            h.received_via,
        ));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![("s1".to_string(), origin, 10, "[\"n\"]".to_string(), Some(d))]
    );
    assert_eq!(s.copies_of(origin).unwrap().len(), 1);
    let held = s.held("b", "s1").unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].origin, Some(origin));
    assert_eq!(held[0].fields, None);
    assert!(s.collected("b", "s1").unwrap().is_none());
    let r = s.record(origin).unwrap().unwrap();
    assert_eq!(
        (r.subject.as_str(), r.consented, r.notice, r.collection),
        ("s1", 1, Some(nid), Some(c))
    );
    assert_eq!(s.state_counts(Tally::Whole).unwrap().records_collected, 3);
}

pub(crate) fn insert_records_reports_each_insert_in_order(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_records(
        "a",
        c,
        nid,
        &mut [record("b")].into_iter(),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    // Already held (b), repeated within the input (a, c): the first stays.
    let mut input = vec![];
    for (i, subject) in ["c", "a", "b", "a", "d", "c"].iter().enumerate() {
        let mut r = record(subject);
        r.collected_at = i as i64;
        input.push(r);
    }
    let (mut reported, mut held) = (vec![], vec![]);
    let counts = s
        .insert_records("a", c, nid, &mut input.into_iter(), &mut |i, r, offered| {
            match offered {
                Offered::Stored => reported.push((i, r.subject.clone(), r.collected_at)),
                Offered::AlreadyHeld { collection } => {
                    held.push((i, r.subject.clone(), collection))
                }
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(counts, (3, 3));
    let expected = [(0, "c", 0), (1, "a", 1), (4, "d", 4)].map(|(i, s, t)| (i, s.to_string(), t));
    assert_eq!(reported, expected);
    // Those already held, with the collection that holds each (here the
    // same one, as a file that repeats a subject).
    held.sort();
    let expected = [(2, "b"), (3, "a"), (5, "c")].map(|(i, s)| (i, s.to_string(), Some(c)));
    assert_eq!(held, expected);
    assert_eq!(s.collected("a", "a").unwrap().unwrap().at, 1);
    assert_eq!(s.collected("a", "b").unwrap().unwrap().at, 10);
    // Ids follow the input order.
    let ids: Vec<i64> = ["c", "a", "d"]
        .iter()
        .map(|x| s.collected("a", x).unwrap().unwrap().id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // An error from the callback is the caller's.
    let r = s.insert_records(
        "a",
        c,
        nid,
        &mut [record("e")].into_iter(),
        &mut |_, _, _| Err(StoreError::Conflict("stop".into())),
    );
    assert!(matches!(r, Err(StoreError::Conflict(m)) if m == "stop"));
}

pub(crate) fn copies_are_counted_once(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..5).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let d = s
        .insert_disclosure(&DisclosureRow {
            from_org: "a".into(),
            to_org: "b".into(),
            ..Default::default()
        })
        .unwrap();
    let origin = |s: &mut dyn Store, x: &str| s.collected("a", x).unwrap().unwrap().id;
    let (o0, o1, o2) = (origin(s, "s0"), origin(s, "s1"), origin(s, "s2"));
    assert_eq!(
        s.insert_copies("b", d, 20, &[(o0, "s0".into()), (o1, "s1".into())])
            .unwrap(),
        2
    );
    assert_eq!(
        s.insert_copies(
            "b",
            d,
            21,
            &[(o1, "s1".into()), (o2, "s2".into()), (o2, "s2".into())]
        )
        .unwrap(),
        1
    );
    let mut held = vec![];
    s.for_each_held("b", &mut |h| {
        held.push((h.origin, h.subject.to_string()));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        held,
        vec![(o0, "s0".into()), (o1, "s1".into()), (o2, "s2".into())]
    );
    assert_eq!(s.insert_copies("b", d, 22, &[]).unwrap(), 0);
}

pub(crate) fn the_log_appends_across_bundles_and_refuses_gaps(s: &mut impl Raw) {
    assert_eq!(s.log_size().unwrap(), 0);
    assert!(s.log_entry(0).unwrap().is_none());
    s.append_log(0, &EntryBatch::default()).unwrap();
    let mut size = 0;
    for n in [1, 254, 1, 1, 300, 256, 10] {
        s.append_log(size, &entries(size, n)).unwrap();
        size += n;
        assert_eq!(s.log_size().unwrap(), size);
    }
    s.append_log(size, &EntryBatch::default()).unwrap();
    let all = all_entries(s, 0);
    assert_eq!(all.len() as u64, size);
    let want = entries(0, size);
    for ((i, e), w) in all.iter().zip(want.iter()) {
        assert_eq!(e.as_slice(), w, "entry {i}");
    }
    assert!(all.iter().enumerate().all(|(i, (j, _))| i as u64 == *j));
    assert_eq!(all_entries(s, 300).first().map(|e| e.0), Some(300));
    assert_eq!(all_entries(s, size).len(), 0);
    assert_eq!(s.log_entry(511).unwrap().as_deref(), want.iter().nth(511));
    assert!(s.log_entry(size).unwrap().is_none());
    // A gap, or a rewrite of what is there, is refused and writes nothing.
    for first in [size + 1, size - 1, 0] {
        assert!(matches!(
            s.append_log(first, &entries(first, 2)),
            Err(StoreError::Conflict(_))
        ));
    }
    assert_eq!(s.log_size().unwrap(), size);
    let mut long = EntryBatch::default();
    long.push_with(|out| {
        out.resize(70_000, 0);
        Ok::<_, ()>(())
    })
    .unwrap();
    assert!(matches!(
        s.append_log(size, &long),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.log_size().unwrap(), size);
}

pub(crate) fn log_bundles_are_append_only_in_the_database(s: &mut impl Raw) {
    s.append_log(0, &entries(0, 300)).unwrap();
    let refused = [
        "UPDATE log_bundles SET count = count - 1 WHERE idx = 1",
        "UPDATE log_bundles SET entries = substr(entries, 3) WHERE idx = 0",
        "UPDATE log_bundles SET idx = idx + 5 WHERE idx = 1",
        "DELETE FROM log_bundles WHERE idx = 1",
        "DELETE FROM log_bundles",
        "UPDATE log_checkpoints SET note = 'x'",
    ];
    s.insert_checkpoint(300, "note", 1).unwrap();
    for sql in refused {
        assert!(s.raw(sql).is_err(), "{sql}");
    }
    // Growing the last bundle at its end is what appending does.
    s.append_log(300, &entries(300, 3)).unwrap();
    assert_eq!(all_entries(s, 0).len(), 303);
}

pub(crate) fn tiles_are_replaced_and_checkpoints_signed_once(s: &mut impl Raw) {
    assert!(s.log_tile(0, 0).unwrap().is_none());
    s.put_log_tiles(&[(0, 0, vec![1; 32]), (1, 0, vec![2; 32])])
        .unwrap();
    s.put_log_tiles(&[
        (0, 0, vec![3; 64]),
        (0, 1, vec![4; 32]),
        (0, 0, vec![5; 96]),
    ])
    .unwrap();
    assert_eq!(s.log_tile(0, 0).unwrap(), Some(vec![5; 96]));
    assert_eq!(s.log_tile(0, 1).unwrap(), Some(vec![4; 32]));
    assert_eq!(s.log_tile(1, 0).unwrap(), Some(vec![2; 32]));
    assert!(s.log_tile(2, 0).unwrap().is_none());
    s.put_log_tiles(&[]).unwrap();

    assert!(s.latest_checkpoint().unwrap().is_none());
    s.insert_checkpoint(10, "ten", 1).unwrap();
    s.insert_checkpoint(2, "two", 2).unwrap();
    assert!(matches!(
        s.insert_checkpoint(10, "again", 3),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.checkpoints().unwrap(),
        vec![(2, "two".into()), (10, "ten".into())]
    );
    assert_eq!(s.latest_checkpoint().unwrap(), Some((10, "ten".into())));
    assert_eq!(s.checkpoint_of_size(2).unwrap().as_deref(), Some("two"));
    assert_eq!(s.checkpoint_of_size(3).unwrap(), None);
    assert_eq!(s.checkpoint_times().unwrap(), vec![(2, 2), (10, 1)]);
}

pub(crate) fn settings_terms_purposes_and_secrets(s: &mut impl Raw) {
    assert!(s.setting("k").unwrap().is_none());
    s.set_setting("k", "1").unwrap();
    s.set_setting("k", "2").unwrap();
    assert_eq!(s.setting("k").unwrap().as_deref(), Some("2"));

    s.insert_org(&org("a")).unwrap();
    for key in ["z:b", "a:a"] {
        s.insert_term(&StoredTerm {
            key: key.into(),
            kind: "purpose".into(),
            label: key.into(),
            definition: "d".into(),
            parents: vec!["p".into()],
            org: "a".into(),
        })
        .unwrap();
    }
    let keys: Vec<String> = s.terms().unwrap().into_iter().map(|t| t.key).collect();
    assert_eq!(keys, ["z:b", "a:a"], "in the order inserted");
    assert_eq!(s.terms().unwrap()[0].parents, ["p"]);

    assert!(s.explicit_purposes().unwrap().is_none());
    let list = vec![
        ("b".to_string(), "r1".to_string()),
        ("a".into(), "r2".into()),
    ];
    s.set_explicit_purposes(&list).unwrap();
    s.set_explicit_purposes(&list).unwrap();
    assert_eq!(
        s.explicit_purposes().unwrap().unwrap(),
        vec![
            ("a".to_string(), "r2".to_string()),
            ("b".into(), "r1".into())
        ]
    );
    s.set_explicit_purposes(&[]).unwrap();
    assert_eq!(s.explicit_purposes().unwrap(), Some(vec![]));

    assert!(s.org_secret("a").unwrap().is_none());
    s.insert_org_secret("a", &[7; 32]).unwrap();
    assert_eq!(s.org_secret("a").unwrap(), Some([7; 32]));
    assert!(s.insert_org_secret("a", &[8; 32]).is_err());
    let counts = s.state_counts(Tally::Whole).unwrap();
    assert_eq!((counts.orgs, counts.terms, counts.notices), (1, 2, 0));
}

pub(crate) fn disclosures_and_decisions(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..4).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let ids: Vec<i64> = (0..4)
        .map(|i| s.collected("a", &format!("s{i}")).unwrap().unwrap().id)
        .collect();
    let row = |at| DisclosureRow {
        from_org: "a".into(),
        to_org: "b".into(),
        on_behalf_of: Some("b".into()),
        at,
        purposes: vec!["p".into()],
        categories: vec!["c".into(), "d".into()],
        basis: Some("consent".into()),
        gated: true,
        note: None,
        requested: 4,
        allowed: 2,
        refused: 2,
        not_held: 0,
        created_at: 9,
        ..Default::default()
    };
    let late = s.insert_disclosure(&row(20)).unwrap();
    let early = s.insert_disclosure(&row(10)).unwrap();
    let got = s.disclosure(late).unwrap().unwrap();
    assert_eq!(
        (
            got.at,
            got.categories.len(),
            got.gated,
            got.basis.as_deref()
        ),
        (20, 2, true, Some("consent"))
    );
    assert!(s.disclosure(late + early + 100).unwrap().is_none());
    let order: Vec<i64> = s.disclosures(None).unwrap().iter().map(|d| d.id).collect();
    assert_eq!(order, [early, late]);
    assert!(s.disclosures(Some("b")).unwrap().is_empty());

    let decisions = [
        (ids[3], Some(0)),
        (ids[0], Some(5)),
        (ids[1], None),
        (ids[2], Some(u32::MAX)),
    ];
    let n = s
        .insert_decisions(&mut decisions.iter().map(|&(record, reasons)| DecisionRow {
            disclosure: late,
            record,
            reasons,
        }))
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(s.insert_decisions(&mut std::iter::empty()).unwrap(), 0);
    let mut walked = vec![];
    s.for_each_decision(late, &mut |d| {
        walked.push((d.record, d.reasons));
        Ok(())
    })
    .unwrap();
    let mut sorted = decisions.to_vec();
    sorted.sort();
    assert_eq!(walked, sorted, "in record order");
    let mut none = 0;
    s.for_each_decision(early, &mut |_| {
        none += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(none, 0);
    assert_eq!(s.decisions_for(ids[1]).unwrap()[0].reasons, None);
    // The same decision twice is an error.
    assert!(s
        .insert_decisions(
            &mut [DecisionRow {
                disclosure: late,
                record: ids[0],
                reasons: Some(0),
            }]
            .into_iter()
        )
        .is_err());
    let counts = s.state_counts(Tally::Whole).unwrap();
    assert_eq!(
        (
            counts.disclosures,
            counts.decisions,
            counts.disclosed_history
        ),
        (2, 3, 1)
    );
}

pub(crate) fn preferences_in_time_order(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_records(
        "a",
        c,
        nid,
        &mut [record("x"), record("y")].into_iter(),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let x = s.collected("a", "x").unwrap().unwrap().id;
    let y = s.collected("a", "y").unwrap().unwrap().id;
    let p = |record, at, action: &str| PreferenceRow {
        record,
        at,
        action: action.into(),
        purpose: None,
        notice: None,
        source: "s".into(),
        recorded: None,
    };
    s.insert_preferences(&[p(x, 5, "object"), p(y, 1, "consent"), p(x, 2, "consent")])
        .unwrap();
    s.insert_preferences(&[]).unwrap();
    let actions = |rows: &[PreferenceRow]| -> Vec<(i64, String)> {
        rows.iter().map(|r| (r.at, r.action.clone())).collect()
    };
    assert_eq!(
        actions(&s.preferences_of(x).unwrap()),
        [(2, "consent".into()), (5, "object".into())]
    );
    let by = s.preferences_held_by("a").unwrap();
    assert_eq!(actions(&by[&x]), actions(&s.preferences_of(x).unwrap()));
    assert_eq!(by[&y].len(), 1);
    assert_eq!(s.state_counts(Tally::Whole).unwrap().preferences, 3);
}

pub(crate) fn walks_may_read_the_store(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..50).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    s.append_log(0, &entries(0, 600)).unwrap();
    s.put_log_tiles(&[(0, 0, vec![1; 32])]).unwrap();
    let s: &dyn Store = s;
    let mut n = 0;
    s.for_each_held("a", &mut |h| {
        assert_eq!(s.record(h.id)?.unwrap().subject, h.subject);
        if n == 0 {
            // A walk inside a walk.
            let mut inner = 0;
            s.for_each_log_entry(0, &mut |_, _| {
                inner += 1;
                Ok(())
            })?;
            assert_eq!(inner, 600);
        }
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 50);
    s.for_each_log_entry(0, &mut |i, _| {
        if i.is_multiple_of(256) {
            s.log_tile(0, 0)?.unwrap();
        }
        Ok(())
    })
    .unwrap();
    // An error from the callback ends the walk, and the store goes on.
    let r = s.for_each_held("a", &mut |_| Err(StoreError::Corrupt("stop".into())));
    assert!(matches!(r, Err(StoreError::Corrupt(m)) if m == "stop"));
    assert_eq!(s.log_size().unwrap(), 600);
}

pub(crate) fn for_each_held_walks_100k_records_in_id_order(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    const N: usize = 100_000;
    let inserted = atomic(s, |s| {
        s.insert_records(
            "a",
            c,
            nid,
            &mut (0..N).map(|i| record(&format!("subject-{i:06}"))),
            &mut |_, _, _| Ok(()),
        )
    })
    .unwrap();
    assert_eq!(inserted, (N as u64, 0));
    let (mut n, mut last) = (0, 0);
    s.for_each_held("a", &mut |h| {
        assert!(h.id > last);
        assert_eq!(h.subject, format!("subject-{n:06}"));
        assert_eq!((h.origin, h.notice, h.collection), (h.id, nid, c));
        last = h.id;
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, N);
}

/// What `for_each_held_of` gives for a few subjects is exactly what
/// `for_each_held` gives for them, copies included; and
/// `preferences_of_records` is `preferences_of` for each.
pub(crate) fn held_of_named_subjects_and_their_preferences(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..5).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let id = |s: &dyn Store, subject: &str| s.collected("a", subject).unwrap().unwrap().id;
    let (s1, s3, s4) = (id(s, "s1"), id(s, "s3"), id(s, "s4"));
    let d = s
        .insert_disclosure(&DisclosureRow {
            from_org: "a".into(),
            to_org: "b".into(),
            ..Default::default()
        })
        .unwrap();
    s.insert_copies("b", d, 20, &[(s3, "s3".into()), (s1, "s1".into())])
        .unwrap();
    type Seen = (i64, String, i64, i64, i64, u64, i64, String, Option<i64>);
    fn seen(h: &HeldRecord) -> Seen {
        (
            h.id,
            h.subject.to_string(),
            h.origin,
            h.notice,
            h.collected_at,
            h.consented,
            h.collection,
            h.fields.to_string(),
            h.received_via,
        )
    }
    let walk = |s: &dyn Store, org: &str, subjects: Option<&[&str]>| -> Vec<Seen> {
        let mut out = vec![];
        match subjects {
            None => s
                .for_each_held(org, &mut |h| {
                    out.push(seen(h));
                    Ok(())
                })
                .unwrap(),
            Some(l) => s
                .for_each_held_of(org, l, &mut |h| {
                    out.push(seen(h));
                    Ok(())
                })
                .unwrap(),
        }
        out
    };
    for (org, subjects) in [
        ("a", &["s3", "s1", "nobody"][..]),
        ("a", &["s0", "s0"][..]),
        ("b", &["s1", "s3", "s2"][..]),
        ("b", &[][..]),
    ] {
        let all: Vec<Seen> = walk(s, org, None)
            .into_iter()
            .filter(|h| subjects.contains(&h.1.as_str()))
            .collect();
        assert_eq!(walk(s, org, Some(subjects)), all, "{org} {subjects:?}");
    }
    assert_eq!(walk(s, "b", Some(&["s3", "s1"])).len(), 2);
    let p = |record, at, action: &str| PreferenceRow {
        record,
        at,
        action: action.into(),
        purpose: None,
        notice: None,
        source: "s".into(),
        recorded: None,
    };
    s.insert_preferences(&[p(s1, 5, "object"), p(s3, 1, "consent"), p(s1, 2, "consent")])
        .unwrap();
    let by = s.preferences_of_records(&[s1, s3, s1, s4]).unwrap();
    assert_eq!(by.len(), 2, "records without events are left out");
    for r in [s1, s3] {
        let want: Vec<(i64, String)> = s
            .preferences_of(r)
            .unwrap()
            .iter()
            .map(|p| (p.at, p.action.clone()))
            .collect();
        let got: Vec<(i64, String)> = by[&r].iter().map(|p| (p.at, p.action.clone())).collect();
        assert_eq!(got, want);
    }
    assert!(s.preferences_of_records(&[]).unwrap().is_empty());
}

/// A snapshot catches up by id: the marks are the newest ids, and what lies
/// above a mark is exactly what came after it, copies and events included.
pub(crate) fn holdings_catch_up_from_their_marks(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    assert_eq!(s.holdings_marks("a").unwrap(), HoldingsMarks::default());
    let subjects = |s: &dyn Store, org: &str, after: i64| {
        let mut out = vec![];
        s.for_each_held_after(org, after, &mut |h| {
            assert_eq!(h.fields, "[]");
            out.push((h.id, h.origin, h.subject.to_string(), h.received_via));
            Ok(())
        })
        .unwrap();
        out
    };
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..3).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let first = s.holdings_marks("a").unwrap();
    assert_eq!(subjects(s, "a", 0).len(), 3);
    assert_eq!(first.records, subjects(s, "a", 0)[2].0);
    s.insert_records(
        "a",
        c,
        nid,
        &mut (3..5).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let tail = subjects(s, "a", first.records);
    assert_eq!(
        tail.iter().map(|t| t.2.as_str()).collect::<Vec<_>>(),
        ["s3", "s4"]
    );
    // A copy held by b: its own id, the origin's facts, the disclosure.
    let d = s
        .insert_disclosure(&DisclosureRow {
            from_org: "a".into(),
            to_org: "b".into(),
            ..Default::default()
        })
        .unwrap();
    let o1 = s.collected("a", "s1").unwrap().unwrap().id;
    s.insert_copies("b", d, 20, &[(o1, "s1".into())]).unwrap();
    let copies = subjects(s, "b", 0);
    assert_eq!(copies.len(), 1);
    assert_eq!((copies[0].1, copies[0].3), (o1, Some(d)));
    assert_eq!(s.holdings_marks("b").unwrap().records, copies[0].0);
    assert_eq!(subjects(s, "b", copies[0].0), vec![]);
    // Events: ids rise, and those above a mark are the later ones.
    let p = |record: i64, at: i64, action: &str| PreferenceRow {
        record,
        at,
        action: action.into(),
        purpose: None,
        notice: None,
        source: "s".into(),
        recorded: None,
    };
    s.insert_preferences(&[p(o1, 5, "object-direct-marketing")])
        .unwrap();
    let mark = s.holdings_marks("a").unwrap().events;
    assert!(mark > 0);
    s.insert_preferences(&[
        p(o1, 3, "withdraw-objection"),
        p(tail[0].0, 1, "object-direct-marketing"),
    ])
    .unwrap();
    let mut later = vec![];
    s.for_each_preference_after(mark, &mut |id, r| {
        later.push((id, r.record, r.action.clone()));
        Ok(())
    })
    .unwrap();
    assert_eq!(later.len(), 2);
    assert!(later[0].0 > mark && later[1].0 > later[0].0);
    assert_eq!((later[0].1, later[1].1), (o1, tail[0].0));
    assert_eq!(s.holdings_marks("b").unwrap().events, later[1].0);
}

pub(crate) fn records_and_events_page_by_id_with_each_copy_s_origin(s: &mut impl Raw) {
    let (nid, c) = collecting(s);
    s.insert_org(&org("b")).unwrap();
    s.insert_records(
        "a",
        c,
        nid,
        &mut (0..5).map(|i| record(&format!("s{i}"))),
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let d = s
        .insert_disclosure(&DisclosureRow {
            from_org: "a".into(),
            to_org: "b".into(),
            ..Default::default()
        })
        .unwrap();
    let first = s.collected("a", "s0").unwrap().unwrap().id;
    s.insert_copies("b", d, 20, &[(first, "s0".into())])
        .unwrap();
    let events: Vec<PreferenceRow> = (0..3)
        .map(|i| PreferenceRow {
            record: first,
            at: i,
            action: "withdraw".into(),
            purpose: None,
            notice: None,
            source: format!("e{i}"),
            recorded: (i > 0).then_some(100 + i),
        })
        .collect();
    s.insert_preferences(&events).unwrap();

    let pages = |org: Option<&str>| {
        let mut all = Vec::new();
        let mut after = i64::MIN;
        loop {
            let page = s.records_page(org, after, 2).unwrap();
            let Some(last) = page.last() else { break };
            after = last.row.id;
            all.extend(page);
        }
        all
    };
    let all = pages(None);
    // One organisation's: its own and its copies, no one else's.
    assert_eq!(pages(Some("a")).len(), 5);
    let b = pages(Some("b"));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].row.id, all[5].row.id);
    let ids: Vec<i64> = all.iter().map(|r| r.row.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");
    assert_eq!(all.len(), 6, "five collected and one copy");
    let copy = all.last().unwrap();
    assert_eq!(
        (copy.row.org.as_str(), copy.row.origin, copy.origin_notice),
        ("b", Some(first), Some(nid))
    );
    assert_eq!(
        all[0].origin_notice, None,
        "a collected record has no origin"
    );

    let page = s.preferences_page(i64::MIN, 2).unwrap();
    assert_eq!(page.len(), 2);
    let rest = s.preferences_page(page[1].0, 10).unwrap();
    assert_eq!(
        rest.iter()
            .map(|(_, p)| p.source.as_str())
            .collect::<Vec<_>>(),
        ["e2"]
    );
}
