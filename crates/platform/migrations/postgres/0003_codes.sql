-- Codes in users' card packages, deposited codes, used cardExt signatures (twin of sqlite/0003).
CREATE TABLE user_cards (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    card_id     TEXT NOT NULL REFERENCES cards (card_id),
    appid       TEXT NOT NULL,
    code        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (user_id),
    openid      TEXT NOT NULL,
    status      TEXT NOT NULL,
    begin_time  BIGINT NOT NULL,
    end_time    BIGINT NOT NULL,
    outer_str   TEXT,
    claimed_at  BIGINT NOT NULL,
    consumed_at BIGINT,
    UNIQUE (card_id, code)
);
CREATE INDEX user_cards_by_code ON user_cards (appid, code);
CREATE INDEX user_cards_by_user ON user_cards (user_id, card_id);

CREATE TABLE deposited_codes (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY,
    card_id TEXT NOT NULL REFERENCES cards (card_id),
    code    TEXT NOT NULL,
    issued  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (card_id, code)
);
CREATE INDEX deposited_codes_unissued ON deposited_codes (card_id, issued, seq);

CREATE TABLE used_card_ext (
    card_id   TEXT NOT NULL,
    signature TEXT NOT NULL,
    used_at   BIGINT NOT NULL,
    PRIMARY KEY (card_id, signature)
);

CREATE INDEX openids_by_user ON openids (user_id);
CREATE INDEX unionids_by_user ON unionids (user_id);
