mod common;

use common::Sandbox;
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
