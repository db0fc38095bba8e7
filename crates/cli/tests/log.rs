mod common;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use common::{share_dm, Sandbox};
use custody_log::checkpoint::open_checkpoint;
use custody_log::merkle;
use custody_log::note::Verifier;
use custody_log::tiles::{decode_bundle, encode_bundle, TileHashes, TileId};
use custody_log::Hash;
use serde_json::Value;

const M05_WITHDRAWS: &[&str] = &[
    "consent",
    "emmas-diary",
    "M05",
    "--withdraw",
    "DirectMarketing",
    "--at",
    "2017-05-01",
];

fn verifier(s: &Sandbox) -> Verifier {
    Verifier::from_text(s.ok(&["log", "key"]).trim()).expect("log key prints a verifier key")
}

/// The base case with one gated disclosure: 3 orgs, 1 notice, 6 records,
/// 2 preference events, 1 disclosure, 6 decisions.
fn shared() -> Sandbox {
    let s = Sandbox::emmas_case();
    s.ok(&share_dm(&["--out", "out.csv", "--refused", "refused.csv"]));
    s
}

#[test]
fn init_names_the_log_and_signs_an_empty_checkpoint() {
    let s = Sandbox::new();
    let out = s.ok(&["init", "--origin", "example.org/custody"]);
    assert!(out.contains("log origin example.org/custody"), "{out}");
    let cp = s.ok(&["log", "checkpoint"]);
    // The empty tree's root is SHA-256 of nothing.
    assert!(cp.starts_with("example.org/custody\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— example.org/custody "), "{cp}");
    let key = s.ok(&["log", "key"]);
    let v = Verifier::from_text(key.trim()).unwrap();
    assert_eq!(v.name(), "example.org/custody");
    assert!(
        key.starts_with(&format!("example.org/custody+{:08x}+", v.key_id())),
        "{key}"
    );
    open_checkpoint(&cp, &v).expect("the checkpoint verifies with the printed key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.key()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the signing key is readable by its owner only");
    }
    let err = s.fails(&["init", "--origin", "other.example/log"]);
    assert!(
        err.contains("example.org/custody"),
        "a log keeps its name: {err}"
    );
}

#[test]
fn every_state_change_is_logged_and_the_log_verifies() {
    let s = shared();
    let v: Value = s.json(&["log", "verify", "--json"]);
    let state = &v["state"];
    assert_eq!(state["orgs"], 3);
    assert_eq!(state["notices"], 1);
    assert_eq!(state["records_collected"], 6);
    assert_eq!(state["preferences"], 2);
    assert_eq!(state["disclosures"], 1);
    assert_eq!(state["decisions"], 6);
    // organisations, the notice, the file and its records, events, the
    // disclosure and its decisions
    assert_eq!(v["size"], 3 + 1 + 1 + 6 + 2 + 1 + 6);
    // One checkpoint per command that changed something.
    assert_eq!(v["checkpoints"], 3 + 1 + 1 + 2 + 1);
    let cp = s.ok(&["log", "checkpoint"]);
    assert!(cp.starts_with("localhost/custody\n20\n"), "{cp}");
}

#[test]
fn the_log_holds_no_personal_data_in_clear() {
    let s = shared();
    s.ok(&["log", "export", "tiles"]);
    let mut bytes = Vec::new();
    for entry in walk(&s.path("tiles")) {
        bytes.extend(std::fs::read(entry).unwrap());
    }
    let text = String::from_utf8_lossy(&bytes);
    for personal in [
        "M01",
        "M04",
        "Ann",
        "Ames",
        "ann@example.org",
        "Ash Rd",
        "AB1 1AA",
        "2016-12-01",
    ] {
        assert!(
            !text.contains(personal),
            "`{personal}` appears in the exported log"
        );
    }
    let shown = s.ok(&["log", "show", "--limit", "100"]);
    assert!(
        shown.contains("record-collected") && shown.contains("decided"),
        "{shown}"
    );
    assert!(!shown.contains("M01"), "{shown}");
}

#[test]
fn consistency_proof_from_an_old_checkpoint_verifies() {
    let s = Sandbox::emmas_case();
    let old = s.ok(&["log", "checkpoint"]);
    s.write("old.checkpoint", &old);
    s.ok(&share_dm(&["--out", "out.csv", "--refused", "refused.csv"]));
    let new = s.ok(&["log", "checkpoint"]);
    let out = s.ok(&["log", "consistency", "--from", "old.checkpoint"]);
    let proof: Vec<Hash> = out
        .lines()
        .map(|l| {
            BASE64_STANDARD
                .decode(l)
                .unwrap()
                .try_into()
                .expect("32-byte hashes")
        })
        .collect();
    assert!(!proof.is_empty());
    let v = verifier(&s);
    let (a, b) = (
        open_checkpoint(&old, &v).unwrap(),
        open_checkpoint(&new, &v).unwrap(),
    );
    merkle::verify_consistency(a.size, b.size, &proof, &a.root, &b.root)
        .expect("the printed proof verifies");
    let mut wrong = proof.clone();
    wrong[0][0] ^= 1;
    assert!(merkle::verify_consistency(a.size, b.size, &wrong, &a.root, &b.root).is_err());

    s.ok(&["log", "verify", "--from", "old.checkpoint"]);

    // A checkpoint of another log, or an altered one, is refused.
    let other = Sandbox::emmas_case();
    other.write("theirs.checkpoint", &other.ok(&["log", "checkpoint"]));
    std::fs::copy(other.path("theirs.checkpoint"), s.path("theirs.checkpoint")).unwrap();
    let err = s.fails(&["log", "consistency", "--from", "theirs.checkpoint"]);
    assert!(err.contains("checkpoint"), "{err}");
    s.write("edited.checkpoint", &old.replacen("\n1", "\n2", 1));
    s.fails(&["log", "consistency", "--from", "edited.checkpoint"]);
}

/// The entries of stored bundle `idx`, read as an attacker would.
fn bundle(s: &Sandbox, idx: i64) -> Vec<Vec<u8>> {
    let bytes: Vec<u8> = s
        .sql()
        .query_row(
            "SELECT entries FROM log_bundles WHERE idx = ?1",
            [idx],
            |r| r.get(0),
        )
        .unwrap();
    decode_bundle(&bytes)
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// Rewrites bundle `idx`, triggers and all, as an attacker with the file could.
fn rewrite(s: &Sandbox, idx: i64, entries: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let db = s.sql();
    db.execute_batch("DROP TRIGGER log_bundles_append_only")
        .unwrap();
    db.execute(
        "UPDATE log_bundles SET count = ?2, entries = ?3 WHERE idx = ?1",
        rusqlite::params![idx, entries.len() as i64, encode_bundle(&refs).unwrap()],
    )
    .unwrap();
}

#[test]
fn verify_names_an_edited_entry() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let mut entries = bundle(&s, 0);
    // Entry 15 is a decision; its last bytes are the reasons: claim "allowed".
    let e = &mut entries[15];
    let n = e.len();
    e[n - 4..].copy_from_slice(&[0; 4]);
    rewrite(&s, 0, &entries);
    let err = s.fails(&["log", "verify"]);
    assert!(err.contains("entry 15 does not match"), "{err}");
}

#[test]
fn verify_names_reordered_entries() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let mut entries = bundle(&s, 0);
    entries.swap(13, 14);
    rewrite(&s, 0, &entries);
    let err = s.fails(&["log", "verify"]);
    assert!(err.contains("entry 13 does not match"), "{err}");
}

#[test]
fn verify_names_a_removed_entry() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let mut entries = bundle(&s, 0);
    entries.remove(7);
    rewrite(&s, 0, &entries);
    let err = s.fails(&["log", "verify"]);
    assert!(err.contains("entry 7 does not match"), "{err}");
}

#[test]
fn verify_names_a_deleted_bundle_and_an_undecodable_one() {
    // 3 organisations, 1 notice, 600 records, 1 file: bundles of 256, 256 and 93 entries.
    let s = Sandbox::with_mothers(600);
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    s.ok(&["log", "verify"]);
    s.sql()
        .execute_batch("DROP TRIGGER log_bundles_append_only; UPDATE log_bundles SET entries = CAST(entries || x'00' AS BLOB) WHERE idx = 2")
        .unwrap();
    let err = s.fails(&["log", "verify"]);
    assert!(
        err.contains("the bundle of entries 512 to 604 was edited"),
        "{err}"
    );
    let db = s.sql();
    db.execute_batch(
        "UPDATE log_bundles SET entries = substr(entries, 1, length(entries) - 1) WHERE idx = 2",
    )
    .unwrap();
    drop(db);
    s.ok(&["log", "verify"]);
    let db = s.sql();
    db.execute_batch(
        "DROP TRIGGER log_bundles_undeletable; DELETE FROM log_bundles WHERE idx = 1;",
    )
    .unwrap();
    drop(db);
    let err = s.fails(&["log", "verify"]);
    assert!(
        err.contains("entry 256 is missing (the next stored entry is 512)"),
        "{err}"
    );
}

#[test]
fn the_store_refuses_to_change_entries_without_tampering_with_it() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let db = s.sql();
    let err = db
        .execute("UPDATE log_bundles SET entries = x'00' WHERE idx = 0", [])
        .unwrap_err();
    assert!(err.to_string().contains("only ever appended"), "{err}");
    let err = db.execute("DELETE FROM log_bundles", []).unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
}

#[test]
fn verify_catches_entries_cut_from_the_end_with_their_tiles() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let mut entries = bundle(&s, 0);
    entries.truncate(17);
    rewrite(&s, 0, &entries);
    let err = s.fails(&["log", "verify"]);
    assert!(err.contains("removed from its end"), "{err}");
}

#[test]
fn verify_catches_state_without_its_entries() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    s.sql()
        .execute(
            "DELETE FROM decisions WHERE record = (SELECT min(record) FROM decisions)",
            [],
        )
        .unwrap();
    let err = s.fails(&["log", "verify"]);
    assert!(
        err.contains("the log records decisions row (disclosure 1, record 1), which the store no longer holds"),
        "{err}"
    );
}

#[test]
fn a_log_whose_stored_hashes_were_altered_is_never_signed_again() {
    let s = shared();
    if s.sqlite_only("edits SQLite's file by hand") {
        return;
    }
    let before = s.ok(&["log", "checkpoint"]);
    s.sql()
        .execute(
            "UPDATE log_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 0 AND idx = 0",
            [],
        )
        .unwrap();
    let err = s.fails(M05_WITHDRAWS);
    assert!(err.contains("refusing to sign"), "{err}");
    assert_eq!(s.ok(&["log", "checkpoint"]), before, "nothing was signed");
    assert_eq!(
        s.sql()
            .query_row("SELECT count(*) FROM preferences", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        2,
        "nothing was stored"
    );
}

#[test]
fn the_empty_checkpoint_is_extended_by_every_log() {
    let s = Sandbox::new();
    s.ok(&["init"]);
    s.write("empty.checkpoint", &s.ok(&["log", "checkpoint"]));
    s.ok(&[
        "org",
        "add",
        "emmas-diary",
        "--name",
        "Emma's Diary",
        "--role",
        "controller",
    ]);
    assert_eq!(
        s.ok(&["log", "consistency", "--from", "empty.checkpoint"]),
        ""
    );
    s.ok(&["log", "verify", "--from", "empty.checkpoint"]);
}

#[test]
fn another_key_cannot_extend_the_log() {
    let s = shared();
    std::fs::rename(s.key(), s.path("kept.key")).unwrap();
    let err = s.fails(&["log", "checkpoint"]);
    assert!(err.contains("signed with a key that is not at"), "{err}");
    let other = Sandbox::new();
    other.ok(&["init"]);
    let err = s.fails(&[
        "--signing-key",
        other.key().to_str().unwrap(),
        "log",
        "checkpoint",
    ]);
    assert!(err.contains("does not verify"), "{err}");
    s.ok(&["--signing-key", "kept.key", "log", "verify"]);
}

#[test]
fn export_is_a_tiles_log_a_client_can_check_alone() {
    let s = shared();
    s.ok(M05_WITHDRAWS);
    s.ok(&["log", "export", "tiles"]);
    let root = s.path("tiles");
    let v = verifier(&s);
    let cp = open_checkpoint(
        &std::fs::read_to_string(root.join("checkpoint")).unwrap(),
        &v,
    )
    .unwrap();
    assert_eq!(cp.size, 21);
    let read_tile = |level: u8, index: u64| -> Result<Vec<Hash>, std::io::Error> {
        // The client knows the size, so which tiles are partial.
        let id = custody_log::tiles::tiles_for_size(cp.size)
            .into_iter()
            .find(|t| t.level == level && t.index == index)
            .ok_or_else(|| std::io::Error::other("no such tile"))?;
        let bytes = std::fs::read(root.join(id.path()))?;
        Ok(bytes
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap())
            .collect())
    };
    let bundle = std::fs::read(root.join(TileId::entries_path(0, 21)))
        .expect("a partial entry bundle of 21");
    let entries = decode_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 21);
    let leaves = read_tile(0, 0).unwrap();
    let source = TileHashes::new(read_tile);
    assert_eq!(merkle::root(&source, cp.size).unwrap(), cp.root);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(
            merkle::leaf_hash(e),
            leaves[i],
            "entry {i} matches its leaf"
        );
        let proof = merkle::inclusion_proof(&source, i as u64, cp.size).unwrap();
        merkle::verify_inclusion(&leaves[i], i as u64, cp.size, &proof, &cp.root).unwrap();
        custody_core::entry::Entry::decode(e).expect("every exported entry decodes");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn export_holds_the_tiles_and_bundles_of_every_signed_size() {
    let s = shared();
    if s.sqlite_only("reads the signed checkpoints from SQLite's file") {
        return;
    }
    s.ok(&["log", "export", "tiles"]);
    let root = s.path("tiles");
    let v = verifier(&s);
    let signed: Vec<(u64, String)> = {
        let db = s.sql();
        let mut q = db
            .prepare("SELECT size, note FROM log_checkpoints ORDER BY size")
            .unwrap();
        q.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(signed.len() > 3, "several checkpoints: {signed:?}");
    for (size, note) in signed.into_iter().filter(|(size, _)| *size > 0) {
        let cp = open_checkpoint(&note, &v).unwrap();
        // As a tiles client auditing this older checkpoint reads them.
        let read_tile = |level: u8, index: u64| -> Result<Vec<Hash>, std::io::Error> {
            let id = custody_log::tiles::tiles_for_size(size)
                .into_iter()
                .find(|t| t.level == level && t.index == index)
                .ok_or_else(|| std::io::Error::other("no such tile"))?;
            let bytes = std::fs::read(root.join(id.path()))?;
            Ok(bytes
                .chunks_exact(32)
                .map(|c| c.try_into().unwrap())
                .collect())
        };
        let source = TileHashes::new(read_tile);
        assert_eq!(
            merkle::root(&source, size).unwrap(),
            cp.root,
            "the tiles of size {size} hash to its checkpoint"
        );
        let width = (size % 256) as u16;
        if width == 0 {
            continue; // a full bundle, as at the latest size
        }
        let bundle = std::fs::read(root.join(TileId::entries_path(size / 256, width)))
            .unwrap_or_else(|e| panic!("the partial bundle of size {size}: {e}"));
        let leaves = read_tile(0, size / 256).unwrap();
        let entries = decode_bundle(&bundle).unwrap();
        assert_eq!(entries.len(), width as usize);
        for (e, leaf) in entries.iter().zip(&leaves) {
            assert_eq!(&merkle::leaf_hash(e), leaf);
        }
    }
}

#[test]
fn init_refuses_an_origin_the_checkpoint_spec_advises_against() {
    for (origin, says) in [
        ("https://example.org/log", "has a scheme"),
        ("example.org/a+b", "plus"),
        ("example.org/my log", "space"),
    ] {
        let s = Sandbox::new();
        let err = s.fails(&["init", "--origin", origin]);
        assert!(err.contains(says), "{origin}: {err}");
    }
}
