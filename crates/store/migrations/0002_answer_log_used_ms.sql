-- The time charged to the session when the line was written. Answers carry the clock,
-- so the session row is not rewritten on every answer; a reload takes the larger of this
-- and sessions.used_ms. Null on lines written before this column existed.
ALTER TABLE answer_log ADD COLUMN used_ms BIGINT;
