-- The time charged to the session when the line was written. Answers carry the clock,
-- so the session row is not rewritten on every answer; a reload takes the larger of this
-- and sessions.used_ms. Null on lines written before this column existed.
ALTER TABLE answer_log ADD COLUMN used_ms BIGINT;

-- Every read of the log is by session in seq order, which the primary key serves; this
-- index was never read and cost a second random page write per answer.
DROP INDEX answer_log_by_session;
