//! Text files custody reads whole (notices, mappings, history files), read
//! only up to their limit: a file past it is refused without reading the
//! rest (`custody notice publish org /dev/zero` would otherwise fill
//! memory). Tabular files stream instead ([`crate::table`]).

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// The text of `path`, `what` it is (for the message), at most `limit`
/// bytes, UTF-8.
pub(crate) fn read_text(path: &Path, limit: usize, what: &str) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() > limit {
        return Err(Error::Invalid(format!(
            "{}: {what} is at most {} (README: Limits)",
            path.display(),
            shown(limit)
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::Invalid(format!(
            "{}: byte {} is not UTF-8 text: save the file as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to() + 1
        ))
    })
}

fn shown(limit: usize) -> String {
    if limit >= 1 << 20 {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{} KiB", limit >> 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_no_further() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.toml");
        // (contents, limit, the error it gives, if any)
        let cases: &[(&[u8], usize, Option<&str>)] = &[
            (b"version = 1", 1024, None),
            (&[b'x'; 1024], 1024, None),
            (&[b'x'; 1025], 1024, Some("a notice is at most 1 KiB")),
            (b"ok \xff", 1024, Some("byte 4 is not UTF-8 text")),
        ];
        for (bytes, limit, said) in cases {
            std::fs::write(&path, bytes).unwrap();
            match (read_text(&path, *limit, "a notice"), said) {
                (Ok(text), None) => assert_eq!(text.as_bytes(), *bytes),
                (Err(e), Some(said)) => assert!(e.to_string().contains(said), "{e}"),
                (got, _) => panic!("{bytes:?}: {got:?}"),
            }
        }
        let e = read_text(Path::new("/dev/zero"), 1 << 20, "a notice").unwrap_err();
        assert!(e.to_string().contains("at most 1 MiB"), "{e}");
    }
}
