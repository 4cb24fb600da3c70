-- Accounts, credentials and the platform's own bookkeeping (PostgreSQL twin of sqlite/0001).
-- `seq` columns keep insertion order where SQLite orders by rowid.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sequences (
    kind  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE open_platforms (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE apps (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    appid            TEXT PRIMARY KEY,
    secret           TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('service_account', 'mini_program')),
    name             TEXT NOT NULL,
    original_id      TEXT NOT NULL UNIQUE,
    open_platform_id TEXT REFERENCES open_platforms (id),
    push_url         TEXT,
    push_token       TEXT,
    push_aes_key     TEXT,
    push_mode        TEXT,
    created_at       BIGINT NOT NULL
);

CREATE TABLE users (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id        TEXT PRIMARY KEY,
    nickname       TEXT NOT NULL,
    profile        TEXT NOT NULL,
    client_os      TEXT NOT NULL,
    client_version TEXT NOT NULL,
    base_library   TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE openids (
    appid   TEXT NOT NULL REFERENCES apps (appid),
    user_id TEXT NOT NULL REFERENCES users (user_id),
    openid  TEXT NOT NULL,
    PRIMARY KEY (appid, user_id),
    UNIQUE (appid, openid)
);

CREATE TABLE unionids (
    open_platform_id TEXT NOT NULL REFERENCES open_platforms (id),
    user_id          TEXT NOT NULL REFERENCES users (user_id),
    unionid          TEXT NOT NULL,
    PRIMARY KEY (open_platform_id, user_id),
    UNIQUE (open_platform_id, unionid)
);

CREATE TABLE access_tokens (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    token         TEXT PRIMARY KEY,
    appid         TEXT NOT NULL REFERENCES apps (appid),
    kind          TEXT NOT NULL CHECK (kind IN ('normal', 'stable')),
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_until BIGINT
);
CREATE INDEX access_tokens_by_app ON access_tokens (appid, kind, issued_at);

CREATE TABLE tickets (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    ticket      TEXT PRIMARY KEY,
    appid       TEXT NOT NULL REFERENCES apps (appid),
    ticket_type TEXT NOT NULL CHECK (ticket_type IN ('wx_card', 'jsapi')),
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX tickets_by_app ON tickets (appid, ticket_type, issued_at);

CREATE TABLE login_codes (
    code        TEXT PRIMARY KEY,
    appid       TEXT NOT NULL REFERENCES apps (appid),
    user_id     TEXT NOT NULL REFERENCES users (user_id),
    session_key TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
