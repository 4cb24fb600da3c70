-- Gifts between users (twin of sqlite/0005).
CREATE TABLE gifts (
    gift_id      TEXT PRIMARY KEY,
    user_card_id BIGINT NOT NULL REFERENCES user_cards (id),
    from_user_id TEXT NOT NULL REFERENCES users (user_id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'returned')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    to_user_id   TEXT
);
CREATE INDEX gifts_due ON gifts (status, expires_at);
