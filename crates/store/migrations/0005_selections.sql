-- A selection (seleksi): its definition as the committee's `selection.toml` text, parsed
-- again by the selection crate whenever it is used, as exams are.
CREATE TABLE selections (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    stored_at   TEXT NOT NULL
);

-- Its applicants. `participant_no` is the candidate's number in `candidates` and in the
-- exams' sessions: that is how an applicant's SKD result is found. Not a foreign key:
-- applicants are imported before (or apart from) the candidates who sit the exams.
CREATE TABLE selection_applicants (
    selection_id    TEXT NOT NULL REFERENCES selections (id),
    participant_no  TEXT NOT NULL,
    name            TEXT NOT NULL,
    formation       TEXT NOT NULL,
    track           TEXT NOT NULL,
    -- IPK or diploma average in hundredths; null when the list left it blank
    education       BIGINT,
    -- YYYY-MM-DD: a tie-break, and what a candidate gives to look up their standing
    birth_date      TEXT NOT NULL,
    PRIMARY KEY (selection_id, participant_no)
);

-- A published announcement: the payload exactly as signed (JSON) and its Ed25519
-- signature. Never updated: a correction is a new row naming the one it supersedes.
CREATE TABLE announcements (
    no              TEXT PRIMARY KEY,
    selection_id    TEXT NOT NULL REFERENCES selections (id),
    -- 1, 2, … within the selection, in the order they were made
    seq             BIGINT NOT NULL,
    stage           TEXT NOT NULL,
    supersedes      TEXT REFERENCES announcements (no),
    payload         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (selection_id, seq)
);
