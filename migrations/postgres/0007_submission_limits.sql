-- PostgreSQL twin of migrations/sqlite/0007_submission_limits.sql: the same tables, columns and rules.
-- Anonymous submissions counted per window and bucket: the same text
-- (a flood of one report) and each division (a flood against one
-- commission). No client address is a bucket: behind a gateway every
-- reporter shares one, and a flood must not lock them all out.
CREATE TABLE submission_windows (
    bucket        TEXT PRIMARY KEY,   -- content:<sha256> | division:<code>
    window_start  BIGINT NOT NULL,   -- unix seconds
    submissions   BIGINT NOT NULL
);
CREATE INDEX submission_windows_by_start ON submission_windows(window_start);
