//! Where the shared test vectors are: `../shared/testdata` beside the
//! repository (as in CI), or the directory `CUSTODY_SHARED_DIR` names.

use std::path::PathBuf;

pub(crate) fn path(rel: &str) -> PathBuf {
    let shared = std::env::var_os("CUSTODY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let p = shared.join("testdata").join(rel);
    assert!(
        p.exists(),
        "{} is missing: the shared test vectors live in ../shared beside the repository \
         (or set CUSTODY_SHARED_DIR)",
        p.display()
    );
    p
}

pub(crate) fn text(rel: &str) -> String {
    let p = path(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
