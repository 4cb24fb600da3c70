-- Every event is written once and looked up by its account and state (outbox_due_by_app) or
-- by id. No query reads outbox_due or outbox_by_app: the event listing filters on optional
-- values and walks the table newest first. Each of them cost an index write per event.
DROP INDEX IF EXISTS outbox_due;
DROP INDEX IF EXISTS outbox_by_app;
