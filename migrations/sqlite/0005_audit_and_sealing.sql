-- Reporter protection and a tamper-evident record.

-- Sealed values (HPKE to a commission's public key) name the commission
-- that can open them. A report about its commission's own head (检控 Art. 15)
-- is held and sealed by the next-higher commission from the start: its
-- subject, content and attachments are in `content_sealed`, and the clear
-- columns stay empty.
ALTER TABLE reports ADD COLUMN sealed_to TEXT;
ALTER TABLE reports ADD COLUMN content_sealed BLOB;

-- 审计 — every staff action and every read of a report or an identity.
-- Each entry carries the previous entry's hash; `jiandu audit verify`
-- recomputes the chain and checks the signed checkpoints.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,     -- 1, 2, 3, … without gaps
    at           TEXT NOT NULL,           -- RFC 3339, UTC
    actor        TEXT NOT NULL,           -- the token's sub
    actor_org    TEXT NOT NULL,
    actor_roles  TEXT NOT NULL,           -- comma-separated
    action       TEXT NOT NULL,           -- domain::audit::AuditAction
    object       TEXT NOT NULL,           -- e.g. report:rpt_…
    request_id   TEXT NOT NULL,
    outcome      TEXT NOT NULL,           -- done | denied
    detail       TEXT,                    -- a stated reason; never an identity
    prev_hash    BLOB NOT NULL UNIQUE,    -- two writers cannot both follow one entry
    hash         BLOB NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
CREATE INDEX audit_log_by_object ON audit_log(object, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Checkpoints signed (Ed25519) by the worker: each vouches for the chain up
-- to entry `seq`, so cutting entries off the end is detectable too.
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,       -- the last entry it covers
    hash       BLOB NOT NULL,             -- that entry's hash
    at         TEXT NOT NULL,
    key_id     TEXT NOT NULL,             -- hex of the first 8 bytes of SHA-256 of the public key
    signature  BLOB NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
