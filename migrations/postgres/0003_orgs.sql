-- PostgreSQL twin of migrations/sqlite/0003_orgs.sql: the same tables, columns and rules.
-- Organisations and authority: the org tree, who holds each matter, who
-- asked for each approval, and escalation that walks the tree.

-- The org tree (组织), loaded by `jiandu migrate --orgs FILE` as one validated
-- document; `version` grows with every load that changes it, so readers can
-- cache the parsed tree until it does.
CREATE TABLE org_tree (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    tree       TEXT NOT NULL,      -- JSON, schemas/org-tree.json
    source     TEXT NOT NULL,      -- the file it came from
    loaded_at  TEXT NOT NULL
);

-- The commission that holds a report (the one serving its division).
ALTER TABLE reports ADD COLUMN org TEXT;

-- The org the person concerned belongs to (where a 函询 goes).
ALTER TABLE clues ADD COLUMN subject_org TEXT;

-- Collective decisions are taken in an org and recorded by a person.
ALTER TABLE decisions ADD COLUMN org TEXT;

-- Who asked for a detention (never its approver) and its term's last day.
ALTER TABLE detentions ADD COLUMN requested_by TEXT;
ALTER TABLE detentions ADD COLUMN term_ends_on TEXT;

-- Tasks: who asked (never the one who answers an approval), the commission
-- pressing it (督办) and the one it was elevated to (提级), and a role of the
-- assignee's org that may not see it (回避: a matter about that org's head).
ALTER TABLE tasks ADD COLUMN requested_by TEXT;
ALTER TABLE tasks ADD COLUMN supervised_by TEXT;
ALTER TABLE tasks ADD COLUMN elevated_to TEXT;
ALTER TABLE tasks ADD COLUMN withheld_from TEXT;
ALTER TABLE tasks DROP COLUMN escalated_to;
CREATE INDEX tasks_supervised ON tasks(supervised_by, status);
CREATE INDEX tasks_elevated ON tasks(elevated_to, status);
