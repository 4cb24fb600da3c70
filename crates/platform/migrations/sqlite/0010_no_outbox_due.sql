-- Twin of postgres/0010: SQLite dropped outbox_due in 0009 already, so this changes nothing
-- here; it keeps the two engines' migration lists alike.
DROP INDEX IF EXISTS outbox_due;
