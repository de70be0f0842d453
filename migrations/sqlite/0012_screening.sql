-- 大数据比对 — big-data screening: rosters and registers imported in
-- chunks, rules as data, runs that join them, and the suspicious records
-- (疑点) they find. ID numbers are kept only as a keyed hash (to match) and
-- masked (to show); names only sealed to the commission.

CREATE TABLE screening_imports (
    id              TEXT PRIMARY KEY,
    commission      TEXT NOT NULL,      -- the commission that screens with it
    org             TEXT NOT NULL,      -- the org the list comes from
    list            TEXT NOT NULL,      -- a ListKind
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,      -- who supplied it (民政局, 公安局车管所, ...)
    period          TEXT NOT NULL,
    digest          TEXT NOT NULL,      -- SHA-256 of the whole file: the same file twice is one import
    expected_lines  INTEGER,            -- the file's data lines, when the client says
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (commission, list, digest)
);

-- The chunks an import was sent in, each once by its sequence number.
CREATE TABLE screening_chunks (
    import_id     TEXT NOT NULL REFERENCES screening_imports(id),
    seq           INTEGER NOT NULL,
    first_line    INTEGER NOT NULL,     -- the file line of its first data line
    last_line     INTEGER NOT NULL,     -- and of its last
    digest        TEXT NOT NULL,        -- SHA-256 of the chunk as sent
    accepted      INTEGER NOT NULL,
    refused       INTEGER NOT NULL,
    names_sealed  BLOB NOT NULL,        -- its accepted lines' names, a JSON array sealed to the commission
    received_at   TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- One accepted line of a list.
CREATE TABLE screening_rows (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id    TEXT NOT NULL REFERENCES screening_imports(id),
    commission   TEXT NOT NULL,
    list         TEXT NOT NULL,
    line         INTEGER NOT NULL,
    chunk_seq    INTEGER NOT NULL,      -- its name is in this chunk's sealed names
    name_index   INTEGER NOT NULL,      -- at this position
    id_hash      TEXT,                  -- keyed hash of the ID number
    id_masked    TEXT,                  -- 370402********1234
    person_hash  TEXT NOT NULL,         -- keyed hash of name and birth date
    org          TEXT NOT NULL,         -- the line's org (a roster's township or village)
    on_date      TEXT,
    amount       REAL,
    detail       TEXT,
    UNIQUE (import_id, line)
);
CREATE INDEX screening_rows_by_id ON screening_rows(commission, list, id_hash);
CREATE INDEX screening_rows_by_person ON screening_rows(commission, list, person_hash);
CREATE INDEX screening_rows_in_order ON screening_rows(commission, list, id);

-- Lines refused, with the reason.
CREATE TABLE screening_refusals (
    import_id  TEXT NOT NULL REFERENCES screening_imports(id),
    line       INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- 比对规则 — a commission's rules; the definition is a domain `Rule` as JSON.
CREATE TABLE screening_rules (
    id          TEXT PRIMARY KEY,
    commission  TEXT NOT NULL,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX screening_rules_by_commission ON screening_rules(commission, created_at);

-- A run of a rule over the roster lines there were when it started.
CREATE TABLE screening_runs (
    id           TEXT PRIMARY KEY,
    rule_id      TEXT NOT NULL REFERENCES screening_rules(id),
    commission   TEXT NOT NULL,
    state        TEXT NOT NULL,          -- running | done
    last_row     INTEGER NOT NULL,       -- the newest roster line it covers
    after_row    INTEGER NOT NULL DEFAULT 0,  -- lines up to here are done
    rows_total   INTEGER NOT NULL,
    rows_done    INTEGER NOT NULL DEFAULT 0,
    hits         INTEGER NOT NULL DEFAULT 0, -- new hits found
    started_by   TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX screening_runs_by_rule ON screening_runs(rule_id, started_at);

-- 疑点 — one per rule and person (by the key the rule joins on), however
-- often the rule runs and however many lists name them.
CREATE TABLE screening_hits (
    id            TEXT PRIMARY KEY,
    rule_id       TEXT NOT NULL REFERENCES screening_rules(id),
    run_id        TEXT NOT NULL REFERENCES screening_runs(id),
    roster_row    INTEGER NOT NULL REFERENCES screening_rows(id),
    register_row  INTEGER NOT NULL REFERENCES screening_rows(id),
    person_key    TEXT NOT NULL,        -- the roster line's id_hash or person_hash
    commission    TEXT NOT NULL,
    owner_org     TEXT NOT NULL,
    id_masked     TEXT,
    state         TEXT NOT NULL,          -- verifying | confirmed | dismissed
    found_at      TEXT NOT NULL,
    problem_id    TEXT,
    clue_id       TEXT,
    UNIQUE (rule_id, person_key)
);
CREATE INDEX screening_hits_by_run ON screening_hits(run_id, id);
CREATE INDEX screening_hits_by_commission ON screening_hits(commission, found_at);

-- What happened to a suspicious record, oldest first.
CREATE TABLE screening_hit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hit_id     TEXT NOT NULL,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT,
    dedup_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX screening_hit_events_by_hit ON screening_hit_events(hit_id, id);
CREATE TRIGGER screening_hit_events_no_update BEFORE UPDATE ON screening_hit_events
BEGIN SELECT RAISE(ABORT, 'screening_hit_events is append-only'); END;
CREATE TRIGGER screening_hit_events_no_delete BEFORE DELETE ON screening_hit_events
BEGIN SELECT RAISE(ABORT, 'screening_hit_events is append-only'); END;
