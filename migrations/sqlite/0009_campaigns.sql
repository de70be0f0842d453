-- 专项整治 and 联合督导: campaigns, their participants (state projected by
-- the CampaignWorkflow) and what happened to each participant.

CREATE TABLE campaigns (
    id                    TEXT PRIMARY KEY,
    org                   TEXT NOT NULL,      -- the commission that leads it
    kind                  TEXT NOT NULL,      -- special_rectification | joint_supervision
    topic                 TEXT NOT NULL,
    lead_department       TEXT NOT NULL,
    starts_on             TEXT NOT NULL,      -- YYYY-MM-DD
    ends_on               TEXT NOT NULL,
    checklist             TEXT NOT NULL,      -- JSON array of items
    self_inspection_days  INTEGER NOT NULL,
    joint_check_days      INTEGER NOT NULL,
    rectification_days    INTEGER NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            TEXT NOT NULL
);
CREATE INDEX campaigns_by_org ON campaigns(org);

-- A participant's part: `id` is `<campaign>/<org>`, the subject of its tasks.
CREATE TABLE campaign_participants (
    id           TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
    org          TEXT NOT NULL,
    state        TEXT NOT NULL
);
CREATE INDEX campaign_participants_by_campaign ON campaign_participants(campaign_id);

CREATE TABLE campaign_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id  TEXT NOT NULL,
    at              TEXT NOT NULL,
    event           TEXT NOT NULL,
    note            TEXT,
    dedup_key       TEXT NOT NULL UNIQUE
);
CREATE INDEX campaign_events_by_participant ON campaign_events(participant_id, id);
CREATE TRIGGER campaign_events_no_update BEFORE UPDATE ON campaign_events
BEGIN SELECT RAISE(ABORT, 'campaign_events is append-only'); END;
CREATE TRIGGER campaign_events_no_delete BEFORE DELETE ON campaign_events
BEGIN SELECT RAISE(ABORT, 'campaign_events is append-only'); END;

-- A problem a campaign's on-site check found, and what the check recommends.
ALTER TABLE problems ADD COLUMN campaign_id TEXT REFERENCES campaigns(id);
ALTER TABLE problems ADD COLUMN recommendation TEXT;
CREATE INDEX problems_by_campaign ON problems(campaign_id);
