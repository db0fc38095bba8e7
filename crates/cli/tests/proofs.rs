//! `custody log prove` and `custody log check`: custody's proofs as C2SP
//! tlog-proofs, and proofs custody did not make, among them those real
//! Certificate Transparency logs published (crates/log/testdata/ct, whose
//! README says where each came from).

mod common;

use std::path::{Path, PathBuf};

use base64::prelude::{Engine as _, BASE64_STANDARD};
use common::{examples, Sandbox};
use custody_log::checkpoint::open_checkpoint;
use custody_log::merkle::leaf_hash;
use custody_log::note::Verifier;
use custody_log::proof::TlogProof;
use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of crates/log/testdata/ct.
fn ct(name: &str) -> PathBuf {
    let p = workspace_root().join("crates/log/testdata/ct").join(name);
    assert!(p.exists(), "{} is missing from the repository", p.display());
    p
}

fn ct_text(name: &str) -> String {
    std::fs::read_to_string(ct(name)).expect("a test vector")
}

/// Google's Pilot log: entry 848,049 of its tree of 3,630,887.
const PILOT_LEAF: &str = "7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78";
const PILOT_ROOT: &str = "78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb";
const PILOT_INDEX: &str = "848049";
const PILOT_SIZE: &str = "3630887";

/// Pilot's audit path, one hex hash per line.
fn pilot_proof() -> Vec<String> {
    ct_text("pilot-848049.proof")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What `log check inclusion` is given.
struct Inclusion {
    leaf: String,
    index: String,
    size: String,
    root: String,
    proof: Vec<String>,
}

fn pilot() -> Inclusion {
    Inclusion {
        leaf: PILOT_LEAF.into(),
        index: PILOT_INDEX.into(),
        size: PILOT_SIZE.into(),
        root: PILOT_ROOT.into(),
        proof: pilot_proof(),
    }
}

impl Inclusion {
    /// `custody log check inclusion`, the proof written to `proof.txt`.
    fn run(&self, s: &Sandbox) -> (Option<i32>, String, String) {
        let file = s.write("proof.txt", &lines(&self.proof));
        s.run(&[
            "log",
            "check",
            "inclusion",
            "--leaf-hash",
            &self.leaf,
            "--index",
            &self.index,
            "--size",
            &self.size,
            "--root",
            &self.root,
            "--proof",
            &file.display().to_string(),
        ])
    }
}

/// What `log check consistency` is given: Argon 2027h1's two tree heads and
/// the proof between them, unless changed.
struct Consistency {
    old_size: String,
    old_root: String,
    new_size: String,
    new_root: String,
    proof: Vec<String>,
}

/// A get-sth answer's size and root.
fn sth(name: &str) -> (String, String) {
    let v: Value = serde_json::from_str(&ct_text(name)).expect("get-sth JSON");
    (
        v["tree_size"].as_u64().expect("tree_size").to_string(),
        v["sha256_root_hash"].as_str().expect("root").to_owned(),
    )
}

fn argon() -> Consistency {
    let (old_size, old_root) = sth("argon2027h1_sth1.json");
    let (new_size, new_root) = sth("argon2027h1_sth2.json");
    let v: Value =
        serde_json::from_str(&ct_text("argon2027h1_consistency.json")).expect("proof JSON");
    let proof = v["consistency"]
        .as_array()
        .expect("consistency")
        .iter()
        .map(|h| h.as_str().expect("base64").to_owned())
        .collect();
    Consistency {
        old_size,
        old_root,
        new_size,
        new_root,
        proof,
    }
}

impl Consistency {
    fn run(&self, s: &Sandbox) -> (Option<i32>, String, String) {
        let file = s.write("proof.txt", &lines(&self.proof));
        s.run(&[
            "log",
            "check",
            "consistency",
            "--old-size",
            &self.old_size,
            "--old-root",
            &self.old_root,
            "--new-size",
            &self.new_size,
            "--new-root",
            &self.new_root,
            "--proof",
            &file.display().to_string(),
        ])
    }
}

fn lines(hashes: &[String]) -> String {
    hashes.iter().map(|h| format!("{h}\n")).collect()
}

/// `hash` (hex or base64) with one bit of its last byte flipped, in the
/// same encoding.
fn flip(hash: &str) -> String {
    let decoded = if hash.len() == 64 {
        hex::decode(hash).ok()
    } else {
        BASE64_STANDARD.decode(hash).ok()
    };
    let mut bytes = decoded.expect("a hash");
    bytes[31] ^= 1;
    if hash.len() == 64 {
        hex::encode(bytes)
    } else {
        BASE64_STANDARD.encode(bytes)
    }
}

/// A case of a failure table: what `base` makes, changed, and what the
/// error must say.
fn changed<T>(
    base: fn() -> T,
    what: &str,
    change: &dyn Fn(&mut T),
    says: &'static str,
) -> (String, T, &'static str) {
    let mut case = base();
    change(&mut case);
    (what.to_owned(), case, says)
}

/// One case per hash of the proof, that hash with a bit flipped.
fn each_hash_flipped<T>(
    base: fn() -> T,
    proof: fn(&mut T) -> &mut Vec<String>,
    says: &'static str,
) -> Vec<(String, T, &'static str)> {
    let n = proof(&mut base()).len();
    (0..n)
        .map(|i| {
            let mut case = base();
            let hash = &mut proof(&mut case)[i];
            *hash = flip(hash);
            (format!("hash {i} flipped"), case, says)
        })
        .collect()
}

/// Runs each case, which must fail with exit 1 saying it does not hold and
/// why (`says`).
fn all_fail<T>(cases: &[(String, T, &str)], run: impl Fn(&T) -> (Option<i32>, String, String)) {
    assert!(!cases.is_empty());
    for (name, case, says) in cases {
        let (code, out, err) = run(case);
        assert_eq!(
            code,
            Some(1),
            "{name}: should not hold\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(
            err.contains("does not hold: ") && err.contains(says),
            "{name}: expected `{says}` in\n{err}"
        );
        assert!(out.is_empty(), "{name}: printed {out}");
    }
}

#[test]
fn pilots_published_inclusion_proof_holds() {
    let s = Sandbox::new();
    let (code, out, err) = pilot().run(&s);
    assert_eq!(code, Some(0), "{err}");
    let leaf = BASE64_STANDARD.encode(hex::decode(PILOT_LEAF).unwrap());
    let root = BASE64_STANDARD.encode(hex::decode(PILOT_ROOT).unwrap());
    assert_eq!(
        out,
        format!(
            "holds: the leaf {leaf} is entry 848,049 of the tree of 3,630,887 entries whose root \
             is {root}\nthe proof's 22 hashes lead from the leaf to that root (RFC 9162 2.1.3.2)\n"
        )
    );
    // The same in the other forms the command reads: the entry's bytes
    // instead of its hash, base64 instead of hex, the log's JSON answer.
    let entry = hex::decode(ct_text("pilot-848049.leaf.hex").trim()).unwrap();
    let entry_file = s.path("pilot.leaf");
    std::fs::write(&entry_file, entry).unwrap();
    let b64_proof: Vec<String> = pilot_proof()
        .iter()
        .map(|h| BASE64_STANDARD.encode(hex::decode(h).unwrap()))
        .collect();
    let json = s.write(
        "answer.json",
        &serde_json::json!({"leaf_index": 848049, "audit_path": b64_proof}).to_string(),
    );
    let again = s.ok(&[
        "log",
        "check",
        "inclusion",
        "--entry",
        &entry_file.display().to_string(),
        "--index",
        PILOT_INDEX,
        "--size",
        PILOT_SIZE,
        "--root",
        &root,
        "--proof",
        &json.display().to_string(),
    ]);
    assert_eq!(again, out);
}

#[test]
fn pilots_proof_changed_in_any_way_does_not_hold() {
    let s = Sandbox::new();
    let says = "does not lead from this leaf";
    let mut cases = each_hash_flipped(pilot, |c| &mut c.proof, says);
    cases.extend([
        changed(pilot, "leaf flipped", &|c| c.leaf = flip(&c.leaf), says),
        changed(pilot, "root flipped", &|c| c.root = flip(&c.root), says),
        changed(pilot, "next index", &|c| c.index = "848050".into(), says),
        changed(
            pilot,
            "previous index",
            &|c| c.index = "848048".into(),
            says,
        ),
        // Sizes whose tree gives the entry another path. One of the same
        // shape passes (RFC 9162 binds a size only so; see crates/log's
        // `a_size_is_bound_only_by_the_shape_of_the_proof`).
        changed(
            pilot,
            "a larger tree",
            &|c| c.size = "4194305".into(),
            "has 23 hashes; this one has 22",
        ),
        changed(
            pilot,
            "a smaller tree",
            &|c| c.size = "2097152".into(),
            "has 21 hashes; this one has 22",
        ),
        changed(
            pilot,
            "a much smaller tree",
            &|c| c.size = "1048576".into(),
            "has 20 hashes; this one has 22",
        ),
        changed(
            pilot,
            "last hash cut",
            &|c| {
                c.proof.pop();
            },
            "has 22 hashes; this one has 21",
        ),
        changed(
            pilot,
            "first hash cut",
            &|c| {
                c.proof.remove(0);
            },
            "has 22 hashes; this one has 21",
        ),
        changed(
            pilot,
            "a hash added",
            &|c| c.proof.push(PILOT_ROOT.into()),
            "has 22 hashes; this one has 23",
        ),
        changed(
            pilot,
            "index past the end",
            &|c| c.index = PILOT_SIZE.into(),
            "cannot be in a tree of 3,630,887 entries",
        ),
    ]);
    all_fail(&cases, |c| c.run(&s));
    // A log's answer that names another entry than the one asked about.
    let json = s.write(
        "answer.json",
        &serde_json::json!({"leaf_index": 848050, "audit_path": []}).to_string(),
    );
    let err = s.fails(&[
        "log",
        "check",
        "inclusion",
        "--leaf-hash",
        PILOT_LEAF,
        "--index",
        PILOT_INDEX,
        "--size",
        PILOT_SIZE,
        "--root",
        PILOT_ROOT,
        "--proof",
        &json.display().to_string(),
    ]);
    assert!(
        err.contains("the log's answer is the proof of entry 848,050, not of entry 848,049"),
        "{err}"
    );
    assert_eq!(pilot().run(&s).0, Some(0), "the unchanged proof holds");
}

#[test]
fn argons_published_consistency_proof_holds() {
    let s = Sandbox::new();
    let a = argon();
    let (code, out, err) = a.run(&s);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        format!(
            "holds: the tree of 384,065,451 entries with root {} is the start of the tree of \
             384,071,894 entries with root {}\nso the log only appended between them (6,443 \
             entries added; the proof's 23 hashes rebuild both roots, RFC 9162 2.1.4.2)\n",
            a.old_root, a.new_root
        )
    );
    // The log's answer as served, hex roots.
    let hex_root = |b64: &str| hex::encode(BASE64_STANDARD.decode(b64).unwrap());
    let again = s.ok(&[
        "log",
        "check",
        "consistency",
        "--old-size",
        &a.old_size,
        "--old-root",
        &hex_root(&a.old_root),
        "--new-size",
        &a.new_size,
        "--new-root",
        &hex_root(&a.new_root),
        "--proof",
        &ct("argon2027h1_consistency.json").display().to_string(),
    ]);
    assert_eq!(again, out);
}

#[test]
fn argons_proof_changed_in_any_way_does_not_hold() {
    let s = Sandbox::new();
    let rebuild = "does not rebuild both roots";
    let mut cases = each_hash_flipped(argon, |c| &mut c.proof, rebuild);
    cases.extend([
        changed(
            argon,
            "old root flipped",
            &|c| c.old_root = flip(&c.old_root),
            rebuild,
        ),
        changed(
            argon,
            "new root flipped",
            &|c| c.new_root = flip(&c.new_root),
            rebuild,
        ),
        changed(
            argon,
            "roots swapped",
            &|c| std::mem::swap(&mut c.old_root, &mut c.new_root),
            rebuild,
        ),
        changed(
            argon,
            "old size + 1",
            &|c| c.old_size = "384065452".into(),
            "has 21 hashes; this one has 23",
        ),
        changed(
            argon,
            "old size - 1",
            &|c| c.old_size = "384065450".into(),
            "has 22 hashes; this one has 23",
        ),
        // The newer size is bound only by the proof's shape, as above.
        changed(
            argon,
            "a larger new tree",
            &|c| c.new_size = "384073729".into(),
            "has 24 hashes; this one has 23",
        ),
        changed(
            argon,
            "a smaller new tree",
            &|c| c.new_size = "384065536".into(),
            "has 22 hashes; this one has 23",
        ),
        changed(
            argon,
            "last hash cut",
            &|c| {
                c.proof.pop();
            },
            "has 23 hashes; this one has 22",
        ),
        changed(
            argon,
            "first hash cut",
            &|c| {
                c.proof.remove(0);
            },
            "has 23 hashes; this one has 22",
        ),
        changed(
            argon,
            "sizes swapped",
            &|c| std::mem::swap(&mut c.old_size, &mut c.new_size),
            "a log only grows",
        ),
        changed(
            argon,
            "from the empty tree",
            &|c| c.old_size = "0".into(),
            "proves nothing",
        ),
    ]);
    all_fail(&cases, |c| c.run(&s));
    assert_eq!(argon().run(&s).0, Some(0), "the unchanged proof holds");
}

#[test]
fn malformed_input_is_named() {
    let s = Sandbox::new();
    let mut c = pilot();
    c.proof[3] = c.proof[3][1..].to_owned();
    let (code, _, err) = c.run(&s);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("proof.txt: line 4: `") && err.contains("is not a SHA-256 hash"),
        "{err}"
    );
    let mut c = pilot();
    c.root = "not-a-root".into();
    let (code, _, err) = c.run(&s);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--root: `not-a-root` is not a SHA-256 hash"),
        "{err}"
    );
}

#[test]
fn the_help_examples_check_the_published_proofs() {
    // help.rs runs the other examples on the demo; these read the
    // repository's vectors, so they run here, from its root.
    let s = Sandbox::new();
    for (command, holds) in [
        (
            "inclusion",
            "holds: the leaf ejlchm1ezbDMy2I+AR28OSzTSNHR1yd2F04SeiSwnHg= is entry 848,049",
        ),
        ("consistency", "holds: the tree of 384,065,451 entries"),
    ] {
        let help = s.ok(&["log", "check", command, "--help"]);
        let found = examples(&help);
        assert_eq!(found.len(), 1, "{help}");
        let words: Vec<&str> = found[0].split_whitespace().collect();
        assert_eq!(
            words[..4],
            ["custody", "log", "check", command],
            "{words:?}"
        );
        let out = s
            .cmd()
            .current_dir(workspace_root())
            .args(&words[1..])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with(holds),
            "{words:?}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn verifier(s: &Sandbox) -> Verifier {
    Verifier::from_text(s.ok(&["log", "key"]).trim()).expect("a verifier key")
}

#[test]
fn log_prove_prints_a_tlog_proof_any_verifier_reads() {
    let s = Sandbox::emmas_case();
    let text = s.ok(&["log", "prove", "3"]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    assert!(
        lines.next().is_some_and(|l| l.starts_with("extra ")),
        "{text}"
    );
    assert_eq!(lines.next(), Some("index 3"));
    let checkpoint = s.ok(&["log", "checkpoint"]);
    assert!(text.ends_with(&format!("\n\n{checkpoint}")), "{text}");

    let proof = TlogProof::parse(&text).expect("the spec's layout");
    let entry = proof.extra.clone().expect("the entry as extra data");
    let v = verifier(&s);
    let cp = proof.verify(&v, &leaf_hash(&entry)).expect("verifies");
    assert_eq!(cp, open_checkpoint(&checkpoint, &v).unwrap());

    // custody's own readers take it.
    s.write("entry-3.tlog-proof", &text);
    let key = v.to_text();
    let out = s.ok(&[
        "log",
        "check",
        "tlog-proof",
        "entry-3.tlog-proof",
        "--key",
        &key,
    ]);
    assert!(
        out.starts_with(&format!(
            "holds: the proof's own entry (its extra data, {} bytes) is entry 3 of the log {} as of \
             its checkpoint of {} entries",
            entry.len(),
            cp.origin,
            cp.size
        )),
        "{out}"
    );
    let out = s.ok(&["verify-receipt", "entry-3.tlog-proof", "--key", &key]);
    assert!(out.starts_with("verified: entry 3 is in the log"), "{out}");
    // The entry given apart, as bytes or as its hash.
    std::fs::write(s.path("entry-3.bin"), &entry).unwrap();
    let out = s.ok(&[
        "log",
        "check",
        "tlog-proof",
        "entry-3.tlog-proof",
        "--key",
        &key,
        "--entry",
        "entry-3.bin",
    ]);
    assert!(
        out.starts_with("holds: the entry in entry-3.bin is entry 3"),
        "{out}"
    );
    let leaf = hex::encode(leaf_hash(&entry));
    let out = s.ok(&[
        "log",
        "check",
        "tlog-proof",
        "entry-3.tlog-proof",
        "--key",
        &key,
        "--leaf-hash",
        &leaf,
    ]);
    assert!(
        out.starts_with("holds: the leaf hash given is entry 3"),
        "{out}"
    );
}

#[test]
fn a_changed_tlog_proof_does_not_hold() {
    let s = Sandbox::emmas_case();
    let text = s.ok(&["log", "prove", "3"]);
    let proof = TlogProof::parse(&text).unwrap();
    let key = verifier(&s).to_text();
    let other_entry = TlogProof::parse(&s.ok(&["log", "prove", "4"]))
        .unwrap()
        .extra
        .unwrap();
    std::fs::write(s.path("other.bin"), &other_entry).unwrap();
    let stranger = {
        let t = Sandbox::new();
        t.ok(&["init", "--origin", "stranger.example/log"]);
        verifier(&t).to_text()
    };
    let mut flipped = proof.clone();
    flipped.proof[0][0] ^= 1;
    let moved = TlogProof {
        index: 4,
        ..proof.clone()
    };
    let cut = TlogProof {
        proof: proof.proof[1..].to_vec(),
        ..proof.clone()
    };
    let bare = TlogProof {
        extra: None,
        ..proof.clone()
    };
    // Each case: the changed proof and the arguments added to the command.
    type Changed<'a> = (TlogProof, Vec<&'a str>);
    let cases: Vec<(String, Changed, &str)> = vec![
        (
            "a hash flipped".into(),
            (flipped, vec![]),
            "does not lead from this leaf",
        ),
        (
            "another index".into(),
            (moved, vec![]),
            "does not lead from this leaf",
        ),
        ("a hash cut".into(), (cut, vec![]), "this one has"),
        (
            "another entry".into(),
            (proof.clone(), vec!["--entry", "other.bin"]),
            "does not lead from this leaf",
        ),
        (
            "another key".into(),
            (proof.clone(), vec!["--key", &stranger]),
            "is not one the key stranger.example/log signed",
        ),
    ];
    all_fail(&cases, |(p, extra)| {
        s.write("changed.tlog-proof", &p.to_text());
        let mut args = vec!["log", "check", "tlog-proof", "changed.tlog-proof"];
        if !extra.contains(&"--key") {
            args.extend(["--key", &key]);
        }
        args.extend(extra.iter().copied());
        s.run(&args)
    });
    s.write("bare.tlog-proof", &bare.to_text());
    let err = s.fails(&[
        "log",
        "check",
        "tlog-proof",
        "bare.tlog-proof",
        "--key",
        &key,
    ]);
    assert!(err.contains("the proof carries no entry"), "{err}");
    let err = s.fails(&["log", "prove", "1000"]);
    assert!(err.contains("there is no entry 1000"), "{err}");
}
