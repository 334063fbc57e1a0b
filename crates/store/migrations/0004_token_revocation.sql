-- A candidate's login token is ended without deleting its row, so that a PC presenting it
-- is told why (`sitting_closed`, `seat_locked`) instead of only "log in first": the
-- sitting closed before its session started, another login started or took the seat
-- (`superseded`, `moved`), or the candidate logged out. Null while the token is in force.
ALTER TABLE login_tokens ADD COLUMN revoked_reason TEXT;
ALTER TABLE login_tokens ADD COLUMN revoked_at TEXT;
