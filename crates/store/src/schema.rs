//! Versioned schema migrations, applied in order: for SQLite, where `PRAGMA
//! user_version` holds how many have run, and for PostgreSQL.

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
    // 4: a subject's copies indexed apart from its own record, as on
    // PostgreSQL: records_collected already finds the own record, so the
    // full (org, subject) index cost every collected record a second B-tree
    // insert for nothing.
    r#"
DROP INDEX records_subject;
CREATE INDEX records_copies_subject ON records(org, subject) WHERE origin IS NOT NULL;
"#,
    // 5: when each preference event and each disclosure was recorded, by
    // the log's clock (microseconds, strictly increasing per transaction),
    // apart from the time it claims; NULL for rows recorded before these
    // columns.
    r#"
ALTER TABLE preferences ADD COLUMN recorded INTEGER;
ALTER TABLE disclosures ADD COLUMN recorded INTEGER;
"#,
];

/// The same schema in PostgreSQL's dialect, one migration for each of
/// [`MIGRATIONS`] (so a version number means the same tables on either
/// backend); the `custody_schema` table holds how many have run.
///
/// The differences are of dialect only: identity columns for SQLite's rowids
/// (and an explicit `seq` where SQLite's rowid order is relied on), `bytea`
/// for blobs, `bigint` for seconds and counts, tables created before the
/// tables that refer to them, and plpgsql triggers that refuse what the
/// SQLite triggers refuse. TRUNCATE skips row triggers in PostgreSQL, so the
/// tables that are never deleted from refuse it too.
pub const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1: the first schema
    r#"
CREATE FUNCTION custody_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TABLE orgs (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL,
    categories text NOT NULL
);
CREATE TABLE terms (
    key text COLLATE "C" PRIMARY KEY,
    kind text NOT NULL,
    label text NOT NULL,
    definition text NOT NULL,
    parents text NOT NULL,
    org text NOT NULL REFERENCES orgs(id),
    -- insertion order, which SQLite keeps as the rowid
    seq bigint GENERATED ALWAYS AS IDENTITY
);
CREATE TABLE explicit_purposes (
    term text COLLATE "C" PRIMARY KEY,
    reason text NOT NULL
);
CREATE TABLE settings (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE notices (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org text COLLATE "C" NOT NULL REFERENCES orgs(id),
    version text COLLATE "C" NOT NULL,
    effective bigint NOT NULL,
    content_hash text NOT NULL,
    source text NOT NULL,
    published_at bigint NOT NULL,
    UNIQUE (org, version)
);
-- A published notice never changes.
CREATE TRIGGER notices_immutable BEFORE UPDATE OR DELETE ON notices
FOR EACH ROW EXECUTE FUNCTION custody_refuse('a published notice is immutable');
CREATE TRIGGER notices_untruncatable BEFORE TRUNCATE ON notices
FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse('a published notice is immutable');
CREATE TABLE collections (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org text COLLATE "C" NOT NULL REFERENCES orgs(id),
    file text NOT NULL,
    file_hash text NOT NULL,
    notice bigint NOT NULL REFERENCES notices(id),
    mapping text NOT NULL,
    columns text NOT NULL,
    categories text NOT NULL,
    at bigint NOT NULL,
    rows bigint NOT NULL
);
CREATE INDEX collections_hash ON collections(org, file_hash);
CREATE TABLE disclosures (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    from_org text COLLATE "C" NOT NULL REFERENCES orgs(id),
    to_org text NOT NULL REFERENCES orgs(id),
    on_behalf_of text REFERENCES orgs(id),
    at bigint NOT NULL,
    purposes text NOT NULL,
    categories text NOT NULL,
    basis text,
    gated boolean NOT NULL,
    note text,
    requested bigint NOT NULL,
    allowed bigint NOT NULL,
    refused bigint NOT NULL,
    not_held bigint NOT NULL,
    created_at bigint NOT NULL
);
-- origin NULL: collected by org; otherwise a copy of the origin record,
-- delivered by disclosure `received_via`. Its references are checked by
-- statement (see records_refer), not by FOREIGN KEY.
CREATE TABLE records (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org text COLLATE "C" NOT NULL,
    subject text COLLATE "C" NOT NULL,
    origin bigint,
    notice bigint,
    collection bigint,
    at bigint NOT NULL,
    consented bigint NOT NULL DEFAULT 0,
    fields text,
    received_via bigint
);
CREATE UNIQUE INDEX records_collected ON records(org, subject) WHERE origin IS NULL;
CREATE UNIQUE INDEX records_copies ON records(org, origin) WHERE origin IS NOT NULL;
-- With records_collected, every record of a subject; partial, so that
-- collecting maintains one index on (org, subject), not two.
CREATE INDEX records_copies_subject ON records(org, subject) WHERE origin IS NOT NULL;
-- every record an organisation holds, in id order, without a sort
CREATE INDEX records_org ON records(org, id);
CREATE INDEX records_origin ON records(origin) WHERE origin IS NOT NULL;
-- Consent and objection events: appended, never updated.
CREATE TABLE preferences (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    record bigint NOT NULL REFERENCES records(id),
    at bigint NOT NULL,
    action text NOT NULL,
    purpose text,
    notice bigint REFERENCES notices(id),
    source text NOT NULL
);
CREATE INDEX preferences_record ON preferences(record, at, id);
CREATE TRIGGER preferences_append_only BEFORE UPDATE ON preferences
FOR EACH ROW EXECUTE FUNCTION custody_refuse('preference events are never overwritten');
-- reasons: bit set of reason codes (0 = allowed); NULL = imported history.
-- References checked by statement (see decisions_refer).
CREATE TABLE decisions (
    disclosure bigint NOT NULL,
    record bigint NOT NULL,
    reasons bigint,
    PRIMARY KEY (disclosure, record)
);
CREATE INDEX decisions_record ON decisions(record);

-- Records and decisions are written a million rows at a time. A FOREIGN KEY
-- checks, and locks, the row referred to once for each row written: most of
-- the cost of such an insert. So their references are checked once per
-- statement, over the rows it wrote; and a table they refer to refuses to
-- lose a row still referred to. (Unlike a FOREIGN KEY, this takes no lock on
-- the row referred to: custody never deletes one.)
CREATE FUNCTION records_refer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A bulk insert has one organisation, notice and collection: look each
    -- distinct one up once.
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT org FROM fresh) r
               WHERE NOT EXISTS (SELECT 1 FROM orgs p WHERE p.id = r.org))
       OR EXISTS (SELECT 1 FROM (SELECT DISTINCT notice FROM fresh) r
                  WHERE r.notice IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM notices p WHERE p.id = r.notice))
       OR EXISTS (SELECT 1 FROM (SELECT DISTINCT collection FROM fresh) r
                  WHERE r.collection IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM collections p WHERE p.id = r.collection))
       OR EXISTS (SELECT 1 FROM (SELECT DISTINCT received_via FROM fresh) r
                  WHERE r.received_via IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM disclosures p WHERE p.id = r.received_via))
       OR EXISTS (SELECT 1 FROM fresh r WHERE r.origin IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM records p WHERE p.id = r.origin))
    THEN
        RAISE EXCEPTION 'a record refers to an organisation, notice, collection, record or disclosure that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER records_refer_insert AFTER INSERT ON records
REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION records_refer();
CREATE TRIGGER records_refer_update AFTER UPDATE ON records
REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION records_refer();
CREATE FUNCTION decisions_refer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT disclosure FROM fresh) d
               WHERE NOT EXISTS (SELECT 1 FROM disclosures p WHERE p.id = d.disclosure))
       OR EXISTS (SELECT 1 FROM fresh d
                  WHERE NOT EXISTS (SELECT 1 FROM records p WHERE p.id = d.record))
    THEN
        RAISE EXCEPTION 'a decision refers to a disclosure or record that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER decisions_refer_insert AFTER INSERT ON decisions
REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION decisions_refer();
CREATE TRIGGER decisions_refer_update AFTER UPDATE ON decisions
REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION decisions_refer();
-- On the table referred to: TG_ARGV is the referring table and column.
-- Ids gone from the table are looked for first, so that an UPDATE that
-- keeps its ids costs a probe per row and no scan of the referring table.
CREATE FUNCTION custody_still_referred_to() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vanished boolean;
    referred boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM gone g
                    WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.id = g.id))', TG_TABLE_NAME)
        INTO vanished;
    IF NOT vanished THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM gone g JOIN %I c ON c.%I = g.id
                    WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.id = g.id))',
                   TG_ARGV[0], TG_ARGV[1], TG_TABLE_NAME)
        INTO referred;
    IF referred THEN
        RAISE EXCEPTION '%.% still refers to a row gone from %', TG_ARGV[0], TG_ARGV[1], TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER orgs_delete_records_org AFTER DELETE ON orgs
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'org');
CREATE TRIGGER orgs_update_records_org AFTER UPDATE ON orgs
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'org');
CREATE TRIGGER collections_delete_records_collection AFTER DELETE ON collections
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'collection');
CREATE TRIGGER collections_update_records_collection AFTER UPDATE ON collections
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'collection');
CREATE TRIGGER disclosures_delete_records_received_via AFTER DELETE ON disclosures
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'received_via');
CREATE TRIGGER disclosures_update_records_received_via AFTER UPDATE ON disclosures
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'received_via');
CREATE TRIGGER disclosures_delete_decisions_disclosure AFTER DELETE ON disclosures
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('decisions', 'disclosure');
CREATE TRIGGER disclosures_update_decisions_disclosure AFTER UPDATE ON disclosures
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('decisions', 'disclosure');
CREATE TRIGGER records_delete_records_origin AFTER DELETE ON records
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'origin');
CREATE TRIGGER records_update_records_origin AFTER UPDATE ON records
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('records', 'origin');
CREATE TRIGGER records_delete_decisions_record AFTER DELETE ON records
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('decisions', 'record');
CREATE TRIGGER records_update_decisions_record AFTER UPDATE ON records
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION custody_still_referred_to('decisions', 'record');
"#,
    // 2: the transparency log, and the secrets behind subject commitments
    r#"
-- The entries in bundles of 256, as C2SP tlog-tiles entry bundles (each
-- entry a big-endian u16 length and its bytes): bundle idx holds entries
-- idx*256 .. idx*256+count-1. Only the last bundle grows, and only at its end.
CREATE TABLE log_bundles (
    idx bigint PRIMARY KEY,
    count bigint NOT NULL,
    entries bytea NOT NULL
);
CREATE FUNCTION log_bundles_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx <> OLD.idx OR NEW.count < OLD.count
       OR substring(NEW.entries FROM 1 FOR length(OLD.entries)) <> OLD.entries THEN
        RAISE EXCEPTION 'log entries are only ever appended'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER log_bundles_append_only BEFORE UPDATE ON log_bundles
FOR EACH ROW EXECUTE FUNCTION log_bundles_append_only();
CREATE TRIGGER log_bundles_undeletable BEFORE DELETE ON log_bundles
FOR EACH ROW EXECUTE FUNCTION custody_refuse('log entries are never deleted');
CREATE TRIGGER log_bundles_untruncatable BEFORE TRUNCATE ON log_bundles
FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse('log entries are never deleted');
-- C2SP tlog-tiles: the hashes of tile (level, idx), concatenated; the last
-- tile of each level grows until it holds 256.
CREATE TABLE log_tiles (
    level integer NOT NULL,
    idx bigint NOT NULL,
    hashes bytea NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Every signed checkpoint, as the signed note.
CREATE TABLE log_checkpoints (
    size bigint PRIMARY KEY,
    note text NOT NULL,
    signed_at bigint NOT NULL
);
CREATE TRIGGER log_checkpoints_unchangeable BEFORE UPDATE ON log_checkpoints
FOR EACH ROW EXECUTE FUNCTION custody_refuse('a signed checkpoint is never changed');
-- The HMAC key behind each organisation's subject commitments.
CREATE TABLE org_secrets (
    org text PRIMARY KEY REFERENCES orgs(id),
    secret bytea NOT NULL
);
"#,
    // 3: API keys of the HTTP server, as SHA-256 hashes only
    r#"
-- org NULL: a regulator key, which belongs to no organisation.
CREATE TABLE api_keys (
    id text COLLATE "C" PRIMARY KEY,
    org text COLLATE "C" REFERENCES orgs(id),
    role text NOT NULL,
    hash bytea NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
);
CREATE INDEX api_keys_org ON api_keys(org);
"#,
    // 4: nothing: PostgreSQL has indexed copies by subject apart
    // (records_copies_subject) since migration 1.
    r#"
SELECT 1;
"#,
    // 5: when each preference event and disclosure was recorded (see MIGRATIONS).
    r#"
ALTER TABLE preferences ADD COLUMN recorded bigint;
ALTER TABLE disclosures ADD COLUMN recorded bigint;
"#,
];
