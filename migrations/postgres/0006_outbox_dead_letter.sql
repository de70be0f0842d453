-- PostgreSQL twin of migrations/sqlite/0006_outbox_dead_letter.sql: the same tables, columns and rules.
-- Outbox rows Temporal refused for good (a closed or missing workflow, a
-- wrong namespace, no permission, a payload that does not fit) are
-- dead-lettered instead of retried and forgotten. A later row of the same
-- workflow waits behind a dead one until an operator requeues it.
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
CREATE INDEX outbox_dead ON outbox(workflow_id, id) WHERE dead_at IS NOT NULL;
