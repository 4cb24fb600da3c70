-- Every event inserted into the outbox checked its account with a key-share lock on the app's
-- row. All of an account's writers lock that one row at once, so each of them made a new
-- MultiXact and rewrote the row's header: under load, the busiest row of the database. A job
-- takes an event's account from a row it read in the same transaction (the app, a card or a
-- user card, each of an existing app), and no code deletes an app, so the key adds no safety;
-- it goes.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_appid_fkey;
