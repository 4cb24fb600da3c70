-- Codes in users' card packages, deposited codes, and the cardExt signatures already used.
CREATE TABLE user_cards (
    id            INTEGER PRIMARY KEY,
    card_id       TEXT NOT NULL REFERENCES cards (card_id),
    -- The card's Service Account, so that a code can be found without its card_id.
    appid         TEXT NOT NULL,
    code          TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (user_id),
    -- The holder's openid in the Service Account.
    openid        TEXT NOT NULL,
    status        TEXT NOT NULL,
    begin_time    INTEGER NOT NULL,
    end_time      INTEGER NOT NULL,
    outer_str     TEXT,
    claimed_at    INTEGER NOT NULL,
    consumed_at   INTEGER,
    UNIQUE (card_id, code)
);
CREATE INDEX user_cards_by_code ON user_cards (appid, code);
CREATE INDEX user_cards_by_user ON user_cards (user_id, card_id);

CREATE TABLE deposited_codes (
    card_id TEXT NOT NULL REFERENCES cards (card_id),
    code    TEXT NOT NULL,
    issued  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (card_id, code)
);
CREATE INDEX deposited_codes_unissued ON deposited_codes (card_id, issued);

-- A cardExt signature works once (jsapi.md §8 step 5).
CREATE TABLE used_card_ext (
    card_id   TEXT NOT NULL,
    signature TEXT NOT NULL,
    used_at   INTEGER NOT NULL,
    PRIMARY KEY (card_id, signature)
);

-- Claims look a user's openids and unionids up by user; the primary keys lead with the app.
CREATE INDEX openids_by_user ON openids (user_id);
CREATE INDEX unionids_by_user ON unionids (user_id);
