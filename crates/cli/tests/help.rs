mod common;

use std::path::Path;
use std::time::Duration;

use common::{examples, Sandbox};
use predicates::prelude::*;

#[test]
fn top_level_help() {
    let s = Sandbox::new();
    s.custody(&["--help"]).success().stdout(
        predicate::str::contains("chain of custody")
            .or(predicate::str::contains("UK GDPR"))
            .and(predicate::str::contains("share"))
            .and(predicate::str::contains("trace"))
            .and(predicate::str::contains("audit"))
            .and(predicate::str::contains("custody demo"))
            .and(predicate::str::contains("--db")),
    );
}

#[test]
fn share_help() {
    let s = Sandbox::new();
    s.custody(&["share", "--help"]).success().stdout(
        predicate::str::contains("--purpose")
            .and(predicate::str::contains("--categories"))
            .and(predicate::str::contains("--on-behalf-of"))
            .and(predicate::str::contains("--refused"))
            .and(predicate::str::contains(
                "written only if the whole run succeeds",
            )),
    );
}

#[test]
fn screen_help_says_nothing_is_recorded_and_shows_the_case() {
    let s = Sandbox::new();
    s.custody(&["screen", "--help"]).success().stdout(
        predicate::str::contains("Nothing is recorded")
            .and(predicate::str::contains("--subject-column"))
            .and(predicate::str::contains("not-held"))
            .and(predicate::str::contains(
                "custody screen emmas-diary signups.parquet",
            )),
    );
    s.custody(&["--help"])
        .success()
        .stdout(predicate::str::contains("screen"));
}

#[test]
fn consent_help_lists_bulk_actions() {
    let s = Sandbox::new();
    s.custody(&["consent", "--help"]).success().stdout(
        predicate::str::contains("subject,action,purpose,at")
            .and(predicate::str::contains("object-direct-marketing")),
    );
}

#[test]
fn unknown_command_is_usage_error() {
    let s = Sandbox::new();
    s.custody(&["sell"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand 'sell'"));
    s.custody(&[])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("Usage"));
}

#[test]
fn version() {
    let s = Sandbox::new();
    s.custody(&["--version"])
        .success()
        .stdout(predicate::str::starts_with("custody "));
}

#[test]
fn global_options_are_listed_once() {
    let s = Sandbox::new();
    let root = s.ok(&["--help"]);
    assert!(
        root.contains("--db <DB>") && root.contains("--snapshots <DIR>"),
        "{root}"
    );
    for args in [
        &["consent", "--help"][..],
        &["log", "show", "--help"],
        &["notice", "check", "--help"],
    ] {
        let out = s.ok(args);
        assert!(
            !out.contains("--db <DB>") && !out.contains("--signing-key <FILE>"),
            "{args:?}: {out}"
        );
        assert!(
            out.contains("Every command also takes --db, --signing-key and --snapshots"),
            "{args:?}: {out}"
        );
    }
    // ... and still work after a subcommand.
    s.ok(&["org", "list", "--db", &s.db_arg()]);
}

// Every argument described, every example run (issue 12). Both walk the
// command tree through the binary's own help, so a new subcommand or
// argument is covered without being listed here.

/// `custody` run in `dir`, with no store named by the environment and help
/// wrapped as on a 100-column terminal.
fn custody_in(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("custody").expect("custody binary");
    c.current_dir(dir)
        .env_remove("CUSTODY_DB")
        .env_remove("CUSTODY_SIGNING_KEY")
        .env_remove("CUSTODY_SNAPSHOTS")
        .env("COLUMNS", "100")
        .timeout(Duration::from_secs(120));
    c
}

/// One command of the tree: its path below `custody` and its `--help`.
struct Help {
    path: Vec<String>,
    text: String,
    leaf: bool,
}

impl Help {
    fn name(&self) -> String {
        let mut words = vec!["custody".to_string()];
        words.extend(self.path.iter().cloned());
        words.join(" ")
    }
}

/// `custody --help` and that of every subcommand below it, found through
/// the "Commands:" section of each help (`help` itself left out), root first.
fn command_tree(dir: &Path) -> Vec<Help> {
    let mut todo = vec![Vec::<String>::new()];
    let mut all = Vec::new();
    while let Some(path) = todo.pop() {
        let out = custody_in(dir)
            .args(&path)
            .arg("--help")
            .output()
            .expect("run custody");
        let text = String::from_utf8(out.stdout).expect("utf-8 help");
        assert!(out.status.success(), "custody {path:?} --help failed");
        let children: Vec<String> = section(&text, "Commands:")
            .iter()
            .filter(|l| indent(l) == 2)
            .filter_map(|l| l.split_whitespace().next())
            .filter(|name| *name != "help")
            .map(str::to_string)
            .collect();
        // Depth first, in the order the help lists them.
        for child in children.iter().rev() {
            let mut p = path.clone();
            p.push(child.clone());
            todo.push(p);
        }
        all.push(Help {
            leaf: children.is_empty(),
            path,
            text,
        });
    }
    all
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines of a help section ("Options:" and the indented or blank lines
/// under it, up to the next unindented line).
fn section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| l.trim().is_empty() || l.starts_with(' '))
        .collect()
}

/// (name, description) of each entry of an "Arguments:" or "Options:"
/// section, in both layouts clap uses: the description beside the name, or
/// (long help) on the lines under it. Entries start at column 2 (`<ORG>`,
/// `[VERSION]`, `-h, --help`) or 6 (`--json`); descriptions continue deeper.
/// What clap adds by itself (`[default: ..]`, `[possible values: ..]`, ...)
/// is not a description.
fn entries(lines: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lines {
        let text = line.trim_start();
        let starts_entry = matches!(indent(line), 2 | 6) && text.starts_with(['-', '<', '[']);
        if starts_entry {
            let (name, rest) = text.split_once("  ").unwrap_or((text, ""));
            out.push((name.to_string(), rest.trim().to_string()));
        } else if let Some((_, description)) = out.last_mut() {
            description.push(' ');
            description.push_str(text);
        }
    }
    for (_, description) in &mut out {
        for added in ["[default: ", "[possible values: ", "[env: ", "[aliases: "] {
            while let Some(start) = description.find(added) {
                let end = description[start..]
                    .find(']')
                    .map_or(description.len(), |e| start + e + 1);
                description.replace_range(start..end, "");
            }
        }
        *description = description.trim().to_string();
    }
    out
}

#[test]
fn every_argument_is_described() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = command_tree(dir.path());
    assert!(
        tree.iter().filter(|h| h.leaf).count() >= 30,
        "the walk found too few commands: {:?}",
        tree.iter().map(Help::name).collect::<Vec<_>>()
    );
    let mut undescribed = Vec::new();
    for help in &tree {
        let options = entries(&section(&help.text, "Options:"));
        assert!(
            options.iter().any(|(name, _)| name.contains("--help")),
            "{}: no Options: section found in\n{}",
            help.name(),
            help.text
        );
        let arguments = entries(&section(&help.text, "Arguments:"));
        for (name, description) in arguments.iter().chain(&options) {
            if description.is_empty() {
                undescribed.push(format!("{}: {name}", help.name()));
            }
        }
    }
    assert!(
        undescribed.is_empty(),
        "arguments without a description (give each a doc comment in crates/cli/src/args.rs):\n  {}",
        undescribed.join("\n  ")
    );
}

/// Leaf commands whose example is shown but not run here, and why.
const EXAMPLES_NOT_RUN: &[(&str, &str)] = &[
    (
        "demo",
        "it rebuilds the case from scratch (this test has just run it to make the data); \
         with CUSTODY_DB naming its own database it refuses to overwrite it",
    ),
    (
        "init",
        "it names a new log (emmasdiary.co.uk/custody); the demo's log is named \
         demo.custody.invalid/emmas-diary, and a log keeps its name",
    ),
    ("serve", "it serves until stopped"),
    (
        "log check inclusion",
        "it checks a proof Google's Pilot log published, kept in the repository \
         (crates/log/testdata/ct); tests/proofs.rs runs it from the repository's root",
    ),
    (
        "log check consistency",
        "it checks a proof Google's Argon 2027h1 log published, kept in the repository \
         (crates/log/testdata/ct); tests/proofs.rs runs it from the repository's root",
    ),
    (
        "key revoke",
        "it needs the id of a key `key create` made, which is new every time",
    ),
];

/// The words of an example, as a POSIX shell splits them, for what the
/// examples use: blanks, '...' and "..." quotes, `\` escapes, a `#` comment,
/// and `$(...)`, whose output `subst` gives (not split further: the examples
/// quote it).
fn shell_words(line: &str, subst: &mut dyn FnMut(&str) -> String) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (_, '\\') => {
                word.extend(chars.next());
                in_word = true;
            }
            (_, '$') if chars.peek() == Some(&'(') => {
                chars.next();
                let (mut depth, mut inner) = (1, String::new());
                for c in chars.by_ref() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    inner.push(c);
                }
                assert_eq!(depth, 0, "unclosed $( in {line}");
                word.push_str(&subst(&inner));
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line}");
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn shell_words_split_as_a_shell_does() {
    let mut no_subst = |s: &str| -> String { panic!("unexpected $({s})") };
    assert_eq!(
        shell_words(
            r#"custody org add x --name "Emma's Diary"  'a "b"' c\ d   # comment"#,
            &mut no_subst
        ),
        [
            "custody",
            "org",
            "add",
            "x",
            "--name",
            "Emma's Diary",
            "a \"b\"",
            "c d"
        ]
    );
    assert_eq!(
        shell_words(r#"a --key "$(custody log key)" b#c"#, &mut |s| format!(
            "<{s}>"
        )),
        ["a", "--key", "<custody log key>", "b#c"]
    );
}

/// Runs one example in `dir` on the demo's store: `custody ARGS [> FILE]`.
/// Err says what failed, with the output.
fn run_example(dir: &Path, example: &str) -> Result<String, String> {
    let mut failed_inner = None;
    let words = shell_words(example, &mut |inner| match run_example(dir, inner) {
        Ok(out) => out.trim_end_matches('\n').to_string(),
        Err(e) => {
            failed_inner = Some(e);
            String::new()
        }
    });
    if let Some(e) = failed_inner {
        return Err(e);
    }
    let (args, redirect) = match words.iter().position(|w| w == ">") {
        Some(i) => (&words[..i], words.get(i + 1)),
        None => (&words[..], None),
    };
    if args.first().map(String::as_str) != Some("custody") {
        return Err(format!("`{example}`: an example starts with `custody`"));
    }
    let out = custody_in(dir)
        .env("CUSTODY_DB", "custody-demo/custody.db")
        .env("CUSTODY_SIGNING_KEY", "custody-demo/custody.key")
        .env("CUSTODY_SNAPSHOTS", "custody-demo/custody.holdings")
        .args(&args[1..])
        .output()
        .map_err(|e| format!("`{example}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{example}` ({:?}) exited {:?}\nstdout:\n{}\nstderr:\n{}",
            &args[1..],
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if let Some(file) = redirect {
        std::fs::write(dir.join(file), &out.stdout).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_example_runs_on_the_demo_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = custody_in(dir.path())
        .args(["demo", "--subjects", "300"])
        .output()
        .expect("run the demo");
    assert!(
        demo.status.success(),
        "custody demo --subjects 300 failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&demo.stdout),
        String::from_utf8_lossy(&demo.stderr)
    );
    // What the examples name and the environment below points at.
    for made in [
        "custody-demo/custody.db",
        "custody-demo/custody.key",
        "custody-demo/receipts/ED00000010-14.tlog-proof",
    ] {
        assert!(dir.path().join(made).exists(), "the demo wrote no {made}");
    }

    let tree = command_tree(dir.path());
    let leaves: Vec<&Help> = tree.iter().filter(|h| h.leaf).collect();
    for (path, _) in EXAMPLES_NOT_RUN {
        assert!(
            leaves.iter().any(|h| h.path.join(" ") == *path),
            "EXAMPLES_NOT_RUN names `{path}`, which is no command"
        );
    }
    let (mut missing, mut failed, mut ran) = (Vec::new(), Vec::new(), 0);
    for help in leaves {
        let found = examples(&help.text);
        if found.is_empty() {
            missing.push(help.name());
        }
        if EXAMPLES_NOT_RUN
            .iter()
            .any(|(path, _)| help.path.join(" ") == *path)
        {
            continue;
        }
        for example in found {
            match run_example(dir.path(), &example) {
                Ok(_) => ran += 1,
                Err(e) => failed.push(format!("{}:\n{e}", help.name())),
            }
        }
    }
    assert!(
        missing.is_empty() && failed.is_empty(),
        "commands whose --help has no `Example: custody ...` line:\n  {}\n\n\
         examples that fail on the demo's data:\n\n{}",
        missing.join("\n  "),
        failed.join("\n\n")
    );
    assert!(ran >= 30, "only {ran} examples ran");
}
