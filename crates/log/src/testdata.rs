//! Where the log's test vectors are: `crates/log/testdata`, copied into the
//! repository with their licence notices (see its README) so that a fresh
//! clone tests with nothing beside it.

use std::path::PathBuf;

pub(crate) fn path(rel: &str) -> PathBuf {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata")).join(rel);
    assert!(p.exists(), "{} is missing from the repository", p.display());
    p
}

pub(crate) fn text(rel: &str) -> String {
    let p = path(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
