-- PostgreSQL twin of migrations/sqlite/0005_audit_and_sealing.sql: the same tables, columns and rules.
-- Reporter protection and a tamper-evident record.
--
-- On PostgreSQL the triggers below hold for every role but the tables'
-- owner, who can drop them: run `jiandu migrate` as the owner, and let
-- components and workers connect as a role that only reads and writes rows.

-- Sealed values (HPKE to a commission's public key) name the commission
-- that can open them. A report about its commission's own head (检控 Art. 15)
-- is held and sealed by the next-higher commission from the start: its
-- subject, content and attachments are in `content_sealed`, and the clear
-- columns stay empty.
ALTER TABLE reports ADD COLUMN sealed_to TEXT;
ALTER TABLE reports ADD COLUMN content_sealed BYTEA;

-- 审计 — every staff action and every read of a report or an identity.
-- Each entry carries the previous entry's hash; `jiandu-worker audit verify`
-- recomputes the chain and checks the signed checkpoints.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,     -- 1, 2, 3, … without gaps
    at           TEXT NOT NULL,           -- RFC 3339, UTC
    actor        TEXT NOT NULL,           -- the token's sub
    actor_org    TEXT NOT NULL,
    actor_roles  TEXT NOT NULL,           -- comma-separated
    action       TEXT NOT NULL,           -- domain::audit::AuditAction
    object       TEXT NOT NULL,           -- e.g. report:rpt_…
    request_id   TEXT NOT NULL,
    outcome      TEXT NOT NULL,           -- done | denied
    detail       TEXT,                    -- a stated reason; never an identity
    prev_hash    BYTEA NOT NULL UNIQUE,    -- two writers cannot both follow one entry
    hash         BYTEA NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
CREATE INDEX audit_log_by_object ON audit_log(object, seq);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the audit log is append-only');

-- Checkpoints signed (Ed25519) by the worker: each vouches for the chain up
-- to entry `seq`, so cutting entries off the end is detectable too.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,       -- the last entry it covers
    hash       BYTEA NOT NULL,             -- that entry's hash
    at         TEXT NOT NULL,
    key_id     TEXT NOT NULL,             -- hex of the first 8 bytes of SHA-256 of the public key
    signature  BYTEA NOT NULL
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
FOR EACH ROW EXECUTE FUNCTION refuse_change('audit checkpoints are append-only');
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('audit checkpoints are append-only');
