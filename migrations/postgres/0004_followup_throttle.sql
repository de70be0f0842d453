-- PostgreSQL twin of migrations/sqlite/0004_followup_throttle.sql: the same tables, columns and rules.
-- Follow-up throttling counts failures per receipt code, not per client
-- address: behind a gateway every reporter shares one address, and one
-- guesser must not lock them all out.
DROP TABLE followup_failures;
CREATE TABLE followup_failures (
    receipt_code  TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,  -- unix seconds
    failures      BIGINT NOT NULL
);
CREATE INDEX followup_failures_by_window ON followup_failures(window_start);
