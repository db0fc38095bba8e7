mod common;

use common::Sandbox;
use serde_json::Value;

fn prefs(s: &Sandbox, subject: &str) -> Vec<(String, String, Option<String>)> {
    let t = s.json(&["trace", "emmas-diary", subject, "--json"]);
    t["preferences"]
        .as_array()
        .expect("preferences array")
        .iter()
        .map(|p| {
            (
                p["at"].as_str().unwrap().to_string(),
                p["action"].as_str().unwrap().to_string(),
                p["purpose"].as_str().map(String::from),
            )
        })
        .collect()
}

/// Share M01 and M02 (in subjects.csv) for direct marketing at `at`,
/// into out.csv and refused.csv.
fn share_direct_marketing(s: &Sandbox, at: &str) {
    s.ok(&[
        "share",
        "emmas-diary",
        "--to",
        "experian",
        "--purpose",
        "DirectMarketing",
        "--categories",
        "Name",
        "--records",
        "subjects.csv",
        "--at",
        at,
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
    ]);
}

#[test]
fn withdraw_give_object() {
    let s = Sandbox::collected();
    let out = s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "DirectMarketing",
        "--at",
        "2017-03-01",
    ]);
    assert!(out.contains("recorded for M01 at 2017-03-01"), "{out}");
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "dpv:DirectMarketing",
        "--at",
        "2017-04-01",
    ]);
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--object-direct-marketing",
        "--at",
        "2017-05-01",
    ]);
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw-objection",
        "--at",
        "2017-06-01",
    ]);
    assert_eq!(
        prefs(&s, "M01"),
        vec![
            (
                "2017-03-01".into(),
                "withdraw".into(),
                Some("dpv:DirectMarketing".into())
            ),
            (
                "2017-04-01".into(),
                "give".into(),
                Some("dpv:DirectMarketing".into())
            ),
            ("2017-05-01".into(), "object-direct-marketing".into(), None),
            ("2017-06-01".into(), "withdraw-objection".into(), None),
        ]
    );
    assert!(prefs(&s, "M02").is_empty());
}

#[test]
fn events_change_the_gate() {
    let s = Sandbox::collected();
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "Marketing",
        "--at",
        "2017-03-01",
    ]);
    s.ok(&[
        "consent",
        "emmas-diary",
        "M02",
        "--give",
        "DirectMarketing",
        "--at",
        "2017-03-01",
    ]);
    s.write("subjects.csv", "subject\nM01\nM02\n");
    share_direct_marketing(&s, "2017-03-02");
    assert_eq!(
        common::refused_rows(&s.read("refused.csv")),
        vec![("M01".to_string(), "consent-withdrawn".to_string())]
    );
    assert!(
        s.read("out.csv").lines().any(|l| l.starts_with("M02,")),
        "M02 gave consent later"
    );
    // before the events, the picture is the other way round
    share_direct_marketing(&s, "2017-02-28");
    assert_eq!(
        common::refused_rows(&s.read("refused.csv")),
        vec![("M02".to_string(), "no-consent".to_string())]
    );
}

#[test]
fn bulk_file() {
    let s = Sandbox::collected();
    s.write(
        "events.csv",
        "subject,action,purpose,at\nM01,withdraw,DirectMarketing,2017-06-01\nM02,give,Marketing,2017-06-01\n\
         M05,object-direct-marketing,,2017-06-02\nM05,withdraw-objection,,2017-06-03\n",
    );
    let out = s.ok(&["consent", "emmas-diary", "--file", "events.csv"]);
    assert!(
        out.contains("recorded 4 preference events for emmas-diary"),
        "{out}"
    );
    // Each purpose as written, and the term it became.
    for line in [
        "purpose `DirectMarketing` recorded as dpv:DirectMarketing (Direct Marketing): 1 event",
        "purpose `Marketing` recorded as dpv:Marketing (Marketing): 1 event",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert_eq!(
        prefs(&s, "M01"),
        vec![(
            "2017-06-01".into(),
            "withdraw".into(),
            Some("dpv:DirectMarketing".into())
        )]
    );
    assert_eq!(
        prefs(&s, "M02"),
        vec![(
            "2017-06-01".into(),
            "give".into(),
            Some("dpv:Marketing".into())
        )]
    );
    assert_eq!(
        prefs(&s, "M05"),
        vec![
            ("2017-06-02".into(), "object-direct-marketing".into(), None),
            ("2017-06-03".into(), "withdraw-objection".into(), None)
        ]
    );
}

#[test]
fn bulk_bad_action_fails_and_nothing_lands() {
    let s = Sandbox::collected();
    s.write("events.csv", "subject,action,purpose,at\nM01,give,DirectMarketing,2017-07-01\nM02,shout,Marketing,2017-07-01\n");
    let err = s.fails(&["consent", "emmas-diary", "--file", "events.csv"]);
    assert!(
        err.contains("events.csv:3: action: unknown action `shout`"),
        "{err}"
    );
    assert!(prefs(&s, "M01").is_empty(), "the good line 2 must not land");
}

#[test]
fn bulk_bad_rows_name_line_and_field() {
    let head = "subject,action,purpose,at";
    let long = "x".repeat(3 << 20);
    // (file's text, what the error says)
    let cases: Vec<(String, String)> = vec![
        (
            format!("{head}\nM01,withdraw,DirectMarketing,2017-07-01\nM99,withdraw,DirectMarketing,2017-07-01\n"),
            "events.csv:3: subject: emmas-diary collected no record for subject `M99`".into(),
        ),
        (
            format!("{head}\nM01,withdraw,DirectMarketting,2017-07-01\n"),
            "events.csv:2: purpose: unknown purpose `DirectMarketting`; did you mean dpv:DirectMarketing".into(),
        ),
        (
            format!("{head}\nM01,withdraw,,2017-07-01\n"),
            "events.csv:2: action: `withdraw` needs a purpose".into(),
        ),
        (
            "who,action\nM01,give\n".into(),
            "events.csv:1: subject: the file needs a `subject` column".into(),
        ),
        (
            format!("{head}\nM01,give,Marketing,yesterday\n"),
            "events.csv:2: at: `yesterday` is not a date".into(),
        ),
        // Lines ended by bare carriage returns (old Mac files) are lines:
        // the csv crate counts only line feeds.
        (
            format!("{head}\rM01,withdraw,DirectMarketing,2017-07-01\rM02,give,Marketing,yesterday\r"),
            "events.csv:3: at: `yesterday` is not a date".into(),
        ),
        (
            format!("{head}\nM01,give,Marketing,2017-07-01\nM02,give,\"{long}\n"),
            "events.csv:3: -: this row is longer than 1 MiB".into(),
        ),
    ];
    for (text, said) in &cases {
        let s = Sandbox::collected();
        s.write("events.csv", text);
        let err = s.fails(&["consent", "emmas-diary", "--file", "events.csv"]);
        assert!(err.contains(said.as_str()), "`{said}` not said: {err}");
        assert!(prefs(&s, "M01").is_empty());
    }
}

#[test]
fn unknown_subject_fails() {
    let s = Sandbox::collected();
    let err = s.fails(&[
        "consent",
        "emmas-diary",
        "M99",
        "--withdraw",
        "DirectMarketing",
    ]);
    assert!(
        err.contains("emmas-diary collected no record for subject `M99`"),
        "{err}"
    );
}

#[test]
fn unknown_purpose_suggests() {
    let s = Sandbox::collected();
    let err = s.fails(&[
        "consent",
        "emmas-diary",
        "M01",
        "--withdraw",
        "DirectMarketting",
    ]);
    assert!(
        err.contains("unknown purpose `DirectMarketting`; did you mean dpv:DirectMarketing?"),
        "{err}"
    );
    assert!(prefs(&s, "M01").is_empty());
}

#[test]
fn other_bad_input() {
    let s = Sandbox::collected();
    let err = s.fails(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "Marketing",
        "--at",
        "2017-01-01",
    ]);
    assert!(
        err.contains("2017-01-01 is before the record was collected"),
        "{err}"
    );
    let err = s.fails(&["consent", "emmas-diary", "M01"]);
    assert!(err.contains("say what changed"), "{err}");
    let err = s.fails(&["consent", "emmas-diary"]);
    assert!(err.contains("name a subject"), "{err}");
    let err = s.fails(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "Marketing",
        "--notice",
        "2019",
    ]);
    assert!(err.contains("no notice version `2019`"), "{err}");
    // two changes at once is a usage error
    s.custody(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "Marketing",
        "--object-direct-marketing",
    ])
    .failure()
    .code(2);
    assert!(prefs(&s, "M01").is_empty());
}

#[test]
fn reconsent_under_new_notice_is_recorded() {
    let s = Sandbox::collected();
    s.copy_example("notice-2018-05.toml");
    s.ok(&["notice", "publish", "emmas-diary", "notice-2018-05.toml"]);
    s.ok(&[
        "consent",
        "emmas-diary",
        "M01",
        "--give",
        "PoliticalCampaign",
        "--at",
        "2018-06-01",
        "--notice",
        "2018-05",
    ]);
    let t: Value = s.json(&["trace", "emmas-diary", "M01", "--json"]);
    assert_eq!(t["preferences"][0]["notice"], "2018-05");
    assert_eq!(t["preferences"][0]["purpose"], "dpv:PoliticalCampaign");
}

/// `marketing` and `fides:marketing` mean the notice's `dpv:Marketing`
/// (linked in vocab/links.toml): the command says which term it recorded,
/// and the withdrawal reaches the gate.
#[test]
fn a_withdrawal_by_any_name_of_marketing_withdraws_it() {
    let s = Sandbox::collected();
    let withdraw = |subject: &str, purpose: &str| {
        s.ok(&[
            "consent",
            "emmas-diary",
            subject,
            "--withdraw",
            purpose,
            "--at",
            "2017-03-01",
        ])
    };
    let out = withdraw("M01", "fides:marketing");
    assert!(
        out.contains("consent withdrawn from fides:marketing (Marketing)"),
        "{out}"
    );
    let out = withdraw("M02", "marketing");
    assert!(
        out.contains("consent withdrawn from dpv:Marketing (Marketing)"),
        "{out}"
    );
    s.write("subjects.csv", "subject\nM01\nM02\n");
    share_direct_marketing(&s, "2017-03-02");
    // M01 had ticked the box; M02 never had, so withdrawing changed nothing.
    assert_eq!(
        common::refused_rows(&s.read("refused.csv")),
        vec![
            ("M01".to_string(), "consent-withdrawn".to_string()),
            ("M02".to_string(), "no-consent".to_string()),
        ]
    );
}

#[test]
fn a_preference_about_nothing_she_was_told_is_refused_with_the_purposes_she_was() {
    let s = Sandbox::collected();
    for purpose in ["ResearchAndDevelopment", "fides:essential"] {
        for action in ["--give", "--withdraw"] {
            let err = s.fails(&["consent", "emmas-diary", "M01", action, purpose]);
            assert!(
                err.contains("is not among the purposes emmas-diary told `M01` about")
                    && err.contains("dpv:DirectMarketing (Direct Marketing)")
                    && err.contains("dpv:Marketing (Marketing)"),
                "{action} {purpose}: {err}"
            );
        }
    }
    assert!(prefs(&s, "M01").is_empty(), "nothing was recorded");
    // An objection to direct marketing is always taken (Art 21(2)).
    s.ok(&["consent", "emmas-diary", "M01", "--object-direct-marketing"]);
}
