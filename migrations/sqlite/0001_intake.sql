-- 信访举报 intake: reports, their timeline, the outbox, idempotency and follow-up throttling.

-- 检举控告 — one row per report. The reporter's identity is sealed (AEAD) and
-- never stored in clear; anonymous reports have none.
CREATE TABLE reports (
    id                TEXT PRIMARY KEY,
    receipt_code      TEXT NOT NULL UNIQUE,
    -- SHA-256 of the anonymous follow-up secret, or keyed hash of a real-name reporter's phone.
    followup_hash     BLOB NOT NULL,
    real_name         INTEGER NOT NULL CHECK (real_name IN (0, 1)),
    category          TEXT NOT NULL,
    division_code     TEXT NOT NULL,
    subject           TEXT NOT NULL,   -- JSON: the person or unit reported on
    content           TEXT NOT NULL,
    attachments       TEXT NOT NULL,   -- JSON array of attachment metadata
    identity_sealed   BLOB,            -- key id || nonce || ChaCha20-Poly1305(identity JSON)
    status            TEXT NOT NULL,
    received_at       TEXT NOT NULL,   -- RFC 3339, UTC
    acceptance_due    TEXT,            -- YYYY-MM-DD (检控 Art. 26), real-name only
    due_estimated     INTEGER NOT NULL DEFAULT 0,
    CHECK ((real_name = 1) = (identity_sealed IS NOT NULL))
);

-- What the reporter sees on follow-up, oldest first.
CREATE TABLE report_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  TEXT NOT NULL REFERENCES reports(id),
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX report_events_by_report ON report_events(report_id, id);

-- Work for Temporal, written in the same transaction as the domain row and
-- relayed by the worker: start a workflow, or signal one.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('start', 'signal')),
    workflow_type   TEXT,
    workflow_id     TEXT NOT NULL,
    signal_name     TEXT,
    payload         TEXT NOT NULL,      -- JSON
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE delivered_at IS NULL;

-- A retried POST with the same Idempotency-Key gets the first answer.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Failed follow-up attempts per client, to throttle guessing.
CREATE TABLE followup_failures (
    client        TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,  -- unix seconds
    failures      INTEGER NOT NULL
);
