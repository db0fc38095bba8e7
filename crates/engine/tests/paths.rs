//! Every path that decides a disclosure gives the same answer, holding by
//! holding (issue 14, point 4): `share` of everyone, a named share, `screen`
//! of a list of every holding, and the plain evaluator over the facts the
//! store holds. Random holdings: two collectors that spell identifiers
//! alike under different notices, a broker holding copies from both, random
//! consent histories under two notice versions, and several requests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_core::decision::{decide, Context, Request};
use custody_core::organisation::{Organisation, Role};
use custody_core::reason::ReasonSet;
use custody_core::recipient::RecipientCategory;
use custody_core::time::parse_instant;
use custody_core::vocab::TermKind;
use custody_engine::collection::CollectSpec;
use custody_engine::disclosure::{Named, NamedShare, Selection, ShareSpec, Terms};
use custody_engine::holdings::Holdings;
use custody_engine::log::signing_key;
use custody_engine::screen::ScreenSpec;
use custody_engine::snapshot::SnapshotDir;
use custody_engine::{Engine, Silent};
use custody_store::{SqliteStore, Store};
use proptest::prelude::*;

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/emmas-diary")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

const MAPPING: &str = r#"
subject = "member_id"
collected_at = "signed_up"
[columns]
first_name = "pd:Name"
postcode = "pd:PostalCode"
[consents]
offers = "consent_offers"
partners = "consent_partners"
"#;

const PURPOSES: &[&str] = &["Marketing", "DirectMarketing", "PoliticalCampaign"];
const AT: &[&str] = &["2017-05-01", "2018-08-01", "2019-03-01"];

/// One person at one collector: ticked boxes and later events (action,
/// purpose, day after 2017-03-01, under the 2018-05 notice).
#[derive(Debug, Clone)]
struct Person {
    offers: bool,
    partners: bool,
    events: Vec<(u8, usize, u16, bool)>,
}

#[derive(Debug, Clone)]
struct Case {
    /// Per subject: at Emma's Diary, at Bounty (at least one).
    people: Vec<(Option<Person>, Option<Person>)>,
    /// (from Experian, else Emma's Diary; recipient; purposes; at)
    requests: Vec<(bool, usize, Vec<usize>, usize)>,
}

fn person() -> impl Strategy<Value = Person> {
    (
        any::<bool>(),
        // Mostly ticked: the broker holds copies to pass on.
        prop::bool::weighted(0.8),
        prop::collection::vec((0u8..4, 0..PURPOSES.len(), 0u16..800, any::<bool>()), 0..5),
    )
        .prop_map(|(offers, partners, events)| Person {
            offers,
            partners,
            events,
        })
}

fn case() -> impl Strategy<Value = Case> {
    // Mostly at both clubs under one identifier: the case in question.
    let holding = prop_oneof![
        3 => (person(), person()).prop_map(|(a, b)| (Some(a), Some(b))),
        1 => person().prop_map(|a| (Some(a), None)),
        1 => person().prop_map(|b| (None, Some(b))),
    ];
    (
        prop::collection::vec(holding, 1..10),
        prop::collection::vec(
            (
                any::<bool>(),
                0usize..3,
                prop::collection::vec(0..PURPOSES.len(), 1..3),
                0..AT.len(),
            ),
            1..4,
        ),
    )
        .prop_map(|(people, requests)| Case { people, requests })
}

struct World {
    dir: tempfile::TempDir,
    engine: Engine<SqliteStore>,
}

impl World {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn build(c: &Case) -> World {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("custody.key");
        signing_key::create(&key, "test.custody.invalid/log").unwrap();
        let engine = Engine::open(
            SqliteStore::open(&dir.path().join("custody.db")).unwrap(),
            signing_key::load(&key).unwrap(),
        )
        .unwrap();
        let mut w = World { dir, engine };
        let e = &mut w.engine;
        e.init_log().unwrap();
        for (id, role, category) in [
            ("emmas-diary", Role::Controller, None),
            ("bounty", Role::Controller, None),
            ("experian", Role::Broker, None),
            ("labour", Role::Campaign, None),
            ("acme", Role::Controller, Some("marketing-company")),
        ] {
            let mut categories = role.default_categories();
            categories.extend(category.map(|c| RecipientCategory::parse(c).unwrap()));
            e.add_org(&Organisation {
                id: id.into(),
                name: id.into(),
                role,
                categories,
            })
            .unwrap();
        }
        // Bounty names data brokers only; Emma's Diary marketing companies too.
        let bounty = example("notice-2017.toml").replace(
            "recipients.categories = [\"marketing company\", \"data broker\"]",
            "recipients.categories = [\"data broker\"]",
        );
        let notices = [
            ("emmas-diary", "a-2017.toml", example("notice-2017.toml")),
            ("bounty", "b-2017.toml", bounty),
            ("emmas-diary", "a-2018.toml", example("notice-2018-05.toml")),
        ];
        let mapping = w.write("mapping.toml", MAPPING);
        for (n, (org, file, text)) in notices.iter().enumerate() {
            let path = w.write(file, text);
            w.engine.publish_notice(org, &path).unwrap();
            if n == 2 {
                break;
            }
            let which = |p: &(Option<Person>, Option<Person>)| match *org {
                "emmas-diary" => p.0.clone(),
                _ => p.1.clone(),
            };
            let mut signups = String::from(
                "member_id,signed_up,first_name,postcode,consent_offers,consent_partners\n",
            );
            for (i, p) in c.people.iter().enumerate() {
                if let Some(p) = which(p) {
                    signups.push_str(&format!(
                        "S{i:02},2017-02-{:02},N{i},AB1 1AA,{},{}\n",
                        1 + i % 20,
                        p.offers,
                        p.partners
                    ));
                }
            }
            let signups = w.write(&format!("{org}.csv"), &signups);
            w.engine
                .collect(
                    &CollectSpec {
                        org,
                        records: &signups,
                        mapping: Some(&mapping),
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
        }
        w.events(c);
        for club in ["emmas-diary", "bounty"] {
            let terms = terms(club, "experian", &["Marketing"], "2017-04-01");
            w.share(&terms, Selection::All);
        }
        w
    }

    /// Emma's Diary's events; under 2018-05 only from its effective date.
    fn events(&mut self, c: &Case) {
        let mut csv = String::from("subject,action,purpose,at,notice\n");
        let start = parse_instant("2017-03-01").unwrap();
        let effective = parse_instant("2018-05-25").unwrap();
        for (i, (a, _)) in c.people.iter().enumerate() {
            let Some(p) = a else { continue };
            for &(action, purpose, day, newer) in &p.events {
                let at = start + chrono::Duration::days(day as i64);
                let newer = newer && at >= effective;
                let (action, purpose) = match action {
                    0 => ("give", PURPOSES[purpose]),
                    1 => ("withdraw", PURPOSES[purpose]),
                    2 => ("object-direct-marketing", ""),
                    _ => ("withdraw-objection", ""),
                };
                let notice = if newer { "2018-05" } else { "" };
                csv.push_str(&format!(
                    "S{i:02},{action},{purpose},{},{notice}\n",
                    at.format("%Y-%m-%d")
                ));
            }
        }
        let path = self.write("events.csv", &csv);
        self.engine
            .import_preferences("emmas-diary", &path, chrono::Utc::now())
            .unwrap();
    }

    fn share(&mut self, terms: &Terms, records: Selection) {
        let (out, refused) = (self.path("out.csv"), self.path("refused.csv"));
        self.engine
            .share(
                &ShareSpec {
                    terms,
                    records,
                    out: Some(&out),
                    refused: Some(&refused),
                    report: None,
                    out_format: None,
                },
                None,
                &Silent,
            )
            .unwrap();
    }
}

/// A request for `Name`, on no claimed basis.
fn terms(from: &str, to: &str, purposes: &[&str], at: &str) -> Terms {
    Terms {
        from: from.into(),
        to: to.into(),
        on_behalf_of: None,
        purposes: purposes.iter().map(|p| p.to_string()).collect(),
        categories: vec!["Name".into()],
        basis: None,
        at: Some(parse_instant(at).unwrap()),
    }
}

/// (subject, collector) -> reason ids ("" allowed), from a pair of files.
type Answers = BTreeMap<(String, String), String>;

fn read_answers(out: &Path, refused: &Path) -> Answers {
    let mut answers = Answers::new();
    for (path, allowed) in [(out, true), (refused, false)] {
        let mut r = csv::Reader::from_path(path).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let reasons = if allowed { "" } else { &rec[2] };
            let ids = ReasonSet::from_ids(reasons).unwrap().to_ids();
            let key = (rec[0].to_string(), rec[1].to_string());
            assert!(
                answers.insert(key, ids).is_none(),
                "{path:?} names a holding twice"
            );
        }
    }
    answers
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_path_gives_each_holding_the_same_answer(c in case()) {
        let mut w = World::build(&c);
        for (from_broker, to, purposes, at) in &c.requests {
            let from = if *from_broker { "experian" } else { "emmas-diary" };
            let to = ["acme", "labour", "experian"][*to];
            if from == to {
                continue;
            }
            let purposes: Vec<&str> = purposes.iter().map(|p| PURPOSES[*p]).collect();
            let at = AT[*at];

            // The plain evaluator over what the store holds.
            let plain = {
                let e = &w.engine;
                let holdings = Holdings::load(&e.store, &e.vocab, from).unwrap();
                let ctx = Context::new(&e.vocab, &holdings.notices);
                let req = Request {
                    purposes: purposes.iter().map(|p| e.vocab.resolve(TermKind::Purpose, p).unwrap()).collect(),
                    categories: vec![e.vocab.resolve(TermKind::DataCategory, "Name").unwrap()],
                    recipient: e.store.org(to).unwrap().unwrap(),
                    on_behalf_of: None,
                    basis: None,
                    at: parse_instant(at).unwrap(),
                };
                let mut answers = Answers::new();
                e.store.for_each_held(from, &mut |h| {
                    let d = decide(&ctx, &req, &holdings.facts(h).unwrap());
                    let key = (h.subject.to_string(), holdings.collector(h.notice).unwrap().to_string());
                    answers.insert(key, d.reasons.to_ids());
                    Ok(())
                }).unwrap();
                answers
            };
            let holdings: Vec<(String, String)> = plain.keys().cloned().collect();

            // screen of a list naming every holding.
            let mut list = String::from("subject,collector\n");
            for (s, c) in &holdings {
                list.push_str(&format!("{s},{c}\n"));
            }
            let list = w.write("list.csv", &list);
            let terms = terms(from, to, &purposes, at);
            let (out, refused) = (w.path("s-out.csv"), w.path("s-refused.csv"));
            w.engine.screen(
                &ScreenSpec {
                    terms: &terms, list: &list, format: None, subject_column: None,
                    out: &out, refused: &refused, out_format: None,
                },
                &SnapshotDir::new(w.path("snapshots")),
                &Silent,
            ).unwrap();
            let screened = read_answers(&out, &refused);

            // A named share per holding, in one batch.
            let shares: Vec<NamedShare> = holdings.iter().map(|(s, c)| NamedShare {
                terms: terms.clone(),
                subjects: vec![Named { subject: s.clone(), collector: Some(c.clone()) }],
            }).collect();
            let mut named = Answers::new();
            for (h, r) in holdings.iter().zip(w.engine.share_named(&shares)) {
                let r = r.unwrap();
                let ids: Vec<&str> = r.reasons.iter().map(|c| c.id).collect();
                named.insert(h.clone(), ReasonSet::from_ids(&ids.join(";")).unwrap().to_ids());
            }

            // share of everyone.
            w.share(&terms, Selection::All);
            let shared = read_answers(&w.path("out.csv"), &w.path("refused.csv"));

            prop_assert_eq!(&screened, &plain, "screen, {} -> {} {:?} {}", from, to, purposes, at);
            prop_assert_eq!(&named, &plain, "named share, {} -> {} {:?} {}", from, to, purposes, at);
            prop_assert_eq!(&shared, &plain, "share, {} -> {} {:?} {}", from, to, purposes, at);
        }
        // The audit re-evaluates every recorded decision: nobody the gate
        // let through is found wronged.
        for org in ["emmas-diary", "bounty", "experian"] {
            let audit = w.engine.audit(org, &Silent).unwrap();
            prop_assert_eq!(audit.people_wronged, 0, "{}: {:?}", org, audit.reasons);
        }
    }
}
