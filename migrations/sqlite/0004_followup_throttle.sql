-- Follow-up throttling counts failures per receipt code, not per client
-- address: behind a gateway every reporter shares one address, and one
-- guesser must not lock them all out.
DROP TABLE followup_failures;
CREATE TABLE followup_failures (
    receipt_code  TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,  -- unix seconds
    failures      INTEGER NOT NULL
);
CREATE INDEX followup_failures_by_window ON followup_failures(window_start);
