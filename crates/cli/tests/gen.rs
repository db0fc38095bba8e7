mod common;

use common::Sandbox;

const FILES: &[&str] = &[
    "signups.csv",
    "preferences-2017.csv",
    "reconsents-2018.csv",
    "subjects.csv",
    "notice-2017.toml",
    "notice-2018-05.toml",
    "signups.mapping.toml",
    "history-emmas-diary.toml",
];

#[test]
fn the_same_seed_gives_the_same_people() {
    let s = Sandbox::new();
    let out = s.ok(&["gen", "--subjects", "300", "--seed", "7", "--out", "a"]);
    assert!(out.contains("wrote 300 mothers (seed 7)"), "{out}");
    s.ok(&["gen", "--subjects", "300", "--seed", "7", "--out", "b"]);
    s.ok(&["gen", "--subjects", "300", "--seed", "8", "--out", "c"]);
    for f in FILES {
        assert_eq!(
            s.read(&format!("a/{f}")),
            s.read(&format!("b/{f}")),
            "{f} differs for one seed"
        );
    }
    assert_ne!(s.read("a/signups.csv"), s.read("c/signups.csv"));
    assert_eq!(s.read("a/signups.csv").lines().count(), 301);
    assert_eq!(s.read("a/subjects.csv").lines().count(), 301);
}

#[test]
fn a_generated_dataset_loads_with_the_ordinary_commands() {
    let s = Sandbox::new();
    s.ok(&["gen", "--subjects", "500", "--out", "data"]);
    s.orgs();
    s.ok(&["notice", "publish", "emmas-diary", "data/notice-2017.toml"]);
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "data/signups.csv",
        "--notice",
        "2017",
    ]);
    assert!(out.contains("500"), "{out}");
    s.ok(&[
        "consent",
        "emmas-diary",
        "--file",
        "data/preferences-2017.csv",
    ]);
    s.ok(&[
        "history",
        "import",
        "emmas-diary",
        "data/history-emmas-diary.toml",
    ]);
    s.ok(&["log", "verify"]);
}

#[test]
fn parquet_sign_ups_collect_like_csv_ones() {
    let s = Sandbox::new();
    s.ok(&[
        "gen",
        "--subjects",
        "400",
        "--out",
        "p",
        "--format",
        "parquet",
    ]);
    assert!(s.exists("p/signups.parquet") && !s.exists("p/signups.csv"));
    s.orgs();
    s.ok(&["notice", "publish", "emmas-diary", "p/notice-2017.toml"]);
    let out = s.ok(&[
        "collect",
        "emmas-diary",
        "p/signups.parquet",
        "--notice",
        "2017",
        "--json",
    ]);
    assert!(out.contains("\"inserted\": 400"), "{out}");
}

#[test]
fn gen_needs_a_size_and_a_place() {
    let s = Sandbox::new();
    let out = s.cmd().args(["gen", "--out", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--subjects"));
}
