-- Twin of sqlite/0012: a used cardExt is keyed by its card, timestamp and nonce_str first, so
-- that claims signed at about the same time write the same index leaf instead of one at
-- random (the signature, a SHA-1). The signature stays in the key and keeps it unique to one
-- cardExt. Rows from before keep signed_at -1 and nonce_str '' and are looked up by signature.
ALTER TABLE used_card_ext
    ADD COLUMN signed_at BIGINT NOT NULL DEFAULT -1,
    ADD COLUMN nonce_str TEXT NOT NULL DEFAULT '';
ALTER TABLE used_card_ext DROP CONSTRAINT used_card_ext_pkey;
ALTER TABLE used_card_ext ADD PRIMARY KEY (card_id, signed_at, nonce_str, signature);
ALTER TABLE used_card_ext ALTER COLUMN signed_at DROP DEFAULT, ALTER COLUMN nonce_str DROP DEFAULT;
