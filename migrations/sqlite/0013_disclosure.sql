-- 监督一点通: items each division discloses, every revision kept, and the
-- complaints (reports) filed against an item.

CREATE TABLE disclosure_items (
    id TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    revision INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_by TEXT,
    withdrawn_reason TEXT,
    visits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX disclosure_items_division ON disclosure_items (division, kind, period, id);

-- Each revision as it was published: the first, then each correction with
-- its reason. Nothing published is changed in place.
CREATE TABLE disclosure_revisions (
    item_id TEXT NOT NULL REFERENCES disclosure_items (id),
    revision INTEGER NOT NULL,
    title TEXT NOT NULL,
    period TEXT NOT NULL,
    amounts TEXT NOT NULL,
    body TEXT NOT NULL,
    attachments TEXT NOT NULL,
    reason TEXT,
    by_person TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (item_id, revision)
);
CREATE TRIGGER disclosure_revisions_no_update BEFORE UPDATE ON disclosure_revisions
BEGIN SELECT RAISE(ABORT, 'disclosure_revisions is append-only'); END;
CREATE TRIGGER disclosure_revisions_no_delete BEFORE DELETE ON disclosure_revisions
BEGIN SELECT RAISE(ABORT, 'disclosure_revisions is append-only'); END;

ALTER TABLE reports ADD COLUMN disclosure_item TEXT;
CREATE INDEX reports_disclosure_item ON reports (disclosure_item) WHERE disclosure_item IS NOT NULL;
