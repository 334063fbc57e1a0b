-- One schema for SQLite and PostgreSQL: only types both understand (TEXT, BIGINT, BYTEA,
-- which SQLite stores as a blob), no autoincrement (ids are chosen by ujian), timestamps
-- as RFC 3339 UTC text, durations as BIGINT milliseconds.

-- A bank is stored as its files, keyed by content hash, so loading it back goes through
-- the same parser and checks as loading it from git, and yields the same hash.
CREATE TABLE banks (
    hash        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    title       TEXT NOT NULL,
    language    TEXT NOT NULL,
    item_count  BIGINT NOT NULL,
    stored_at   TEXT NOT NULL
);

CREATE TABLE bank_files (
    bank_hash   TEXT NOT NULL REFERENCES banks (hash),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (bank_hash, name)
);

CREATE TABLE bank_assets (
    bank_hash   TEXT NOT NULL REFERENCES banks (hash),
    name        TEXT NOT NULL,
    body        BYTEA NOT NULL,
    PRIMARY KEY (bank_hash, name)
);

-- One row per item, for queries and joins (which bank text an item came from).
CREATE TABLE items (
    bank_hash   TEXT NOT NULL REFERENCES banks (hash),
    item_id     TEXT NOT NULL,
    position    BIGINT NOT NULL,
    section     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    PRIMARY KEY (bank_hash, item_id)
);

-- An exam blueprint as its file text, tied to the exact bank it was checked against.
CREATE TABLE exams (
    code        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    bank_hash   TEXT NOT NULL REFERENCES banks (hash),
    source      TEXT NOT NULL,
    stored_at   TEXT NOT NULL
);

CREATE TABLE candidates (
    participant_no  TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    birth_date      TEXT,
    -- argon2id PHC string; the PIN itself is never stored.
    pin_hash        TEXT NOT NULL,
    accommodation   TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE supervisors (
    username        TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE sittings (
    id          TEXT PRIMARY KEY,
    exam_code   TEXT NOT NULL REFERENCES exams (code),
    venue       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    -- hex; the HMAC key papers are seeded from. Never sent to any client.
    secret      TEXT NOT NULL,
    token       TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE sitting_candidates (
    sitting_id      TEXT NOT NULL REFERENCES sittings (id),
    participant_no  TEXT NOT NULL REFERENCES candidates (participant_no),
    seat            TEXT,
    checked_in_at   TEXT,
    PRIMARY KEY (sitting_id, participant_no)
);

CREATE TABLE sitting_supervisors (
    sitting_id  TEXT NOT NULL REFERENCES sittings (id),
    username    TEXT NOT NULL REFERENCES supervisors (username),
    PRIMARY KEY (sitting_id, username)
);

-- One candidate's timed attempt. Time is kept as milliseconds charged so far plus the
-- instant they were last proven; see session-engine's timer for the arithmetic.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    sitting_id      TEXT NOT NULL REFERENCES sittings (id),
    participant_no  TEXT NOT NULL REFERENCES candidates (participant_no),
    status          TEXT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    extension_ms    BIGINT NOT NULL DEFAULT 0,
    used_ms         BIGINT NOT NULL DEFAULT 0,
    started_at      TEXT,
    last_seen_at    TEXT,
    finished_at     TEXT,
    finish_reason   TEXT,
    -- the published result as JSON (scores, total, passed, receipt), set on finish
    result          TEXT,
    -- the PC the candidate sits at, as the supervisor recorded it at check-in
    seat            TEXT,
    checked_in_at   TEXT,
    -- 1 while the supervisor allows one new login from another PC (a started session
    -- otherwise accepts only its existing login)
    move_allowed    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (sitting_id, participant_no)
);

-- Staff (admin, supervisor) login tokens, as SHA-256 hashes.
CREATE TABLE staff_tokens (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES supervisors (username),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Candidate login tokens, stored as SHA-256 hashes: a database leak does not give seats away.
CREATE TABLE login_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    created_at  TEXT NOT NULL
);

-- The paper: which item sits at each position and in which option order.
CREATE TABLE papers (
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    position        BIGINT NOT NULL,
    section         TEXT NOT NULL,
    item_id         TEXT NOT NULL,
    -- option labels as written, in the order shown (e.g. "CAEBD")
    option_order    TEXT NOT NULL,
    PRIMARY KEY (session_id, position)
);

-- Append-only log of everything a candidate did to their answers; the current sheet is
-- the last entry per position. Never updated, never deleted.
CREATE TABLE answer_log (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         BIGINT NOT NULL,
    -- null for actions on the whole session (finish, event)
    position    BIGINT,
    -- answer | flag | finish | event
    action      TEXT NOT NULL,
    -- answer: the label shown to the candidate, null when cleared; event: its kind
    choice      TEXT,
    flagged     BIGINT,
    client_ts   TEXT,
    server_ts   TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- Append-only, hash-chained: each row's hash covers its content and the previous hash.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE INDEX answer_log_by_session ON answer_log (session_id, position);
CREATE INDEX sessions_by_sitting ON sessions (sitting_id);
