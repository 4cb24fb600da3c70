-- The leases now walk the outbox account by account on outbox_due_by_app, as SQLite's do, so no
-- query reads outbox_due any more; it cost an index write per event and per change of state.
DROP INDEX IF EXISTS outbox_due;
