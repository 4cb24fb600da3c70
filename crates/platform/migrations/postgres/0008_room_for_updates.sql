-- Room on each page for a row's next version: a code's status change and an outbox row's
-- delivery state then stay on their page without touching any index (a HOT update). Besides
-- saving work, this keeps serializable writers apart: a consume that wrote no index entry
-- cannot conflict with another consume that merely looked up a neighbouring code.
ALTER TABLE user_cards SET (fillfactor = 50);
ALTER TABLE outbox SET (fillfactor = 80);
ALTER TABLE cards SET (fillfactor = 80);

-- The writers' gate: every write transaction locks it ROW SHARE before its first query, and
-- the group commits that run jobs again after a conflict lock it EXCLUSIVE, so they run while
-- no other writer of any instance is in a transaction. LOCK TABLE takes no snapshot, so a
-- writer that waited sees what the exclusive holder committed. The table never holds rows.
CREATE TABLE writer_gate ();
