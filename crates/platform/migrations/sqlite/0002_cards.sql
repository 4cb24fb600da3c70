-- Card templates, their QR codes and landing pages, the test whitelist, and the event outbox.
CREATE TABLE cards (
    card_id        TEXT PRIMARY KEY,
    appid          TEXT NOT NULL REFERENCES apps (appid),
    card_type      TEXT NOT NULL,
    -- The type object as /card/get shows it, without the server's fields.
    document       TEXT NOT NULL,
    status         TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity >= 0),
    total_quantity INTEGER NOT NULL CHECK (total_quantity >= 0),
    code_mode      TEXT NOT NULL CHECK (code_mode IN ('system', 'custom', 'deposit')),
    bind_openid    INTEGER NOT NULL,
    get_limit      INTEGER NOT NULL,
    -- When a pending review decides itself (delay mode); NULL waits for a person.
    review_due_at  INTEGER,
    refuse_reason  TEXT,
    create_time    INTEGER NOT NULL,
    update_time    INTEGER NOT NULL
);
CREATE INDEX cards_by_app ON cards (appid, create_time);
CREATE INDEX cards_due_for_review ON cards (review_due_at) WHERE review_due_at IS NOT NULL;

CREATE TABLE test_whitelist (
    appid    TEXT NOT NULL REFERENCES apps (appid),
    kind     TEXT NOT NULL CHECK (kind IN ('openid', 'username')),
    value    TEXT NOT NULL,
    PRIMARY KEY (appid, kind, value)
);

CREATE TABLE qrcodes (
    ticket      TEXT PRIMARY KEY,
    -- The short id in the QR's url (`/q/{url_id}`).
    url_id      TEXT NOT NULL UNIQUE,
    appid       TEXT NOT NULL REFERENCES apps (appid),
    action_name TEXT NOT NULL,
    -- The request's action_info, as given.
    action_info TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE landing_pages (
    page_id    INTEGER PRIMARY KEY,
    appid      TEXT NOT NULL REFERENCES apps (appid),
    banner     TEXT NOT NULL,
    page_title TEXT NOT NULL,
    can_share  INTEGER NOT NULL,
    scene      TEXT NOT NULL,
    card_list  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every event WeChat would push, written in the transaction of the change that causes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    appid           TEXT NOT NULL REFERENCES apps (appid),
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_app ON outbox (appid, id);
