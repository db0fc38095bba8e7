//! Versioned schema migrations, applied in order; `PRAGMA user_version` holds
//! how many have run.

pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema
    r#"
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    categories TEXT NOT NULL
);
CREATE TABLE terms (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    definition TEXT NOT NULL,
    parents TEXT NOT NULL,
    org TEXT NOT NULL REFERENCES orgs(id)
);
CREATE TABLE explicit_purposes (
    term TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    version TEXT NOT NULL,
    effective INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    UNIQUE (org, version)
);
-- A published notice never changes.
CREATE TRIGGER notices_immutable BEFORE UPDATE ON notices
BEGIN SELECT RAISE(ABORT, 'a published notice is immutable'); END;
CREATE TRIGGER notices_undeletable BEFORE DELETE ON notices
BEGIN SELECT RAISE(ABORT, 'a published notice is immutable'); END;
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    file TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    notice INTEGER NOT NULL REFERENCES notices(id),
    mapping TEXT NOT NULL,
    columns TEXT NOT NULL,
    categories TEXT NOT NULL,
    at INTEGER NOT NULL,
    rows INTEGER NOT NULL
);
CREATE INDEX collections_hash ON collections(org, file_hash);
-- origin NULL: collected by org; otherwise a copy of the origin record,
-- delivered by disclosure `received_via`.
CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    subject TEXT NOT NULL,
    origin INTEGER REFERENCES records(id),
    notice INTEGER REFERENCES notices(id),
    collection INTEGER REFERENCES collections(id),
    at INTEGER NOT NULL,
    consented INTEGER NOT NULL DEFAULT 0,
    fields TEXT,
    received_via INTEGER REFERENCES disclosures(id)
);
CREATE UNIQUE INDEX records_collected ON records(org, subject) WHERE origin IS NULL;
CREATE UNIQUE INDEX records_copies ON records(org, origin) WHERE origin IS NOT NULL;
CREATE INDEX records_subject ON records(org, subject);
-- every record an organisation holds, in id order, without a sort
CREATE INDEX records_org ON records(org);
CREATE INDEX records_origin ON records(origin) WHERE origin IS NOT NULL;
-- Consent and objection events: appended, never updated.
CREATE TABLE preferences (
    id INTEGER PRIMARY KEY,
    record INTEGER NOT NULL REFERENCES records(id),
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    purpose TEXT,
    notice INTEGER REFERENCES notices(id),
    source TEXT NOT NULL
);
CREATE INDEX preferences_record ON preferences(record, at, id);
CREATE TRIGGER preferences_append_only BEFORE UPDATE ON preferences
BEGIN SELECT RAISE(ABORT, 'preference events are never overwritten'); END;
CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY,
    from_org TEXT NOT NULL REFERENCES orgs(id),
    to_org TEXT NOT NULL REFERENCES orgs(id),
    on_behalf_of TEXT REFERENCES orgs(id),
    at INTEGER NOT NULL,
    purposes TEXT NOT NULL,
    categories TEXT NOT NULL,
    basis TEXT,
    gated INTEGER NOT NULL,
    note TEXT,
    requested INTEGER NOT NULL,
    allowed INTEGER NOT NULL,
    refused INTEGER NOT NULL,
    not_held INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
-- reasons: bit set of reason codes (0 = allowed); NULL = imported history.
CREATE TABLE decisions (
    disclosure INTEGER NOT NULL REFERENCES disclosures(id),
    record INTEGER NOT NULL REFERENCES records(id),
    reasons INTEGER,
    PRIMARY KEY (disclosure, record)
) WITHOUT ROWID;
CREATE INDEX decisions_record ON decisions(record);
"#,
    // 2: the transparency log, and the secrets behind subject commitments
    r#"
-- The entries in bundles of 256, as C2SP tlog-tiles entry bundles (each
-- entry a big-endian u16 length and its bytes): bundle idx holds entries
-- idx*256 .. idx*256+count-1. Only the last bundle grows, and only at its end.
CREATE TABLE log_bundles (
    idx INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    entries BLOB NOT NULL
);
CREATE TRIGGER log_bundles_append_only BEFORE UPDATE ON log_bundles
WHEN new.idx != old.idx OR new.count < old.count
     OR substr(new.entries, 1, length(old.entries)) != old.entries
BEGIN SELECT RAISE(ABORT, 'log entries are only ever appended'); END;
CREATE TRIGGER log_bundles_undeletable BEFORE DELETE ON log_bundles
BEGIN SELECT RAISE(ABORT, 'log entries are never deleted'); END;
-- C2SP tlog-tiles: the hashes of tile (level, idx), concatenated; the last
-- tile of each level grows until it holds 256.
CREATE TABLE log_tiles (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
-- Every signed checkpoint, as the signed note.
CREATE TABLE log_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL,
    signed_at INTEGER NOT NULL
);
CREATE TRIGGER log_checkpoints_unchangeable BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'a signed checkpoint is never changed'); END;
-- The HMAC key behind each organisation's subject commitments.
CREATE TABLE org_secrets (
    org TEXT PRIMARY KEY REFERENCES orgs(id),
    secret BLOB NOT NULL
);
"#,
    // 3: API keys of the HTTP server, as SHA-256 hashes only
    r#"
-- org NULL: a regulator key, which belongs to no organisation.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org TEXT REFERENCES orgs(id),
    role TEXT NOT NULL,
    hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_org ON api_keys(org);
"#,
];
