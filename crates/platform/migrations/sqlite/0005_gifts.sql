-- Gifts between users (codes.md §1): pending until accepted or timed out.
CREATE TABLE gifts (
    gift_id      TEXT PRIMARY KEY,
    user_card_id INTEGER NOT NULL REFERENCES user_cards (id),
    from_user_id TEXT NOT NULL REFERENCES users (user_id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'returned')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    to_user_id   TEXT
);
CREATE INDEX gifts_due ON gifts (status, expires_at);
