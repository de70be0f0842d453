-- A problem recorded from a report or a clue names it.
ALTER TABLE problems ADD COLUMN source_ref TEXT;
