-- PostgreSQL twin of migrations/sqlite/0011_ledger_exports.sql: the same tables, columns and rules.
-- 台账 exports: an administrator asks for one, the worker writes its file
-- and stores it in chunks, and the API serves the chunks in order.

CREATE TABLE ledger_exports (
    id            TEXT PRIMARY KEY,
    ledger        TEXT NOT NULL,      -- problems | clues | rectifications
    format        TEXT NOT NULL,      -- csv | xlsx
    org           TEXT NOT NULL,      -- the commission that asked; only it may read the export
    scope         TEXT,               -- the `org` asked for, if any
    orgs          TEXT NOT NULL,      -- JSON array: the orgs whose rows go in
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    state         TEXT NOT NULL,      -- queued | running | done | failed
    rows_total    BIGINT,            -- counted when the worker starts
    rows_written  BIGINT NOT NULL DEFAULT 0,
    bytes         BIGINT,            -- the finished file's size
    finished_at   TEXT,
    error         TEXT                -- why it failed
);
CREATE INDEX ledger_exports_by_org ON ledger_exports(org, requested_at);

CREATE TABLE ledger_export_chunks (
    export_id  TEXT NOT NULL REFERENCES ledger_exports(id),
    seq        BIGINT NOT NULL,      -- 0, 1, 2, … in file order
    data       BYTEA NOT NULL,
    PRIMARY KEY (export_id, seq)
);
