-- Delivery of the outbox: a lease on the row being delivered, and every attempt kept.
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;

CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    url         TEXT NOT NULL,
    http_status INTEGER,
    answer      TEXT,
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, attempt);

-- The worker looks for due events account by account, among accounts that have a push URL,
-- so that a backlog of another account's undeliverable events costs nothing.
CREATE INDEX outbox_due_by_app ON outbox (appid, status, id);
