-- 监督检查: inspection tours, the problems found (问题台账), their
-- rectification (projected by the RectificationWorkflow), and 提级监督.

-- 巡察 — an inspection tour of a commission: its group, period and targets.
CREATE TABLE tours (
    id          TEXT PRIMARY KEY,
    org         TEXT NOT NULL,      -- the commission that runs it
    name        TEXT NOT NULL,
    leader      TEXT NOT NULL,
    members     TEXT NOT NULL,      -- JSON array of names
    starts_on   TEXT NOT NULL,      -- YYYY-MM-DD
    ends_on     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX tours_by_org ON tours(org);

-- The orgs a tour inspects (villages, townships, departments).
CREATE TABLE tour_targets (
    tour_id  TEXT NOT NULL REFERENCES tours(id),
    org      TEXT NOT NULL,
    PRIMARY KEY (tour_id, org)
);

-- 问题 — a problem found by a tour (or a campaign, report or clue), with
-- the org responsible for it. `state` is projected by its RectificationWorkflow.
CREATE TABLE problems (
    id               TEXT PRIMARY KEY,
    source           TEXT NOT NULL,
    tour_id          TEXT REFERENCES tours(id),
    target           TEXT NOT NULL,      -- where it was found
    org              TEXT NOT NULL,      -- the commission that found it and holds the record
    responsible_org  TEXT NOT NULL,      -- the owner of its rectification
    category         TEXT NOT NULL,
    description      TEXT NOT NULL,
    evidence         TEXT NOT NULL,      -- JSON array of references
    state            TEXT NOT NULL,
    supervisor       TEXT,               -- who verifies and re-checks, once handed over
    elevated         INTEGER NOT NULL DEFAULT 0,  -- handed over under 提级监督
    recorded_by      TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    handed_at        TEXT
);
CREATE INDEX problems_by_tour ON problems(tour_id, target);
CREATE INDEX problems_by_owner ON problems(responsible_org);

-- What happened to a problem, oldest first.
CREATE TABLE problem_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id  TEXT NOT NULL,
    at          TEXT NOT NULL,
    event       TEXT NOT NULL,
    note        TEXT,
    dedup_key   TEXT NOT NULL UNIQUE
);
CREATE INDEX problem_events_by_problem ON problem_events(problem_id, id);
CREATE TRIGGER problem_events_no_update BEFORE UPDATE ON problem_events
BEGIN SELECT RAISE(ABORT, 'problem_events is append-only'); END;
CREATE TRIGGER problem_events_no_delete BEFORE DELETE ON problem_events
BEGIN SELECT RAISE(ABORT, 'problem_events is append-only'); END;

-- 巡纪联动: a clue transferred from a problem names it; one clue per problem.
ALTER TABLE clues ADD COLUMN problem_id TEXT REFERENCES problems(id);
CREATE UNIQUE INDEX clues_by_problem ON clues(problem_id) WHERE problem_id IS NOT NULL;

-- Why a task went to its org rather than the usual one (提级监督).
ALTER TABLE tasks ADD COLUMN assignment_basis TEXT;

-- 提级监督 — a village a county commission supervises directly for a
-- period. Rows are never deleted: unlisting records who and why.
CREATE TABLE elevated_villages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    village        TEXT NOT NULL,
    county         TEXT NOT NULL,      -- the commission that listed it
    starts_on      TEXT NOT NULL,      -- YYYY-MM-DD
    ends_on        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    listed_by      TEXT NOT NULL,
    listed_at      TEXT NOT NULL,
    unlisted_by    TEXT,
    unlisted_at    TEXT,
    unlist_reason  TEXT
);
CREATE INDEX elevated_by_village ON elevated_villages(village);
-- At most one listing of a village not yet unlisted.
CREATE UNIQUE INDEX elevated_one_open ON elevated_villages(village) WHERE unlisted_at IS NULL;
CREATE TRIGGER elevated_villages_no_delete BEFORE DELETE ON elevated_villages
BEGIN SELECT RAISE(ABORT, 'elevated_villages keeps its history'); END;
CREATE TRIGGER elevated_villages_only_unlist BEFORE UPDATE ON elevated_villages
WHEN OLD.unlisted_at IS NOT NULL
  OR NEW.village IS NOT OLD.village OR NEW.county IS NOT OLD.county
  OR NEW.starts_on IS NOT OLD.starts_on OR NEW.ends_on IS NOT OLD.ends_on
  OR NEW.reason IS NOT OLD.reason OR NEW.listed_by IS NOT OLD.listed_by
  OR NEW.listed_at IS NOT OLD.listed_at
BEGIN SELECT RAISE(ABORT, 'a listing is only ever unlisted, once'); END;
