-- Member cards and the card-opening component (twin of sqlite/0007): one JSON document per row.
CREATE TABLE activate_forms (
    card_id TEXT PRIMARY KEY REFERENCES cards (card_id),
    value   TEXT NOT NULL
);

CREATE TABLE members (
    user_card_id BIGINT PRIMARY KEY REFERENCES user_cards (id),
    value        TEXT NOT NULL
);

CREATE TABLE activate_tickets (
    ticket TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE component_sessions (
    session_id TEXT PRIMARY KEY,
    value      TEXT NOT NULL
);

CREATE TABLE form_answers (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id),
    value   TEXT NOT NULL
);
