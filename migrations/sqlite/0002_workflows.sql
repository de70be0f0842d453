-- Projections written by the workflows' activities, and the clue registry.

-- 问题线索 — problem clues. `state` is projected by the ClueWorkflow.
CREATE TABLE clues (
    id             TEXT PRIMARY KEY,
    source         TEXT NOT NULL,
    report_id      TEXT REFERENCES reports(id),
    org            TEXT NOT NULL,      -- the commission that holds it
    summary        TEXT NOT NULL,
    state          TEXT NOT NULL,
    disposal       TEXT,
    registered_by  TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX clues_by_report ON clues(report_id);

-- 集体决策 — collective decisions (规则 Art. 53): who attended, the outcome, dissent.
CREATE TABLE decisions (
    id           TEXT PRIMARY KEY,
    clue_id      TEXT NOT NULL REFERENCES clues(id),
    matter       TEXT NOT NULL,
    attendees    TEXT NOT NULL,   -- JSON array
    outcome      TEXT NOT NULL,
    dissent      TEXT NOT NULL,   -- JSON array of {attendee, opinion}
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX decisions_by_clue ON decisions(clue_id);

-- 留置 — one detention per clue; `state` is projected by the DetentionWorkflow.
CREATE TABLE detentions (
    clue_id       TEXT PRIMARY KEY REFERENCES clues(id),
    decision_id   TEXT NOT NULL REFERENCES decisions(id),
    state         TEXT NOT NULL,
    extensions    INTEGER NOT NULL DEFAULT 0,
    requested_at  TEXT NOT NULL,
    announced_at  TEXT,
    ends_at       TEXT,
    updated_at    TEXT NOT NULL
);

-- A human step: who must do it, by when, and how far it has escalated.
CREATE TABLE tasks (
    id                TEXT PRIMARY KEY,
    workflow_type     TEXT NOT NULL,
    workflow_id       TEXT NOT NULL,
    subject_kind      TEXT NOT NULL,   -- report | clue | detention
    subject_id        TEXT NOT NULL,
    step              TEXT NOT NULL,
    duty              TEXT NOT NULL,
    policy            TEXT,            -- deadline policy key; NULL: no time limit
    article           TEXT NOT NULL,
    statutory         INTEGER NOT NULL,
    assignee_org      TEXT NOT NULL,
    assignee_role     TEXT NOT NULL,
    outcomes          TEXT NOT NULL,   -- JSON array of allowed outcomes
    opened_at         TEXT NOT NULL,
    due_date          TEXT,
    due_at            TEXT,
    due_estimated     INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL CHECK (status IN ('open', 'overdue', 'done', 'cancelled')),
    reminders_sent    INTEGER NOT NULL DEFAULT 0,
    escalation_level  INTEGER NOT NULL DEFAULT 0,   -- 1: 督办, 2: 提级
    escalated_to      TEXT,
    outcome           TEXT,
    note              TEXT,
    closed_at         TEXT
);
CREATE INDEX tasks_inbox ON tasks(assignee_org, assignee_role, status);
CREATE INDEX tasks_by_subject ON tasks(subject_id);

-- Append-only log of what happened to each task.
CREATE TABLE task_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    TEXT NOT NULL REFERENCES tasks(id),
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,   -- opened | reminder | overdue | elevated | completed | cancelled
    detail     TEXT,
    dedup_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX task_events_by_task ON task_events(task_id, id);
CREATE TRIGGER task_events_no_update BEFORE UPDATE ON task_events
BEGIN SELECT RAISE(ABORT, 'task_events is append-only'); END;
CREATE TRIGGER task_events_no_delete BEFORE DELETE ON task_events
BEGIN SELECT RAISE(ABORT, 'task_events is append-only'); END;

-- What happened to a clue or a detention, oldest first.
CREATE TABLE clue_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    clue_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT,
    dedup_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX clue_events_by_clue ON clue_events(clue_id, id);

-- Report events written by workflows are deduplicated like the others.
ALTER TABLE report_events ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX report_events_dedup ON report_events(dedup_key) WHERE dedup_key IS NOT NULL;
