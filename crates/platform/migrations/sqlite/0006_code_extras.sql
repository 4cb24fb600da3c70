-- Per-code extras (friends' coupon mark, ticket details) and per-card cells.
ALTER TABLE user_cards ADD COLUMN mark_openid TEXT;
ALTER TABLE user_cards ADD COLUMN ticket_info TEXT;
-- {"pay_cell": bool, "self_consume_cell": {"is_open", "need_verify_cod", "need_remark_amount"}}
ALTER TABLE cards ADD COLUMN cells TEXT;
