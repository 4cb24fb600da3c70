-- Room on each page for a row's next version: a code's status change and an outbox row's
-- delivery state then stay on their page without touching any index (a HOT update). Besides
-- saving work, this keeps serializable writers apart: a consume that wrote no index entry
-- cannot conflict with another consume that merely looked up a neighbouring code.
ALTER TABLE user_cards SET (fillfactor = 50);
ALTER TABLE outbox SET (fillfactor = 80);
ALTER TABLE cards SET (fillfactor = 80);
