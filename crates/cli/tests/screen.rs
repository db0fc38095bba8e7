//! `custody screen`: a list checked against the holder's records and
//! consents, without disclosing.

mod common;

use std::collections::BTreeMap;

use common::{refused_rows, Sandbox, DM_TO_BROKER};

/// A generated dataset of `n` mothers loaded as the benchmark loads it:
/// both notices, the sign-ups, the 2017 preferences and the 2018 re-consents.
fn generated(n: usize) -> Sandbox {
    let s = Sandbox::new();
    s.ok(&["gen", "--subjects", &n.to_string(), "--out", "data"]);
    s.orgs();
    s.ok(&["notice", "publish", "emmas-diary", "data/notice-2017.toml"]);
    s.ok(&[
        "notice",
        "publish",
        "emmas-diary",
        "data/notice-2018-05.toml",
    ]);
    s.ok(&[
        "collect",
        "emmas-diary",
        "data/signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "data/signups.mapping.toml",
    ]);
    for f in ["data/preferences-2017.csv", "data/reconsents-2018.csv"] {
        s.ok(&["consent", "emmas-diary", "--file", f]);
    }
    s
}

const POLITICAL: &[&str] = &[
    "--to",
    "labour",
    "--purpose",
    "PoliticalCampaign",
    "--categories",
    "Name,PhysicalAddress,PostalCode",
    "--basis",
    "consent",
    "--at",
    "2018-10-01",
];

fn with<'a>(head: &[&'a str], terms: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(terms).chain(tail).copied().collect()
}

/// The rows of a CSV file without quotes, each as column -> value.
fn records(text: &str) -> std::collections::BTreeSet<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn reasons_by_subject(text: &str) -> BTreeMap<String, String> {
    refused_rows(text).into_iter().collect()
}

/// Screening gives every row the decision and reasons `share` gives the
/// same record: the political screening of 2018 and direct marketing to
/// the broker in 2017, over 3,000 generated mothers with their events.
#[test]
fn screen_decides_as_share_does() {
    let s = generated(3000);
    for (n, terms) in [POLITICAL, DM_TO_BROKER].iter().enumerate() {
        let (out, refused) = (format!("s{n}-out.csv"), format!("s{n}-refused.csv"));
        let report = s.json(&with(
            &["screen", "emmas-diary", "data/signups.csv"],
            terms,
            &["--out", &out, "--refused", &refused, "--json"],
        ));
        let shared = s.json(&with(
            &["share", "emmas-diary"],
            terms,
            &[
                "--out",
                &format!("d{n}-out.csv"),
                "--refused",
                &format!("d{n}-refused.csv"),
                "--json",
            ],
        ));
        assert_eq!(report["rows"], 3000);
        assert_eq!(report["allowed"], shared["allowed"], "{report}\n{shared}");
        assert_eq!(report["reasons"], shared["reasons"]);
        assert_eq!(
            reasons_by_subject(&s.read(&refused)),
            reasons_by_subject(&s.read(&format!("d{n}-refused.csv")))
        );
        // The same people with the same columns (a screening keeps the
        // list's column order, a disclosure the collection's).
        assert_eq!(
            records(&s.read(&out)),
            records(&s.read(&format!("d{n}-out.csv")))
        );
        assert!(report["classes"].as_u64().unwrap() < 3000 / 10, "{report}");
    }
    let allowed = s.csv_rows("s0-out.csv").len() - 1;
    assert!(allowed > 50, "some mothers re-consented in 2018: {allowed}");
    // Nothing recorded: the two shares made the only disclosures.
    let audit = s.json(&["audit", "emmas-diary", "--json"]);
    assert_eq!(
        audit["disclosures"].as_array().map(Vec::len),
        Some(2),
        "{audit}"
    );
}

/// The snapshot follows the store: a withdrawal recorded after a screening
/// (by a command that does not keep the snapshot current) is read at the
/// next, which catches up that one event.
#[test]
fn a_later_withdrawal_refuses_at_the_next_screening() {
    let s = generated(400);
    let first = s.json(&with(
        &["screen", "emmas-diary", "data/signups.csv"],
        POLITICAL,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    assert_eq!(
        first["snapshot"]["caught_up"]["records"], 0,
        "collect kept it current"
    );
    assert_eq!(first["snapshot"]["records"], 400);
    let someone = s.csv_rows("a.csv")[1]
        .split(',')
        .next()
        .unwrap()
        .to_string();
    s.ok(&[
        "consent",
        "emmas-diary",
        &someone,
        "--withdraw",
        "PoliticalCampaign",
        "--at",
        "2018-09-30",
    ]);
    let second = s.json(&with(
        &["screen", "emmas-diary", "data/signups.csv"],
        POLITICAL,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    assert_eq!(second["snapshot"]["caught_up"]["events"], 1, "{second}");
    assert_eq!(
        second["allowed"].as_u64().unwrap() + 1,
        first["allowed"].as_u64().unwrap()
    );
    assert_eq!(
        reasons_by_subject(&s.read("r.csv"))
            .get(&someone)
            .map(String::as_str),
        Some("consent-withdrawn")
    );
}

/// A list of the holder's own making: quoted fields (read by the full
/// parser), a person the holder does not hold, a column it never collected.
#[test]
fn a_list_with_quotes_strangers_and_unknown_columns() {
    let s = Sandbox::collected();
    s.write(
        "list.csv",
        "member_id,first_name,last_name,postcode,shoe_size\n\
         M01,Ann,\"Ames, Jr\",AB1 1AA,5\n\
         M99,Zoe,Zed,ZZ9 9ZZ,6\n\
         M02,Bea,Bell,AB1 2BB,4\n",
    );
    let r = s.json(&with(
        &["screen", "emmas-diary", "list.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    assert_eq!(r["rows"], 3);
    assert_eq!(r["not_held"], 1);
    assert_eq!(
        r["columns_sent"],
        serde_json::json!(["first_name", "last_name", "postcode"])
    );
    assert_eq!(r["columns_withheld"], serde_json::json!(["shoe_size"]));
    let refused = reasons_by_subject(&s.read("r.csv"));
    assert_eq!(refused.get("M99").map(String::as_str), Some("not-held"));
    // M01 ticked both boxes; the quoted comma stays in its field.
    assert_eq!(
        s.read("a.csv"),
        "subject,collector,first_name,last_name,postcode\nM01,emmas-diary,Ann,\"Ames, Jr\",AB1 1AA\n"
    );
    assert!(refused.contains_key("M02"), "M02 ticked no box");
}

#[test]
fn a_parquet_list_gives_parquet_sets_and_the_same_decisions() {
    let s = generated(300);
    s.ok(&[
        "gen",
        "--subjects",
        "300",
        "--out",
        "pq",
        "--format",
        "parquet",
    ]);
    let csv = s.json(&with(
        &["screen", "emmas-diary", "data/signups.csv"],
        POLITICAL,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    let pq = s.json(&with(
        &["screen", "emmas-diary", "pq/signups.parquet"],
        POLITICAL,
        &["--out", "a.parquet", "--refused", "r.parquet", "--json"],
    ));
    assert_eq!(csv["allowed"], pq["allowed"]);
    assert_eq!(csv["reasons"], pq["reasons"]);
    assert_eq!(&std::fs::read(s.path("a.parquet")).unwrap()[..4], b"PAR1");
    // Back to CSV by --out-format, to compare the rows themselves.
    s.ok(&with(
        &["screen", "emmas-diary", "pq/signups.parquet"],
        POLITICAL,
        &[
            "--out",
            "b.csv",
            "--refused",
            "q.csv",
            "--out-format",
            "csv",
        ],
    ));
    assert_eq!(s.read("b.csv"), s.read("a.csv"));
    assert_eq!(s.read("q.csv"), s.read("r.csv"));
}

#[test]
fn bad_lists_name_the_line_and_field_and_write_nothing() {
    let s = Sandbox::collected();
    s.write("empty.csv", "member_id,first_name\nM01,Ann\n,Nobody\n");
    let err = s.fails(&with(
        &["screen", "emmas-diary", "empty.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv"],
    ));
    assert!(err.contains("empty.csv:3: member_id: empty"), "{err}");
    // The same through the full parser, which quotes call for.
    s.write(
        "quoted.csv",
        "member_id,first_name\n\"M01\",Ann\n,\"No, body\"\n",
    );
    let err = s.fails(&with(
        &["screen", "emmas-diary", "quoted.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv"],
    ));
    assert!(err.contains("quoted.csv:3: member_id: empty"), "{err}");
    s.write("short.csv", "member_id,first_name\nM01,Ann\nM02\n");
    let err = s.fails(&with(
        &["screen", "emmas-diary", "short.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv"],
    ));
    assert!(err.contains("short.csv:3:"), "{err}");
    s.write("who.csv", "name\nAnn\n");
    let err = s.fails(&with(
        &["screen", "emmas-diary", "who.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv"],
    ));
    assert!(err.contains("--subject-column"), "{err}");
    assert!(!s.exists("a.csv") && !s.exists("r.csv"));
}

/// A snapshot is never read against another store: a new database at the
/// same path gets a fresh one.
#[test]
fn a_new_database_at_the_same_path_gets_a_fresh_snapshot() {
    let s = Sandbox::collected();
    if s.sqlite_only("replaces the SQLite file") {
        return;
    }
    let screen = |s: &Sandbox| {
        s.json(&with(
            &["screen", "emmas-diary", "signups.csv"],
            DM_TO_BROKER,
            &["--out", "a.csv", "--refused", "r.csv", "--json"],
        ))
    };
    assert_eq!(screen(&s)["snapshot"]["records"], 6);
    std::fs::remove_file(s.db()).unwrap();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    // Seven others: ids 1 to 6 now name other people, and 7 is new.
    let mut others = common::SIGNUPS_CSV.replace("M0", "X0");
    others += "X07,2017-02-07,Gil,Gray,gil@example.org,7 Yew Rd,AB1 7GG,2016-06-07,yes,yes\n";
    s.write("others.csv", &others);
    s.ok(&[
        "collect",
        "emmas-diary",
        "others.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    let r = s.json(&with(
        &["screen", "emmas-diary", "others.csv"],
        DM_TO_BROKER,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    assert_eq!(r["snapshot"]["records"], 7, "{r}");
    assert_eq!(r["not_held"], 0, "{r}");
}

/// A broker screens the copies it holds as it would share them onward:
/// the terms it received them under travel with them.
#[test]
fn a_brokers_copies_are_screened_as_they_would_be_shared() {
    let s = Sandbox::collected();
    s.ok(&common::share_dm(&[
        "--out",
        "bought.csv",
        "--refused",
        "no.csv",
    ]));
    let onward: &[&str] = &[
        "--to",
        "labour",
        "--purpose",
        "PoliticalCampaign",
        "--categories",
        "Name,PostalCode",
        "--at",
        "2017-05-20",
    ];
    let r = s.json(&with(
        &["screen", "experian", "signups.csv"],
        onward,
        &["--out", "a.csv", "--refused", "r.csv", "--json"],
    ));
    let held = s.csv_rows("bought.csv").len() as u64 - 1;
    assert!(held > 0);
    assert_eq!(r["not_held"].as_u64(), Some(6 - held), "{r}");
    s.ok(&with(
        &["share", "experian"],
        onward,
        &["--out", "d.csv", "--refused", "dr.csv"],
    ));
    let screened = reasons_by_subject(&s.read("r.csv"));
    for (subject, reasons) in reasons_by_subject(&s.read("dr.csv")) {
        assert_eq!(screened.get(&subject), Some(&reasons), "{subject}");
    }
    assert!(
        screened
            .values()
            .any(|r| r.contains("onward-purpose-not-received")),
        "{screened:?}"
    );
}
