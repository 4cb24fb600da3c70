-- Every event inserted into the outbox checked its account with a key-share lock on the app's
-- row. All of an account's writers lock that one row at once, so each of them made a new
-- MultiXact and rewrote the row's header: under load, the busiest row of the database. Events
-- are recorded only by jobs that read their app in the same transaction, and apps are never
-- deleted, so the key adds no safety; it goes.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_appid_fkey;
