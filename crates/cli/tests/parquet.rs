//! CSV and Apache Parquet, in and out: collect and share read either, and share
//! writes its outputs in the format of its input (or --out-format).

mod common;

use std::path::Path;

use common::{share_dm, Sandbox, MAPPING_TOML, SIGNUPS_CSV};
use custody_engine::table::{Format, RowReader, RowWriter};

/// Writes CSV text as a Parquet file of text columns.
fn to_parquet(csv_text: &str, path: &Path) {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut w = RowWriter::new(
        std::fs::File::create(path).unwrap(),
        Format::Parquet,
        &header,
    )
    .unwrap();
    for rec in r.records() {
        w.write(rec.unwrap().iter()).unwrap();
    }
    w.finish().unwrap();
}

fn rows(path: &Path, format: Format) -> Vec<Vec<String>> {
    let mut r = RowReader::open(path, format).unwrap();
    let mut out = vec![r.header().to_vec()];
    let mut rec = csv::StringRecord::new();
    while r.read(&mut rec).unwrap() {
        out.push(rec.iter().map(str::to_string).collect());
    }
    out
}

fn parquet_case() -> Sandbox {
    let s = Sandbox::new();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    to_parquet(SIGNUPS_CSV, &s.path("signups.parquet"));
    s.write("signups.mapping.toml", MAPPING_TOML);
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "signups.parquet",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(out.contains('6'), "{out}");
    s
}

#[test]
fn records_collected_from_parquet_are_the_same_as_from_csv() {
    let p = parquet_case();
    let c = Sandbox::collected();
    for s in [&p, &c] {
        let args = share_dm(&["--out", "out.csv", "--refused", "refused.csv"]);
        s.ok(&args);
    }
    assert_eq!(p.read("out.csv"), c.read("out.csv"));
    assert_eq!(p.read("refused.csv"), c.read("refused.csv"));
}

#[test]
fn share_writes_parquet_by_extension_or_flag_with_the_same_rows() {
    let s = parquet_case();
    let args = share_dm(&["--out", "out.parquet", "--refused", "refused.parquet"]);
    s.ok(&args);
    let args = share_dm(&["--out", "out.csv", "--refused", "refused.csv"]);
    s.ok(&args);
    let args = share_dm(&[
        "--out",
        "forced.out",
        "--refused",
        "forced.refused",
        "--out-format",
        "parquet",
    ]);
    s.ok(&args);
    assert_eq!(
        rows(&s.path("out.parquet"), Format::Parquet),
        rows(&s.path("out.csv"), Format::Csv)
    );
    assert_eq!(
        rows(&s.path("refused.parquet"), Format::Parquet),
        rows(&s.path("refused.csv"), Format::Csv)
    );
    assert_eq!(
        rows(&s.path("forced.out"), Format::Parquet),
        rows(&s.path("out.csv"), Format::Csv)
    );
    assert!(std::fs::read(s.path("out.parquet"))
        .unwrap()
        .starts_with(b"PAR1"));
}

#[test]
fn a_parquet_subject_list_gives_parquet_outputs() {
    let s = parquet_case();
    to_parquet("subject\nM01\nM02\nNOBODY\n", &s.path("list.parquet"));
    let args = share_dm(&[
        "--records",
        "list.parquet",
        "--out",
        "sent",
        "--refused",
        "kept",
    ]);
    s.ok(&args);
    let sent = rows(&s.path("sent"), Format::Parquet);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1][0], "M01");
    let kept = rows(&s.path("kept"), Format::Parquet);
    let mut ids: Vec<&str> = kept[1..].iter().map(|r| r[0].as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["M02", "NOBODY"]);
}

#[test]
fn a_bad_parquet_row_names_file_line_and_field() {
    let s = Sandbox::new();
    s.orgs();
    s.copy_example("notice-2017.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
    let bad = SIGNUPS_CSV.replace("M03,2017-02-03", "M03,not-a-date");
    to_parquet(&bad, &s.path("signups.parquet"));
    s.write("signups.mapping.toml", MAPPING_TOML);
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "signups.parquet",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(err.contains("signups.parquet:4: signed_up"), "{err}");
    s.write("fake.parquet", "member_id\nM01\n");
    let err = s.fails(&[
        "collect",
        "emmas-diary",
        "fake.parquet",
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ]);
    assert!(err.contains("not a readable Parquet file"), "{err}");
}
