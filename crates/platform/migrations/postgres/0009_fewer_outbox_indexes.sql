-- No query reads outbox_by_app: the event listing filters on optional values (one plan for
-- all of them) and walks the table newest first, and the leases use outbox_due. It cost an
-- index write per event. (The SQLite migration of this name also drops outbox_due, which no
-- SQLite query reads.)
DROP INDEX IF EXISTS outbox_by_app;
