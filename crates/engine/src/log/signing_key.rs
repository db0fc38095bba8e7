//! The log's signing key: an Ed25519 key in the signer-key text form of C2SP
//! signed notes (`PRIVATE+KEY+<origin>+<id>+<key>`), in a file only its owner
//! can read. The key's name is the log's origin line.

use std::io::Write;
use std::path::Path;

use custody_log::note::Signer;

use crate::{Error, Result};

/// The origin a log gets when nobody chose one at `custody init`.
pub const DEFAULT_ORIGIN: &str = "localhost/custody";

pub fn load(path: &Path) -> Result<Signer> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Signer::from_text(text.trim())
        .map_err(|e| Error::Log(format!("{}: not a signing key: {e}", path.display())))
}

/// Creates a new key for `origin`, never overwriting an existing file.
pub fn create(path: &Path, origin: &str) -> Result<Signer> {
    custody_log::checkpoint::check_origin(origin).map_err(|e| Error::Invalid(e.to_string()))?;
    let signer = Signer::generate(origin, &mut rand::rngs::OsRng)
        .map_err(|e| Error::Invalid(format!("`{origin}` cannot name a log: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    writeln!(file, "{}", signer.to_text())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(path, e))?;
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_loads_back_and_only_its_owner_can_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let made = create(&path, "example.org/custody").unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(made.verifier().to_text(), loaded.verifier().to_text());
        assert_eq!(loaded.name(), "example.org/custody");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(
            create(&path, "example.org/custody").is_err(),
            "an existing key is never overwritten"
        );
    }
}
