-- Member cards and the card-opening component (membercard.md, card-opening-component.md).
-- Each row is one JSON document owned by `domain::members`, looked up by its key only.

-- The activation form of a card, as /card/membercard/activateuserform/set last set it.
CREATE TABLE activate_forms (
    card_id TEXT PRIMARY KEY REFERENCES cards (card_id),
    value   TEXT NOT NULL
);

-- A member's state (activation, number, bonus, balance, field values, submitted form) by the
-- code row it belongs to.
CREATE TABLE members (
    user_card_id INTEGER PRIMARY KEY REFERENCES user_cards (id),
    value        TEXT NOT NULL
);

-- activate_tickets handed to merchants after a jump-type submission.
CREATE TABLE activate_tickets (
    ticket TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Card-opening component sessions opened by navigateToMiniProgram.
CREATE TABLE component_sessions (
    session_id TEXT PRIMARY KEY,
    value      TEXT NOT NULL
);

-- What each user typed into activation forms, to pre-fill the next one.
CREATE TABLE form_answers (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id),
    value   TEXT NOT NULL
);
