-- Delivery of the outbox (twin of sqlite/0004).
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN delivered_at BIGINT;

CREATE TABLE delivery_attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    BIGINT NOT NULL REFERENCES outbox (id),
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    url         TEXT NOT NULL,
    http_status BIGINT,
    answer      TEXT,
    error       TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, attempt);

CREATE INDEX outbox_due_by_app ON outbox (appid, status, id);
