-- The time charged to the session when the line was written. Answers carry the clock,
-- so the session row is not rewritten on every answer; a reload takes the larger of this
-- and sessions.used_ms. Null on lines written before this column existed.
ALTER TABLE answer_log ADD COLUMN used_ms BIGINT;

-- Every read of the log is by session in seq order, which the primary key serves; this
-- index was never read and cost a second random page write per answer.
DROP INDEX answer_log_by_session;

-- Login looks a candidate's sessions up by participant number: without this index every
-- login scanned every session (10,000 logins at exam start: 10⁸ rows read).
CREATE INDEX sessions_by_participant ON sessions (participant_no);
-- A move to another PC ends the old PC's logins of the session.
CREATE INDEX login_tokens_by_session ON login_tokens (session_id);
