-- PostgreSQL twin of migrations/sqlite/0010_problem_source_ref.sql: the same tables, columns and rules.
-- A problem recorded from a report or a clue names it.
ALTER TABLE problems ADD COLUMN source_ref TEXT;
