mod common;

use common::{Sandbox, MAPPING_TOML, MOTHERS, SIGNUPS_CSV};

/// Orgs and the 2017 notice, nothing collected.
fn published() -> Sandbox {
    let s = Sandbox::new();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    s.write("signups.mapping.toml", MAPPING_TOML);
    s
}

const BAD_ON_LINE_4: &str = "\
member_id,signed_up,first_name,last_name,email,address,postcode,child_dob,consent_offers,consent_partners
B01,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes
B02,2017-02-02,Bea,Bell,bea@example.org,2 Birch Rd,AB1 2BB,2016-11-02,no,no
B03,2017-02-03,Cat,Cole,cat@example.org,3 Cedar Rd,AB1 3CC,2016-10-03,maybe,yes
B04,2017-02-04,Dee,Dunn,dee@example.org,4 Elm Rd,AB1 4DD,2016-09-04,yes,yes
";

#[test]
fn collect_with_mapping() {
    let s = published();
    s.write("signups.csv", SIGNUPS_CSV);
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(out.contains(&format!("emmas-diary: {MOTHERS} rows from signups.csv under notice version 2017: {MOTHERS} new, 0 already held")), "{out}");
    let t = s.json(&["trace", "emmas-diary", "M06", "--json"]);
    assert_eq!(t["collected_at"], "2017-02-06");
    assert_eq!(t["notice"]["version"], "2017");
    assert_eq!(
        t["consented"],
        serde_json::json!(["offers", "partners"]),
        "`y` and `1` are yes"
    );
    let t = s.json(&["trace", "emmas-diary", "M02", "--json"]);
    assert_eq!(t["consented"], serde_json::json!([]));
}

#[test]
fn default_mapping_next_to_records() {
    let s = published();
    s.write("signups.csv", SIGNUPS_CSV); // signups.mapping.toml sits next to it
    let v = s.json(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--json",
    ]);
    assert_eq!(v["inserted"], MOTHERS as u64);
    s.write("other.csv", SIGNUPS_CSV);
    let err = s.fails(&["collect", "emmas-diary", "other.csv", "--notice", "2017"]);
    assert!(
        err.contains("cannot read the mapping other.mapping.toml") && err.contains("--mapping"),
        "{err}"
    );
}

#[test]
fn rerun_does_not_duplicate() {
    let s = published();
    s.write("signups.csv", SIGNUPS_CSV);
    let args = [
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ];
    s.ok(&args);
    let out = s.ok(&args);
    assert!(
        out.contains(&format!("0 new, {MOTHERS} already held")),
        "{out}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v = s.json(&json_args);
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["inserted"].as_u64(),
            v["already_held"].as_u64()
        ),
        (Some(6), Some(0), Some(6))
    );
    // a share of everyone still sees six people
    s.ok(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--at",
        "2017-04-01",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
    ]);
    assert_eq!(
        s.csv_rows("out.csv").len() - 1 + s.csv_rows("refused.csv").len() - 1,
        MOTHERS
    );
}

#[test]
fn bad_flag_fails_whole_file() {
    let s = published();
    s.write("bad.csv", BAD_ON_LINE_4);
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "bad.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(
        err.contains("bad.csv:4: consent_offers: `maybe` is not a consent flag"),
        "{err}"
    );
    // nothing landed, not even the good rows before it
    let err = s.fails(&["trace", "emmas-diary", "B01"]);
    assert!(
        err.contains("emmas-diary holds no record of subject `B01`"),
        "{err}"
    );
    assert!(!s.exists("bad.rejects.csv"));
}

#[test]
fn skip_bad_writes_rejects() {
    let s = published();
    s.write("bad.csv", BAD_ON_LINE_4);
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "bad.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
        "--skip-bad",
    ]);
    assert!(out.contains("4 rows from bad.csv under notice version 2017: 3 new, 0 already held, 1 rejected (see bad.rejects.csv)"), "{out}");
    let rejects = s.csv_rows("bad.rejects.csv");
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(
        rejects[0].ends_with(",consent_partners,error"),
        "{}",
        rejects[0]
    );
    assert!(
        rejects[1].starts_with("B03,2017-02-03,Cat,"),
        "{}",
        rejects[1]
    );
    assert!(
        rejects[1].contains("consent_offers: `maybe` is not a consent flag"),
        "{}",
        rejects[1]
    );
    s.ok(&["trace", "emmas-diary", "B04"]);
    let err = s.fails(&["trace", "emmas-diary", "B03"]);
    assert!(err.contains("no record of subject `B03`"), "{err}");
    // explicit rejects path
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "bad.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
        "--skip-bad",
        "--rejects",
        "rj.csv",
    ]);
    assert!(
        out.contains("0 new, 3 already held, 1 rejected (see rj.csv)"),
        "{out}"
    );
    assert!(s.read("rj.csv").contains("B03,"));
}

#[test]
fn rejects_needs_skip_bad() {
    let s = published();
    s.write("bad.csv", BAD_ON_LINE_4);
    s.custody(&[
        "collect",
        "emmas-diary",
        "bad.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
        "--rejects",
        "rj.csv",
    ])
    .failure()
    .code(2);
    assert!(!s.exists("rj.csv"));
}

#[test]
fn missing_mapping_column_names_the_field() {
    let s = published();
    s.write("signups.csv", SIGNUPS_CSV);
    s.write(
        "m2.toml",
        &MAPPING_TOML.replace("postcode = \"pd:PostalCode\"", "zip = \"pd:PostalCode\""),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "m2.toml",
    ]);
    assert!(
        err.contains("m2.toml: columns.zip: column `zip` is not in the records file"),
        "{err}"
    );
    assert!(
        err.contains("member_id, signed_up"),
        "lists the header: {err}"
    );
    s.write(
        "m3.toml",
        &MAPPING_TOML.replace("partners = \"consent_partners\"", "partners = \"tick\""),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "m3.toml",
    ]);
    assert!(
        err.contains("m3.toml: consents.partners: column `tick`"),
        "{err}"
    );
    s.write(
        "m4.toml",
        &MAPPING_TOML.replace(
            "partners = \"consent_partners\"",
            "politics = \"consent_partners\"",
        ),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "m4.toml",
    ]);
    assert!(
        err.contains("consents.politics: notice 2017 has no declaration `politics`"),
        "{err}"
    );
    s.write(
        "m5.toml",
        &MAPPING_TOML.replace("\"pd:PostalCode\"", "\"PostCodd\""),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "signups.csv",
        "--notice",
        "2017",
        "--mapping",
        "m5.toml",
    ]);
    assert!(
        err.contains("columns.postcode") && err.contains("unknown data-category `PostCodd`"),
        "{err}"
    );
    let err = s.fails(&["trace", "emmas-diary", "M01"]);
    assert!(err.contains("no record"), "{err}");
}

#[test]
fn collected_before_notice_effective_fails() {
    let s = published();
    s.write(
        "early.csv",
        &SIGNUPS_CSV.replace("2017-02-03,Cat", "2014-02-03,Cat"),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "early.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(err.contains("early.csv:4: signed_up: collected 2014-02-03 but notice 2017 took effect only on 2015-01-01"), "{err}");
    // without a collection column, --collected-at is checked the same way
    s.write("nodate.csv", "member_id,first_name\nN1,Nia\n");
    s.write(
        "nodate.mapping.toml",
        "subject = \"member_id\"\n[columns]\nfirst_name = \"Name\"\n",
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "nodate.csv",
        "--notice",
        "2017",
        "--collected-at",
        "2014-06-01",
    ]);
    assert!(
        err.contains("nodate.csv:2: collected_at: collected 2014-06-01"),
        "{err}"
    );
    let v = s.json(&[
        "collect",
        "emmas-diary",
        "nodate.csv",
        "--notice",
        "2017",
        "--collected-at",
        "2016-06-01",
        "--json",
    ]);
    assert_eq!(v["inserted"], 1);
    assert_eq!(
        s.json(&["trace", "emmas-diary", "N1", "--json"])["collected_at"],
        "2016-06-01"
    );
}

#[test]
fn unknown_notice_org_and_bad_date() {
    let s = published();
    s.write("signups.csv", SIGNUPS_CSV);
    let err = s.fails(&["collect", "emmas-diary", "signups.csv", "--notice", "2019"]);
    assert!(
        err.contains("no notice version `2019` (published: 2017)"),
        "{err}"
    );
    let err = s.fails(&["collect", "nobody", "signups.csv", "--notice", "2017"]);
    assert!(err.contains("no organisation `nobody`"), "{err}");
    s.write(
        "baddate.csv",
        &SIGNUPS_CSV.replace("2017-02-05,Eve", "05/02/2017,Eve"),
    );
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "baddate.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(
        err.contains("baddate.csv:6: signed_up: `05/02/2017` is not a date"),
        "{err}"
    );
    s.write("nosubject.csv", &SIGNUPS_CSV.replace("M02,", ","));
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "nosubject.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(
        err.contains("nosubject.csv:3: member_id: the subject identifier is empty"),
        "{err}"
    );
}

/// `n` sign-ups G000000.. in the SIGNUPS_CSV layout, starting at `from`.
fn many(from: usize, n: usize) -> String {
    let mut csv = SIGNUPS_CSV.lines().next().unwrap_or_default().to_string() + "\n";
    for i in from..from + n {
        csv +=
            &format!("G{i:06},2017-02-01,A,B,a{i}@example.org,{i} Rd,AB1 1AA,2016-12-01,yes,no\n");
    }
    csv
}

#[test]
fn a_bad_row_after_many_chunks_leaves_nothing() {
    // Records are stored a chunk of 65,536 at a time; a bad row in the third
    // chunk must still undo the first two.
    let s = published();
    let mut csv = many(0, 140_000);
    csv += "G999999,2017-02-01,A,B,x@example.org,1 Rd,AB1 1AA,2016-12-01,maybe,no\n";
    s.write("big.csv", &csv);
    let args = [
        "collect",
        "emmas-diary",
        "big.csv",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ];
    let err = s.fails(&args);
    assert!(err.contains("big.csv:140002: consent_offers"), "{err}");
    let n = s.count("SELECT count(*) FROM records");
    assert_eq!(n, 0);
    s.ok(&["log", "verify"]);
}

#[test]
fn an_overlapping_file_across_chunks_logs_only_new_records() {
    let s = published();
    let args = |f: &'static str| {
        [
            "collect",
            "emmas-diary",
            f,
            "--notice",
            "2017",
            "--mapping",
            "signups.mapping.toml",
            "--json",
        ]
    };
    s.write("first.csv", &many(0, 70_000));
    s.write("second.csv", &many(60_000, 80_000));
    let v = s.json(&args("first.csv"));
    assert_eq!(v["inserted"].as_u64(), Some(70_000));
    let v = s.json(&args("second.csv"));
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["inserted"].as_u64(),
            v["already_held"].as_u64()
        ),
        (Some(80_000), Some(70_000), Some(10_000))
    );
    // one entry per stored record and per file, and the tree checks out
    let out = s.ok(&["log", "verify"]);
    assert!(
        out.contains("verified: 140,006 entries") && out.contains("140,000 collected records"),
        "{out}"
    );
    let n = s.count("SELECT count(*) FROM records");
    assert_eq!(n, 140_000);
}

#[test]
fn a_column_no_declaration_covers_is_warned_of() {
    let collect = |s: &Sandbox, mapping: &str| {
        s.write("signups.csv", SIGNUPS_CSV);
        let (code, _, stderr) = s.run(&[
            "collect",
            "emmas-diary",
            "signups.csv",
            "--notice",
            "2017",
            "--mapping",
            mapping,
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        stderr
    };
    // The 2017 notice declares no location data.
    let s = published();
    s.write(
        "located.mapping.toml",
        &MAPPING_TOML.replace("postcode = \"pd:PostalCode\"", "postcode = \"pd:Location\""),
    );
    let stderr = collect(&s, "located.mapping.toml");
    assert!(
        stderr.contains(
            "warning: column `postcode` is collected as pd:Location, which no declaration of notice version 2017 covers"
        ),
        "{stderr}"
    );
    // The mapping that matches the notice draws no warning.
    assert!(!collect(&published(), "signups.mapping.toml").contains("warning"));
}

/// A file that is not well-formed CSV is named by line and column header,
/// in words: never the CSV reader's debug structures.
#[test]
fn malformed_csv_is_said_in_words() {
    let header = BAD_ON_LINE_4.lines().next().unwrap();
    let cases: &[(&str, Vec<u8>, &[&str])] = &[
        (
            "not UTF-8",
            [
                format!("{header}\nB01,2017-02-01,Ann,Ames,").into_bytes(),
                b"ann\xff@example.org".to_vec(),
                b",1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\n".to_vec(),
            ]
            .concat(),
            &["bad.csv:2: email: is not UTF-8 text"],
        ),
        (
            "a field too many",
            format!("{header}\nB01,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes,extra\n")
                .into_bytes(),
            &["bad.csv:2:", "this row has 11 fields, the header 10"],
        ),
        (
            "a subject twice",
            format!("{header}\nB01,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\nB02,2017-02-02,Bea,Bell,bea@example.org,2 Birch Rd,AB1 2BB,2016-11-02,no,no\nB01,2017-02-03,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,no,no\n")
                .into_bytes(),
            &["bad.csv:4: member_id: subject `B01` is also on line 2"],
        ),
        (
            "an escape sequence in the subject",
            format!("{header}\nB\x1b]0;owned\x07,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\n")
                .into_bytes(),
            &["bad.csv:2: member_id: the subject identifier holds the control character U+001B"],
        ),
        (
            "a bidirectional override in the subject",
            format!("{header}\nB01\u{202e}10B,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\n")
                .into_bytes(),
            &["bad.csv:2: member_id: the subject identifier holds the control character U+202E"],
        ),
        (
            "a control character in a field",
            format!("{header}\nB01,2017-02-01,Ann\x08\x08\x08Eve,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\n")
                .into_bytes(),
            &["bad.csv:2: first_name: the value holds the control character U+0008"],
        ),
        (
            "a field past 64 KiB",
            format!("{header}\nB01,2017-02-01,{},Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes\n", "A".repeat(70_000))
                .into_bytes(),
            &["bad.csv:2: first_name: the value is 70000 bytes long; a field is at most 64 KiB"],
        ),
        (
            "a row past 1 MiB (an unclosed quote)",
            format!("{header}\nB01,2017-02-01,\"Ann,Ames\n{}", "x,".repeat(1 << 20))
                .into_bytes(),
            &["bad.csv:2: -: this row is longer than 1 MiB"],
        ),
        (
            "a header past 1 MiB",
            format!("{header}{}\n", ",x".repeat(600_000)).into_bytes(),
            &["bad.csv:1: -: this row is longer than 1 MiB"],
        ),
    ];
    for (what, bytes, said) in cases {
        let s = published();
        std::fs::write(s.path("bad.csv"), bytes).unwrap();
        let err = s.fails(&[
            "collect",
            "emmas-diary",
            "bad.csv",
            "--notice",
            "2017",
            "--mapping",
            "signups.mapping.toml",
        ]);
        for x in *said {
            assert!(err.contains(x), "{what}: `{x}` not said: {err}");
        }
        assert!(!err.contains('{') && !err.contains("Utf8"), "{what}: {err}");
        assert!(
            !err.contains('\x1b') && !err.contains('\u{202e}'),
            "{what}: {err}"
        );
        assert_eq!(s.count("SELECT count(*) FROM records"), 0, "{what}");
    }
}

const COLLECT: [&str; 5] = ["collect", "emmas-diary", "--notice", "2017", "--mapping"];

/// `collect emmas-diary FILE --notice 2017 --mapping signups.mapping.toml`, then `more`.
fn collect<'a>(file: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = COLLECT[..2].to_vec();
    args.push(file);
    args.extend(&COLLECT[2..]);
    args.push("signups.mapping.toml");
    args.extend(more);
    args
}

#[test]
fn a_subject_twice_in_a_file_names_both_lines_or_is_set_aside() {
    // The second B000001 is in the third chunk: the store's index finds it.
    let s = published();
    let mut csv = many(0, 140_000);
    csv += "G000001,2017-03-01,A,B,again@example.org,1 Rd,AB1 1AA,2016-12-01,no,no\n";
    csv += "G000007,2017-03-01,A,B,again@example.org,1 Rd,AB1 1AA,2016-12-01,no,no\n";
    s.write("twice.csv", &csv);
    let err = s.fails(&collect("twice.csv", &[]));
    assert!(
        err.contains("twice.csv:140002: member_id: subject `G000001` is also on line 3"),
        "{err}"
    );
    assert_eq!(s.count("SELECT count(*) FROM records"), 0);

    let out = s.ok(&collect("twice.csv", &["--skip-bad"]));
    assert!(
        out.contains("140,002 rows from twice.csv under notice version 2017: 140,000 new, 0 already held, 2 rejected"),
        "{out}"
    );
    let rejects = s.csv_rows("twice.rejects.csv");
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    assert!(
        rejects[1].starts_with("G000001,2017-03-01,A,B,again@"),
        "{}",
        rejects[1]
    );
    assert!(rejects[1].ends_with("\"member_id: subject `G000001` is also on line 3: a file gives each person once (with --skip-bad, the later lines are set aside)\""), "{}", rejects[1]);
    assert!(rejects[2].contains("is also on line 9"), "{}", rejects[2]);
    // The first line's record is the one kept.
    let trace = s.ok(&["trace", "emmas-diary", "G000001"]);
    assert!(trace.contains("2017-02-01"), "{trace}");
    s.ok(&["log", "verify"]);
    // A subject already held from an earlier file is not a repeat.
    s.write("again.csv", &many(0, 2));
    let out = s.ok(&collect("again.csv", &[]));
    assert!(out.contains("0 new, 2 already held"), "{out}");
}

#[test]
fn an_endless_row_stops_at_the_limit() {
    // /dev/zero has no line break: the reader stops at the row limit
    // instead of growing (it grew past 1.7 GB).
    let s = published();
    s.write("zero.mapping.toml", MAPPING_TOML);
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "/dev/zero",
        "--notice",
        "2017",
        "--mapping",
        "zero.mapping.toml",
    ]);
    assert!(
        err.contains("/dev/zero:1: -: this row is longer than 1 MiB"),
        "{err}"
    );
}
