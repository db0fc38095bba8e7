//! `share_named` against `share`: the same requests, in batches or one by
//! one, on copies of one database, must give the same reports, the same
//! rows and the same log entries.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use custody_core::organisation::{Organisation, Role};
use custody_core::time::parse_instant;
use custody_store::{SqliteStore, Store};
use rand::{Rng, SeedableRng};

use crate::collection::CollectSpec;
use crate::disclosure::{Named, NamedShare, Selection, ShareReport, ShareSpec, Terms};
use crate::log::signing_key;
use crate::{Engine, Silent};
use custody_synth::Synth;

const SUBJECTS: u64 = 300;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/emmas-diary")
        .join(name)
}

fn open(dir: &Path) -> Engine<SqliteStore> {
    Engine::open(
        SqliteStore::open(&dir.join("custody.db")).unwrap(),
        signing_key::load(&dir.join("custody.key")).unwrap(),
    )
    .unwrap()
}

/// The Emma's Diary case: three organisations, both notices, the mothers
/// with their 2017 events and 2018 re-consents, and a disclosure to
/// Experian for marketing, so that Experian holds copies to pass on.
/// Returns every mother's id, and those who re-consented in 2018 first.
fn base(dir: &Path) -> Vec<String> {
    signing_key::create(&dir.join("custody.key"), "test.custody.invalid/log").unwrap();
    let mut e = open(dir);
    e.init_log().unwrap();
    for (id, role) in [
        ("emmas-diary", Role::Controller),
        ("experian", Role::Broker),
        ("labour", Role::Campaign),
    ] {
        e.add_org(&Organisation {
            id: id.into(),
            name: id.into(),
            role,
            categories: role.default_categories(),
        })
        .unwrap();
    }
    let synth = Synth::new(SUBJECTS, 7);
    let create = |name: &str| BufWriter::new(File::create(dir.join(name)).unwrap());
    synth.write_signups(create("signups.csv")).unwrap();
    synth
        .write_preferences(create("preferences-2017.csv"))
        .unwrap();
    synth
        .write_reconsents(create("reconsents-2018.csv"))
        .unwrap();
    e.publish_notice("emmas-diary", &example("notice-2017.toml"))
        .unwrap();
    e.collect(
        &CollectSpec {
            org: "emmas-diary",
            records: &dir.join("signups.csv"),
            mapping: Some(&example("signups.mapping.toml")),
            mapping_source: None,
            name: None,
            notice: "2017",
            collected_at: None,
            rejects: None,
            format: None,
        },
        &Silent,
    )
    .unwrap();
    let now = chrono::Utc::now();
    e.import_preferences("emmas-diary", &dir.join("preferences-2017.csv"), now)
        .unwrap();
    e.publish_notice("emmas-diary", &example("notice-2018-05.toml"))
        .unwrap();
    e.import_preferences("emmas-diary", &dir.join("reconsents-2018.csv"), now)
        .unwrap();
    e.share(
        &ShareSpec {
            terms: &Terms {
                from: "emmas-diary".into(),
                to: "experian".into(),
                on_behalf_of: None,
                purposes: vec!["Marketing".into()],
                categories: vec!["Name".into(), "PostalCode".into()],
                basis: None,
                at: Some(parse_instant("2016-06-01").unwrap()),
            },
            records: Selection::All,
            out: None,
            refused: None,
            report: None,
            out_format: None,
        },
        None,
        &Silent,
    )
    .unwrap();
    let mut mothers: Vec<_> = (0..SUBJECTS).map(|i| synth.mother(i)).collect();
    mothers.sort_by_key(|m| m.reconsents_political.is_none());
    mothers.into_iter().map(|m| m.id).collect()
}

/// Mothers who may go to Experian for marketing in May 2017 and who signed
/// up after the base's disclosure to it: a disclosure now makes new copies.
fn fresh_partners() -> Vec<String> {
    let synth = Synth::new(SUBJECTS, 7);
    let june = chrono::NaiveDate::from_ymd_opt(2016, 6, 1).unwrap();
    (0..SUBJECTS)
        .map(|i| synth.mother(i))
        .filter(|m| {
            m.consent_partners
                && m.withdrew_partners.is_none()
                && m.objected_dm.is_none()
                && m.signed_up > june
        })
        .map(|m| m.id)
        .collect()
}

/// Requests of every kind: both disclosers (Experian's onward), several
/// purposes, categories and instants, a basis or none, subjects held or
/// not, listed twice, and requests refused before recording.
fn requests(subjects: &[String], n: usize, seed: u64) -> Vec<NamedShare> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    // The first ones re-consented (see `base`): the lawful 2018 request
    // allows them, so half the requests draw from them.
    let yes = subjects.len() / 10;
    let mut pick = |v: &[&str]| v[rng.gen_range(0..v.len())].to_string();
    let mut out = Vec::new();
    for _ in 0..n {
        let from = pick(&["emmas-diary", "emmas-diary", "experian", "nobody"]);
        let to = pick(&["experian", "labour", "labour", "emmas-diary"]);
        let purposes = vec![pick(&[
            "PoliticalCampaign",
            "Marketing",
            "DirectMarketing",
            "ServiceProvision",
            "NotAPurpose",
        ])];
        let categories = match pick(&["a", "b", "c", "d"]).as_str() {
            "a" => vec!["Name".into()],
            "b" => vec!["Name".into(), "PhysicalAddress".into(), "PostalCode".into()],
            "c" => vec!["Name".into(), "custody:ChildBirthDate".into()],
            _ => vec!["EmailAddress".into(), "custody:PregnancyDueDate".into()],
        };
        let basis = match pick(&["", "", "consent", "legitimate-interests"]).as_str() {
            "" => None,
            b => Some(b.to_string()),
        };
        let at = pick(&["2016-01-01", "2017-05-10", "2018-10-01", "2030-01-01"]);
        let mut rng2 = rand_pcg::Pcg64::seed_from_u64(out.len() as u64 ^ seed);
        let k = rng2.gen_range(0..4);
        let lawful = rng2.gen_bool(0.5);
        let range = if lawful { 0..yes } else { 0..subjects.len() };
        let mut list: Vec<String> = (0..k)
            .map(|_| subjects[rng2.gen_range(range.clone())].clone())
            .collect();
        if rng2.gen_bool(0.2) {
            list.push("ED-nobody".into());
        }
        if rng2.gen_bool(0.2) && !list.is_empty() {
            list.push(list[0].clone());
        }
        let on_behalf_of = rng2.gen_bool(0.2).then(|| "labour".to_string());
        out.push(if lawful {
            NamedShare {
                terms: Terms {
                    from: "emmas-diary".into(),
                    to: "labour".into(),
                    on_behalf_of: None,
                    purposes: vec!["PoliticalCampaign".into()],
                    categories: vec!["Name".into(), "PostalCode".into()],
                    basis: rng2.gen_bool(0.5).then(|| "consent".into()),
                    at: Some(parse_instant(&at).unwrap()),
                },
                subjects: names(&list),
            }
        } else {
            NamedShare {
                terms: Terms {
                    from,
                    to,
                    on_behalf_of,
                    purposes,
                    categories,
                    basis,
                    at: Some(parse_instant(&at).unwrap()),
                },
                subjects: names(&list),
            }
        });
    }
    out
}

fn names(subjects: &[String]) -> Vec<Named> {
    subjects.iter().map(Named::subject).collect()
}

fn via_share(e: &mut Engine<SqliteStore>, r: &NamedShare) -> crate::Result<ShareReport> {
    e.share(
        &ShareSpec {
            terms: &r.terms,
            records: Selection::List(r.subjects.clone()),
            out: None,
            refused: None,
            report: None,
            out_format: None,
        },
        None,
        &Silent,
    )
}

/// Everything a disclosure leaves behind, but the time it was made.
fn state(s: &SqliteStore) -> String {
    let mut out = String::new();
    for mut d in s.disclosures(None).unwrap() {
        d.created_at = 0;
        d.recorded = None;
        out += &format!("{d:?}\n");
        s.for_each_decision(d.id, &mut |r| {
            out += &format!("  {r:?}\n");
            Ok(())
        })
        .unwrap();
    }
    for org in ["emmas-diary", "experian", "labour"] {
        s.for_each_held(org, &mut |h| {
            out += &format!(
                "{org} {} {} {} {} {:?}\n",
                h.id, h.subject, h.origin, h.notice, h.received_via
            );
            Ok(())
        })
        .unwrap();
    }
    // The entries, without when they were recorded (so not the root either).
    s.for_each_log_entry(0, &mut |i, e| {
        let mut entry = custody_core::entry::Entry::decode(e).unwrap();
        if let custody_core::entry::Entry::DisclosureRecorded { created_at, .. } = &mut entry {
            *created_at = None;
        }
        out += &format!("{i} {entry:?}\n");
        Ok(())
    })
    .unwrap();
    let (_, note) = s.latest_checkpoint().unwrap().unwrap();
    // The checkpoint's origin and size; not how many were signed.
    out += &note.lines().take(2).collect::<Vec<_>>().join("\n");
    out
}

fn report_text(r: &crate::Result<ShareReport>) -> String {
    match r {
        Ok(r) => serde_json::to_string(r).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn named_disclosures_leave_what_share_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = base(dir.path());
    let copy = |name: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        for f in ["custody.db", "custody.key"] {
            std::fs::copy(dir.path().join(f), d.join(f)).unwrap();
        }
        d
    };
    let (a, b, c) = (copy("share"), copy("batched"), copy("alone"));
    let mut reqs = requests(&subjects, 240, 11);
    // In one batch (the second, of three): a disclosure that gives Experian
    // new copies, then Experian passing those on, which must see them.
    let fresh: Vec<String> = fresh_partners().into_iter().take(3).collect();
    assert_eq!(fresh.len(), 3);
    let to_experian = NamedShare {
        terms: Terms {
            from: "emmas-diary".into(),
            to: "experian".into(),
            on_behalf_of: None,
            purposes: vec!["Marketing".into()],
            categories: vec!["Name".into()],
            basis: None,
            at: Some(parse_instant("2017-05-01").unwrap()),
        },
        subjects: names(&fresh),
    };
    let onward = NamedShare {
        terms: Terms {
            from: "experian".into(),
            to: "labour".into(),
            ..to_experian.terms.clone()
        },
        ..to_experian.clone()
    };
    reqs.splice(1..1, [to_experian, onward]);

    let mut ea = open(&a);
    let by_share: Vec<String> = reqs
        .iter()
        .map(|r| report_text(&via_share(&mut ea, r)))
        .collect();
    assert!(
        by_share.iter().filter(|r| r.starts_with("error")).count() > 10,
        "the requests include refused ones"
    );
    assert!(
        by_share
            .iter()
            .filter(|r| r.contains("\"allowed\":1"))
            .count()
            > 5,
        "the requests include allowed records: {by_share:#?}"
    );

    // In batches of varied sizes: one, a few, many.
    let mut eb = open(&b);
    let mut batched = Vec::new();
    let mut rest = &reqs[..];
    for size in [1, 3, 17, 64, 2, 100].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at((*size).min(rest.len()));
        batched.extend(eb.share_named(now).iter().map(report_text));
        rest = later;
    }
    // One request at a time.
    let mut ec = open(&c);
    let alone: Vec<String> = reqs
        .iter()
        .flat_map(|r| ec.share_named(std::slice::from_ref(r)))
        .map(|r| report_text(&r))
        .collect();

    let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(json(&by_share[1])["allowed"], 3, "{}", by_share[1]);
    assert_eq!(json(&by_share[2])["not_held"], 0, "{}", by_share[2]);
    for (i, ((s, b), c)) in by_share.iter().zip(&batched).zip(&alone).enumerate() {
        assert_eq!(s, b, "request {i} batched: {:?}", reqs[i]);
        assert_eq!(s, c, "request {i} alone: {:?}", reqs[i]);
    }
    let want = state(&ea.store);
    assert_eq!(want, state(&eb.store));
    assert_eq!(want, state(&ec.store));
    eb.verify_log(None, &Silent).unwrap();
}

#[test]
fn a_failing_request_does_not_fail_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = base(dir.path());
    let mut e = open(dir.path());
    let good = NamedShare {
        terms: Terms {
            from: "emmas-diary".into(),
            to: "labour".into(),
            on_behalf_of: None,
            purposes: vec!["PoliticalCampaign".into()],
            categories: vec!["Name".into()],
            basis: None,
            at: None,
        },
        subjects: names(&subjects[..1]),
    };
    let unknown = NamedShare {
        terms: Terms {
            to: "nobody".into(),
            ..good.terms.clone()
        },
        ..good.clone()
    };
    let results = e.share_named(&[good.clone(), unknown, good.clone()]);
    assert!(results[1].is_err());
    let (first, last) = (
        results[0].as_ref().unwrap().disclosure,
        results[2].as_ref().unwrap().disclosure,
    );
    assert_eq!(last, first + 1, "each request its own disclosure");
    e.verify_log(None, &Silent).unwrap();
}

#[test]
fn a_request_failing_inside_the_transaction_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = base(dir.path());
    let mut e = open(dir.path());
    let good = NamedShare {
        terms: Terms {
            from: "emmas-diary".into(),
            to: "labour".into(),
            on_behalf_of: None,
            purposes: vec!["PoliticalCampaign".into()],
            categories: vec!["Name".into()],
            basis: None,
            at: None,
        },
        subjects: names(&subjects[1..3]),
    };
    let before = e.store.log_size().unwrap();
    // Past the checks, the store refuses it (no such organisation): the
    // batch's transaction fails, and each request is recorded on its own.
    let mut bad = e.resolve_named(&good).unwrap();
    bad.row.on_behalf_of = Some("ghost".into());
    let results = e.share_resolved(vec![
        e.resolve_named(&good),
        Ok(bad),
        e.resolve_named(&good),
    ]);
    assert!(results[1].is_err(), "{:?}", results[1].as_ref().err());
    let ids: Vec<i64> = [&results[0], &results[2]]
        .iter()
        .map(|r| r.as_ref().unwrap().disclosure)
        .collect();
    assert_eq!(ids[1], ids[0] + 1);
    // Two disclosures of two records each: 2 x (1 + 2) entries.
    assert_eq!(e.store.log_size().unwrap(), before + 6);
    e.verify_log(None, &Silent).unwrap();
}

/// The server's named shares cannot verify before each request: the writer
/// verifies once, keeps what it verified by its own writes, and verifies
/// again after anyone else's (`log/vouch.rs`). An edit made in another tool
/// between two requests refuses the second; custody's own writes from
/// another connection are verified and taken in.
#[test]
fn named_shares_rest_on_what_the_log_vouches_for() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = base(dir.path());
    let mut e = open(dir.path());
    let request = |subjects: &[String], to: &str| NamedShare {
        terms: Terms {
            from: "emmas-diary".into(),
            to: to.into(),
            on_behalf_of: None,
            purposes: vec!["Marketing".into()],
            categories: vec!["Name".into()],
            basis: None,
            at: None,
        },
        subjects: names(subjects),
    };
    let first = e.share_named(&[request(&subjects[..5], "experian")]);
    assert!(first[0].is_ok(), "{:?}", first[0].as_ref().err());

    // Custody's own write on another connection: a new recipient. The
    // writer verifies again, takes in the organisation and decides.
    let mut other = open(dir.path());
    other
        .add_org(&Organisation {
            id: "acme".into(),
            name: "Acme".into(),
            role: Role::Broker,
            categories: Role::Broker.default_categories(),
        })
        .unwrap();
    drop(other);
    let after_custody = e.share_named(&[request(&subjects[..5], "acme")]);
    assert!(
        after_custody[0].is_ok(),
        "{:?}",
        after_custody[0].as_ref().err()
    );

    // An edit no entry records: a record's consents rewritten.
    let db = rusqlite::Connection::open(dir.path().join("custody.db")).unwrap();
    db.execute(
        "UPDATE records SET consented = consented | 65535 WHERE id = (SELECT min(id) FROM records)",
        [],
    )
    .unwrap();
    drop(db);
    let disclosures = |e: &Engine<SqliteStore>| {
        e.store
            .state_counts(custody_store::Tally::Whole)
            .unwrap()
            .disclosures
    };
    let before = disclosures(&e);
    let after_edit = e.share_named(&[request(&subjects[..5], "experian")]);
    let message = after_edit[0].as_ref().unwrap_err().to_string();
    assert!(
        message.contains("no longer verifies") && message.contains("records"),
        "{message}"
    );
    assert_eq!(disclosures(&e), before, "nothing recorded");
    // Refused until the store verifies again, not only the first time.
    let again = e.share_named(&[request(&subjects[..5], "experian")]);
    assert!(again[0].is_err());
}
