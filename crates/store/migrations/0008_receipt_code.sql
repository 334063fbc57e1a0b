-- A finished session's receipt short code, beside the result that holds it: the public
-- lookup by code (no login) finds its session through this index instead of reading
-- every result. Sessions finished before the column existed are filled in once when the
-- server starts (reading the code out of the result's JSON takes SQL the two databases
-- do not share).
ALTER TABLE sessions ADD COLUMN receipt_code TEXT;
CREATE INDEX sessions_receipt_code ON sessions (receipt_code);
