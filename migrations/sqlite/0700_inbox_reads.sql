-- How far each volunteer has read their inbox (消息, issue "Web pages"): the log position
-- of the newest message they had seen. Not a fact of the ledger, so not in the log; the
-- messages themselves are the `inbox` read model.
CREATE TABLE inbox_reads (
    volunteer_id  TEXT PRIMARY KEY,
    seen_position BIGINT NOT NULL
);
