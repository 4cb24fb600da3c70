-- Card templates, QR codes, landing pages, the test whitelist and the outbox (twin of sqlite/0002).
CREATE TABLE cards (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    card_id        TEXT PRIMARY KEY,
    appid          TEXT NOT NULL REFERENCES apps (appid),
    card_type      TEXT NOT NULL,
    document       TEXT NOT NULL,
    status         TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity >= 0),
    total_quantity BIGINT NOT NULL CHECK (total_quantity >= 0),
    code_mode      TEXT NOT NULL CHECK (code_mode IN ('system', 'custom', 'deposit')),
    bind_openid    BOOLEAN NOT NULL,
    get_limit      BIGINT NOT NULL,
    review_due_at  BIGINT,
    refuse_reason  TEXT,
    create_time    BIGINT NOT NULL,
    update_time    BIGINT NOT NULL
);
CREATE INDEX cards_by_app ON cards (appid, create_time);
CREATE INDEX cards_due_for_review ON cards (review_due_at) WHERE review_due_at IS NOT NULL;

CREATE TABLE test_whitelist (
    appid TEXT NOT NULL REFERENCES apps (appid),
    kind  TEXT NOT NULL CHECK (kind IN ('openid', 'username')),
    value TEXT NOT NULL,
    PRIMARY KEY (appid, kind, value)
);

CREATE TABLE qrcodes (
    ticket      TEXT PRIMARY KEY,
    url_id      TEXT NOT NULL UNIQUE,
    appid       TEXT NOT NULL REFERENCES apps (appid),
    action_name TEXT NOT NULL,
    action_info TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE landing_pages (
    page_id    BIGINT PRIMARY KEY,
    appid      TEXT NOT NULL REFERENCES apps (appid),
    banner     TEXT NOT NULL,
    page_title TEXT NOT NULL,
    can_share  BOOLEAN NOT NULL,
    scene      TEXT NOT NULL,
    card_list  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appid           TEXT NOT NULL REFERENCES apps (appid),
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_app ON outbox (appid, id);
