-- 三资: a village's leases and its payments and receipts, the commissions'
-- risk rules, and the warnings the rules raise on every write.

CREATE TABLE sanzi_rules (
    id          TEXT PRIMARY KEY,
    commission  TEXT NOT NULL,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,           -- domain::sanzi::Rule as JSON
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX sanzi_rules_by_commission ON sanzi_rules(commission, created_at);

CREATE TABLE sanzi_contracts (
    id                   TEXT PRIMARY KEY,
    village              TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    asset_class          TEXT NOT NULL,
    asset_code           TEXT NOT NULL,
    counterparty         TEXT NOT NULL,  -- a person's or company's name, as on the contract
    counterparty_id_hash TEXT,           -- a person's ID number: keyed hash and masked form only
    counterparty_id_masked TEXT,
    area                 REAL NOT NULL,
    unit                 TEXT NOT NULL,
    annual_rent_fen      INTEGER NOT NULL,
    start_date           TEXT NOT NULL,
    end_date             TEXT NOT NULL,
    approvals            TEXT NOT NULL,  -- JSON
    created_by           TEXT NOT NULL,
    created_at           TEXT NOT NULL
);
CREATE INDEX sanzi_contracts_by_village ON sanzi_contracts(village, created_at);

CREATE TABLE sanzi_transactions (
    id              TEXT PRIMARY KEY,
    village         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount_fen      INTEGER NOT NULL,
    method          TEXT NOT NULL,
    payee           TEXT NOT NULL,
    payee_key       TEXT NOT NULL,       -- the ID number's keyed hash, else the name
    payee_id_masked TEXT,
    purpose         TEXT NOT NULL,
    on_date         TEXT NOT NULL,
    contract_id     TEXT,
    approvals       TEXT NOT NULL,       -- JSON
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX sanzi_transactions_by_payee ON sanzi_transactions(village, payee_key, on_date);

-- A warning per rule and contract or transaction.
CREATE TABLE sanzi_warnings (
    id           TEXT PRIMARY KEY,
    commission   TEXT NOT NULL,
    village      TEXT NOT NULL,
    township     TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    rule_name    TEXT NOT NULL,
    rule_kind    TEXT NOT NULL,
    subject_kind TEXT NOT NULL,          -- contract | transaction
    subject_id   TEXT NOT NULL,
    finding      TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (rule_id, subject_id)
);
CREATE INDEX sanzi_warnings_by_village ON sanzi_warnings(village, created_at);
CREATE INDEX sanzi_warnings_by_commission ON sanzi_warnings(commission, created_at);

-- What happened to a warning, oldest first.
CREATE TABLE sanzi_warning_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT,
    dedup_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX sanzi_warning_events_by_warning ON sanzi_warning_events(warning_id, id);
CREATE TRIGGER sanzi_warning_events_no_update BEFORE UPDATE ON sanzi_warning_events
BEGIN SELECT RAISE(ABORT, 'sanzi_warning_events is append-only'); END;
CREATE TRIGGER sanzi_warning_events_no_delete BEFORE DELETE ON sanzi_warning_events
BEGIN SELECT RAISE(ABORT, 'sanzi_warning_events is append-only'); END;
