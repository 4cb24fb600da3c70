-- Per-code extras and per-card cells (twin of sqlite/0006).
ALTER TABLE user_cards ADD COLUMN mark_openid TEXT;
ALTER TABLE user_cards ADD COLUMN ticket_info TEXT;
ALTER TABLE cards ADD COLUMN cells TEXT;
