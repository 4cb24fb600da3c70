-- A used cardExt was keyed by its signature, a random SHA-1: each claim wrote a random leaf of
-- that index, one more page in the WAL per claim (and a split now and then). Keyed by the
-- cardExt's own timestamp and nonce_str first, claims signed at about the same time land on
-- the same leaf. The signature stays in the key: it covers every signed value, so a key is
-- still unique to one cardExt, and two cardExts that differ only in their code or openid are
-- still two.
CREATE TABLE used_card_ext_by_time (
    card_id   TEXT NOT NULL,
    -- The cardExt's timestamp; -1 for rows kept from before this migration, which did not
    -- store it (a claim looks those up by signature).
    signed_at INTEGER NOT NULL,
    nonce_str TEXT NOT NULL,
    signature TEXT NOT NULL,
    used_at   INTEGER NOT NULL,
    PRIMARY KEY (card_id, signed_at, nonce_str, signature)
) WITHOUT ROWID;
INSERT INTO used_card_ext_by_time (card_id, signed_at, nonce_str, signature, used_at)
    SELECT card_id, -1, '', signature, used_at FROM used_card_ext;
DROP TABLE used_card_ext;
ALTER TABLE used_card_ext_by_time RENAME TO used_card_ext;
